/**
 * vigil's Grafana dashboards, built with Grafana's typed foundation SDK. `npm run grafana` writes
 * them to grafana/dashboards/*.json; a test checks that the committed files are what this code
 * builds and that every panel query returns data from a Prometheus scraping vigil.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as BarGaugeBuilder } from '@grafana/grafana-foundation-sdk/bargauge';
import {
  ReduceDataOptionsBuilder,
  StackingConfigBuilder,
  StackingMode,
  VizOrientation,
} from '@grafana/grafana-foundation-sdk/common';
import { DEFAULT_RULES } from '../src/config/detector';

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const TAGS = ['vigil'];

/**
 * A Prometheus query of a panel: `instant` for stats that show the latest value, `table` for
 * tables (an instant query in table format, one row per series with its labels as columns).
 */
function query(
  expr: string,
  legend = '',
  options: { instant?: boolean; table?: boolean; refId?: string } = {},
): DataqueryBuilder {
  const builder = new DataqueryBuilder()
    .datasource(DATASOURCE)
    .expr(expr)
    .legendFormat(legend || '__auto');
  if (options.refId) builder.refId(options.refId);
  if (options.instant || options.table) builder.instant();
  if (options.table) builder.format(PromQueryFormat.Table);
  return builder;
}

function datasourceVariable(): DatasourceVariableBuilder {
  return new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus');
}

function labelVariable(name: string, label: string, definition: string, multi = false): QueryVariableBuilder {
  const variable = new QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query({ query: definition, refId: `${name}-variable` })
    .definition(definition)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
  if (multi) variable.multi(true).includeAll(true).allValue('.*');
  return variable;
}

function timeseries(title: string, unit: string, targets: DataqueryBuilder[], span = 12): TimeseriesBuilder {
  return new TimeseriesBuilder()
    .title(title)
    .datasource(DATASOURCE)
    .unit(unit)
    .targets(targets)
    .span(span)
    .height(8)
    .fillOpacity(10);
}

function stacked(panel: TimeseriesBuilder): TimeseriesBuilder {
  return panel.stacking(new StackingConfigBuilder().mode(StackingMode.Normal)).fillOpacity(40);
}

function stat(title: string, unit: string, expr: string, span = 4): StatBuilder {
  return new StatBuilder()
    .title(title)
    .datasource(DATASOURCE)
    .unit(unit)
    .withTarget(query(expr, title, { instant: true }))
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .span(span)
    .height(4);
}

/** Green below `warn`, orange from it, red from `critical`. */
function levels(warn: number, critical: number): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    { value: null, color: 'green' },
    { value: warn, color: 'orange' },
    { value: critical, color: 'red' },
  ]);
}

/** A table of instant queries, merged into one row per series and with the time column hidden. */
function table(
  title: string,
  targets: DataqueryBuilder[],
  rename: Record<string, string>,
  span = 24,
): TableBuilder {
  return new TableBuilder()
    .title(title)
    .datasource(DATASOURCE)
    .targets(targets)
    .span(span)
    .height(8)
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation({
      id: 'organize',
      options: { excludeByName: { Time: true, __name__: true }, renameByName: rename },
    });
}

function hostOverview(): DashboardBuilder {
  const host = 'job="$job",instance="$instance"';
  return new DashboardBuilder('vigil / Host overview')
    .uid('vigil-host-overview')
    .tags(TAGS)
    .description('One host: CPU, memory, filesystems, disks, network, load, pressure and inventory.')
    .refresh('1m')
    .time({ from: 'now-6h', to: 'now' })
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(datasourceVariable())
    .withVariable(labelVariable('job', 'Job', 'label_values(node_memory_MemTotal_bytes, job)'))
    .withVariable(
      labelVariable('instance', 'Host', 'label_values(node_memory_MemTotal_bytes{job="$job"}, instance)'),
    )
    .withRow(new RowBuilder('Summary'))
    .withPanel(
      stat('CPU busy', 'percentunit', `instance:node_cpu_busy:ratio{${host}}`).thresholds(levels(0.7, 0.9)),
    )
    .withPanel(
      stat('Memory used', 'percentunit', `instance:node_memory_used:ratio{${host}}`).thresholds(
        levels(0.8, 0.9),
      ),
    )
    .withPanel(
      stat('Load per core', 'short', `instance:node_load1_per_cpu:ratio{${host}}`).thresholds(levels(1, 2)),
    )
    .withPanel(
      stat(
        'Root filesystem used',
        'percentunit',
        `instance_mountpoint:node_filesystem_used:ratio{${host},mountpoint="/"}`,
      ).thresholds(levels(0.8, 0.95)),
    )
    .withPanel(stat('CPUs', 'short', `instance:node_num_cpu:sum{${host}}`))
    .withPanel(stat('Up since', 's', `time() - node_boot_time_seconds{${host}}`))
    .withPanel(
      table('Host inventory', [query(`vigil_host_info{${host}}`, '', { table: true })], {
        cpu_model: 'CPU model',
        cpu_cores: 'Cores',
        cpu_physical_cores: 'Physical cores',
        memory_bytes: 'Memory (bytes)',
      })
        .height(4)
        .overrideByName('Value', [{ id: 'custom.hidden', value: true }]),
    )
    .withPanel(
      table('Kernel', [query(`node_uname_info{${host}}`, '', { table: true })], {})
        .height(4)
        .overrideByName('Value', [{ id: 'custom.hidden', value: true }]),
    )
    .withRow(new RowBuilder('CPU and load'))
    .withPanel(
      stacked(
        timeseries('CPU by mode (share of all CPUs)', 'percentunit', [
          query(
            `avg without (cpu) (rate(node_cpu_seconds_total{${host},mode!="idle"}[$__rate_interval]))`,
            '{{mode}}',
          ),
        ]),
      ).max(1),
    )
    .withPanel(
      timeseries('Load', 'short', [
        query(`node_load1{${host}}`, '1m'),
        query(`node_load5{${host}}`, '5m'),
        query(`node_load15{${host}}`, '15m'),
        query(`instance:node_num_cpu:sum{${host}}`, 'CPUs'),
      ]),
    )
    .withRow(new RowBuilder('Memory'))
    .withPanel(
      stacked(
        timeseries('Memory', 'bytes', [
          query(`node_memory_MemTotal_bytes{${host}} - node_memory_MemAvailable_bytes{${host}}`, 'used'),
          query(
            `node_memory_Buffers_bytes{${host}} + node_memory_Cached_bytes{${host}}`,
            'buffers and cache',
          ),
          query(`node_memory_MemFree_bytes{${host}}`, 'free'),
        ]),
      ),
    )
    .withPanel(
      timeseries('Pressure: share of time some tasks waited', 'percentunit', [
        query(`rate(node_pressure_cpu_waiting_seconds_total{${host}}[$__rate_interval])`, 'CPU'),
        query(`rate(node_pressure_memory_waiting_seconds_total{${host}}[$__rate_interval])`, 'memory'),
        query(`rate(node_pressure_io_waiting_seconds_total{${host}}[$__rate_interval])`, 'I/O'),
      ]),
    )
    .withRow(new RowBuilder('Filesystems and disks'))
    .withPanel(
      timeseries('Filesystem used', 'percentunit', [
        query(`instance_mountpoint:node_filesystem_used:ratio{${host}}`, '{{mountpoint}}'),
      ])
        .max(1)
        .span(8),
    )
    .withPanel(
      timeseries('Disk busy (I/O utilisation)', 'percentunit', [
        query(`instance_device:node_disk_io_time_seconds:rate5m{${host}}`, '{{device}}'),
      ]).span(8),
    )
    .withPanel(
      timeseries('Disk throughput', 'Bps', [
        query(`rate(node_disk_read_bytes_total{${host}}[$__rate_interval])`, '{{device}} read'),
        query(`rate(node_disk_written_bytes_total{${host}}[$__rate_interval])`, '{{device}} written'),
      ]).span(8),
    )
    .withRow(new RowBuilder('Network'))
    .withPanel(
      timeseries('Network traffic', 'Bps', [
        query(
          `rate(node_network_receive_bytes_total{${host},device!="lo"}[$__rate_interval])`,
          '{{device}} received',
        ),
        query(
          `rate(node_network_transmit_bytes_total{${host},device!="lo"}[$__rate_interval])`,
          '{{device}} sent',
        ),
      ]),
    )
    .withPanel(
      timeseries('Network errors', 'pps', [
        query(
          `rate(node_network_receive_errs_total{${host},device!="lo"}[$__rate_interval])`,
          '{{device}} receive',
        ),
        query(
          `rate(node_network_transmit_errs_total{${host},device!="lo"}[$__rate_interval])`,
          '{{device}} transmit',
        ),
      ]),
    );
}

function fleet(): DashboardBuilder {
  const job = 'job="$job"';
  return new DashboardBuilder('vigil / Fleet')
    .uid('vigil-fleet')
    .tags(TAGS)
    .description(
      'Every host of a job: one row per host, memory per host, hosts by CPU count, hosts missing data.',
    )
    .refresh('1m')
    .time({ from: 'now-24h', to: 'now' })
    .withVariable(datasourceVariable())
    .withVariable(labelVariable('job', 'Job', 'label_values(node_memory_MemTotal_bytes, job)'))
    .withPanel(stat('Hosts up', 'short', `count(up{${job}} == 1) or vector(0)`, 6))
    .withPanel(
      stat(
        'Hosts missing data (under 3 good scrapes in 5 minutes)',
        'short',
        `count(sum_over_time(up{${job}}[5m]) < 3) or vector(0)`,
        6,
      ).thresholds(levels(1, 1)),
    )
    .withPanel(
      new BarGaugeBuilder()
        .title('Hosts by CPU count')
        .datasource(DATASOURCE)
        .withTarget(
          query(`count_values("cpus", instance:node_num_cpu:sum{${job}})`, '{{cpus}} CPUs', {
            instant: true,
          }),
        )
        .orientation(VizOrientation.Horizontal)
        .span(12)
        .height(4),
    )
    .withPanel(
      table(
        'Hosts',
        [
          query(`instance:node_num_cpu:sum{${job}}`, '', { table: true, refId: 'cpus' }),
          query(`node_memory_MemTotal_bytes{${job}}`, '', { table: true, refId: 'memory' }),
          query(`instance:node_cpu_busy:ratio{${job}}`, '', { table: true, refId: 'cpu_busy' }),
          query(`instance:node_memory_used:ratio{${job}}`, '', { table: true, refId: 'memory_used' }),
          query(`instance:node_load1_per_cpu:ratio{${job}}`, '', { table: true, refId: 'load' }),
          query(`sum_over_time(up{${job}}[5m])`, '', { table: true, refId: 'scrapes' }),
        ],
        {
          'Value #cpus': 'CPUs',
          'Value #memory': 'Memory',
          'Value #cpu_busy': 'CPU busy',
          'Value #memory_used': 'Memory used',
          'Value #load': 'Load per core',
          'Value #scrapes': 'Good scrapes in 5 min',
        },
      )
        .height(10)
        .overrideByName('Memory', [{ id: 'unit', value: 'bytes' }])
        .overrideByName('CPU busy', [{ id: 'unit', value: 'percentunit' }])
        .overrideByName('Memory used', [{ id: 'unit', value: 'percentunit' }])
        .overrideByName('Good scrapes in 5 min', [
          {
            id: 'thresholds',
            value: {
              mode: 'absolute',
              steps: [
                { value: null, color: 'red' },
                { value: 3, color: 'green' },
              ],
            },
          },
          { id: 'custom.cellOptions', value: { type: 'color-background' } },
        ]),
    )
    .withPanel(
      timeseries('Memory used per host (5-minute averages)', 'percentunit', [
        query(`avg_over_time(instance:node_memory_used:ratio{${job}}[5m])`, '{{instance}}'),
      ])
        .interval('5m')
        .max(1),
    )
    .withPanel(
      timeseries('CPU busy per host', 'percentunit', [
        query(`instance:node_cpu_busy:ratio{${job}}`, '{{instance}}'),
      ]).max(1),
    );
}

/**
 * A shipped rule's value, limited to the chosen hosts, with the detector's expected value and
 * normal band around it (the area between lower and upper is filled).
 */
function bandPanel(rule: string, observed: string | undefined): TimeseriesBuilder {
  const selector = `rule="${rule}",instance=~"$instance",detector="$detector"`;
  const targets = [
    query(`vigil_anomaly_expected{${selector}}`, 'expected {{instance}}', { refId: 'expected' }),
    query(`vigil_anomaly_lower{${selector}}`, 'lower {{instance}}', { refId: 'lower' }),
    query(`vigil_anomaly_upper{${selector}}`, 'upper {{instance}}', { refId: 'upper' }),
  ];
  if (observed !== undefined) {
    targets.unshift(
      query(
        `(${observed}) and on (instance) vigil_anomaly{rule="${rule}",instance=~"$instance"}`,
        'value {{instance}}',
        {
          refId: 'value',
        },
      ),
    );
  }
  return timeseries(`${rule}: value and normal band`, 'short', targets)
    .overrideByQuery('upper', [
      { id: 'custom.fillBelowTo', value: 'lower' },
      { id: 'custom.lineWidth', value: 0 },
      { id: 'custom.fillOpacity', value: 20 },
    ])
    .overrideByQuery('lower', [{ id: 'custom.lineWidth', value: 0 }])
    .overrideByQuery('expected', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }]);
}

function anomalies(): DashboardBuilder {
  const dashboard = new DashboardBuilder('vigil / Anomalies')
    .uid('vigil-anomalies')
    .tags(TAGS)
    .description(
      "The detector's verdicts: what is anomalous now, the scores, and each rule's value in its normal band.",
    )
    .refresh('1m')
    .time({ from: 'now-24h', to: 'now' })
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(datasourceVariable())
    .withVariable(labelVariable('rule', 'Rule', 'label_values(vigil_anomaly, rule)', true))
    .withVariable(
      labelVariable('instance', 'Host', 'label_values(vigil_anomaly{rule=~"$rule"}, instance)', true),
    )
    .withVariable(labelVariable('detector', 'Detector', 'label_values(vigil_anomaly_expected, detector)'))
    .withPanel(
      table(
        'Anomalous now',
        [query('vigil_anomaly{rule=~"$rule"} == 1', '', { table: true })],
        {},
      ).overrideByName('Value', [{ id: 'custom.hidden', value: true }]),
    )
    .withPanel(
      timeseries('Anomaly score (standard deviations from the baseline)', 'short', [
        query(
          'vigil_anomaly_score{rule=~"$rule",instance=~"$instance"}',
          '{{rule}} {{detector}} {{instance}}',
        ),
      ]),
    )
    .withPanel(
      timeseries('Series flagged anomalous, per rule', 'short', [
        query('sum by (rule) (vigil_anomaly{rule=~"$rule"})', '{{rule}}'),
      ]),
    )
    .withRow(new RowBuilder('Shipped rules: value and normal band'));
  // The shipped rules' own queries, so the value drawn is exactly what the detector scores.
  for (const rule of DEFAULT_RULES) dashboard.withPanel(bandPanel(rule.name, rule.query));
  return dashboard
    .withRow(new RowBuilder('Every rule: expected value and normal band'))
    .withPanel(
      bandPanel('$rule', undefined).title('$rule: expected value and normal band').repeat('rule').span(24),
    );
}

/** File name (under grafana/dashboards/) -> dashboard model. */
export function buildDashboards(): Record<string, Dashboard> {
  const builders: Record<string, cog.Builder<Dashboard>> = {
    'host-overview.json': hostOverview(),
    'fleet.json': fleet(),
    'anomalies.json': anomalies(),
  };
  return Object.fromEntries(
    Object.entries(builders).map(([file, builder]) => [file, numbered(builder.build())]),
  );
}

/**
 * Gives every panel a unique id and every query a refId (A, B, ... unless named), as Grafana
 * itself would when saving: links to a panel and per-query overrides rely on them.
 */
function numbered(dashboard: Dashboard): Dashboard {
  let id = 0;
  for (const panel of dashboard.panels ?? []) {
    panel.id = ++id;
    if (!('targets' in panel) || panel.targets === undefined) continue;
    panel.targets.forEach((target, i) => {
      const query = target as { refId?: string };
      query.refId ??= String.fromCharCode(65 + i);
    });
  }
  return dashboard;
}

/** The text of a dashboard file: JSON, two-space indented, with a final newline. */
export function dashboardFileText(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
