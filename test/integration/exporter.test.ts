import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { COLLECTOR_NAMES } from '../../src/exporter/collectors';
import { freePort } from '../helpers/net';
import { startProcess, waitForHttp, type StartedProcess } from '../helpers/process';
import {
  PROMTOOL_BIN,
  startPrometheus,
  waitForTargetsUp,
  type StartedPrometheus,
} from '../helpers/prometheus';
import { tempDir } from '../helpers/tmp';
import { startVigil, type StartedVigil } from '../helpers/vigil';
import { waitFor } from '../helpers/wait';

const NODE_EXPORTER_BIN = process.env.VIGIL_NODE_EXPORTER_BIN ?? 'prometheus-node-exporter';

/** vigil's own collectors, which node_exporter has no twin of. */
const VIGIL_ONLY = new Set(['hostinfo', 'logs']);

/** The collectors both exporters run: every other of vigil's, all node_exporter 1.5 Linux defaults. */
const COLLECTORS = COLLECTOR_NAMES.filter((name) => !VIGIL_ONLY.has(name));

/** The families the twin check covers: every collector's but the per-scrape durations, and the process' own. */
const CORE =
  /^node_(cpu_|memory_|filesystem_|disk_|network_|load(1|5|15)$|boot_time_seconds$|context_switches_total$|forks_total$|intr_total$|procs_|pressure_|uname_info$|time_|os_|vmstat_|netstat_|sockstat_|softnet_|nf_conntrack_|filefd_|entropy_|arp_|timex_|selinux_|textfile_|udp_queues$|scrape_collector_success$)|^(backup|batch|process)_/;

/** What cron jobs leave in the textfile directory: two good files and one cut off mid-write. */
const TEXTFILES: Record<string, string> = {
  'backup.prom':
    '# HELP backup_last_success_timestamp_seconds Last successful backup.\n# TYPE backup_last_success_timestamp_seconds gauge\nbackup_last_success_timestamp_seconds{job="db"} 1795400000\n',
  'batch.prom':
    '# TYPE batch_job_duration_seconds histogram\nbatch_job_duration_seconds_bucket{le="10"} 3\nbatch_job_duration_seconds_bucket{le="+Inf"} 4\nbatch_job_duration_seconds_sum 31\nbatch_job_duration_seconds_count 4\nbatch_jobs_running 2\n',
  'raid.prom': '# TYPE raid_degraded gauge\nraid_degraded{md="md0"} 0\nraid_degraded{md="md1"',
};

type Series = Map<string, number>;

/** name{sorted labels} -> value, from the text format. */
function parseExposition(text: string): Series {
  const series: Series = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) throw new Error(`unparsable line: ${line}`);
    const labels = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, name, value]) => `${name}="${value}"`)
      .sort()
      .join(',');
    series.set(`${match[1]}{${labels}}`, Number(match[3]));
  }
  return series;
}

const metricName = (key: string): string => key.slice(0, key.indexOf('{'));

async function scrape(url: string, accept?: string): Promise<{ type: string; body: string }> {
  const response = await fetch(`${url}/metrics`, { headers: accept ? { accept } : {} });
  return { type: response.headers.get('content-type') ?? '', body: await response.text() };
}

describe('vigil exporter beside Debian node_exporter, scraped by a real Prometheus', () => {
  let vigil: StartedVigil;
  let nodeExporter: StartedProcess;
  let nodeExporterUrl: string;
  let prometheus: StartedPrometheus;

  const textfiles = tempDir();

  beforeAll(async () => {
    for (const [name, text] of Object.entries(TEXTFILES))
      fs.writeFileSync(path.join(textfiles.path, name), text);
    const textfileFlag = `--collector.textfile.directory=${textfiles.path}`;
    vigil = await startVigil('exporter', [textfileFlag]);
    const port = await freePort();
    nodeExporter = startProcess(NODE_EXPORTER_BIN, [
      `--web.listen-address=127.0.0.1:${port}`,
      '--collector.disable-defaults',
      ...COLLECTORS.map((name) => `--collector.${name}`),
      textfileFlag,
    ]);
    nodeExporterUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${nodeExporterUrl}/metrics`, nodeExporter);
    prometheus = await startPrometheus({
      scrapeTargets: [
        { job: 'vigil', targets: [vigil.url.replace('http://', '')] },
        { job: 'node', targets: [`127.0.0.1:${port}`] },
      ],
    });
    await waitForTargetsUp(prometheus, 2);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await nodeExporter?.stop();
    await vigil?.stop();
    textfiles.remove();
  });

  it("passes promtool check metrics but for node_exporter's own names (camelCase netstat and meminfo, bits)", async () => {
    const lint = async (url: string): Promise<string[]> => {
      const { body } = await scrape(url);
      let output = '';
      try {
        output = execFileSync(PROMTOOL_BIN, ['check', 'metrics'], {
          input: body,
          encoding: 'utf8',
          stdio: 'pipe',
        });
      } catch (err) {
        const failed = err as { stdout?: string; stderr?: string };
        output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
      }
      return output.split('\n').filter((line) => line.trim() !== '');
    };
    const theirs = new Set(await lint(nodeExporterUrl));
    const ours = await lint(vigil.url);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.filter((problem) => !theirs.has(problem))).toEqual([]);
  });

  it('negotiates OpenMetrics or the Prometheus text format by the Accept header', async () => {
    const text = await scrape(vigil.url);
    expect(text.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text.body).toMatch(/^# TYPE node_cpu_seconds_total counter$/m);
    const om = await scrape(
      vigil.url,
      'application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5',
    );
    expect(om.type).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    expect(om.body).toMatch(/^# TYPE node_cpu_seconds counter$/m);
    expect(om.body).toMatch(/^node_cpu_seconds_total\{cpu="0",mode="idle"\} /m);
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    expect(om.body.match(/# EOF/g)).toHaveLength(1);
  });

  it('has a twin (same name and label set) for every core series of node_exporter', async () => {
    const ours = parseExposition((await scrape(vigil.url)).body);
    const theirs = parseExposition((await scrape(nodeExporterUrl)).body);
    const core = [...theirs.keys()].filter((key) => CORE.test(metricName(key)));
    expect(core.length).toBeGreaterThan(100);
    const missing = core.filter((key) => !ours.has(key));
    expect(missing).toEqual([]);
    // Every collector both run (all of node_exporter 1.5's Linux defaults that vigil has) succeeded.
    const failed = [...theirs.keys()]
      .filter((key) => metricName(key) === 'node_scrape_collector_success')
      .filter((key) => ours.get(key) !== 1);
    expect(failed).toEqual([]);
  });

  it('agrees with node_exporter on the values of the kernel tables, clock and textfiles', async () => {
    const ours = parseExposition((await scrape(vigil.url)).body);
    const theirs = parseExposition((await scrape(nodeExporterUrl)).body);
    const same = [
      'node_filefd_maximum{}',
      'node_entropy_pool_size_bits{}',
      'node_nf_conntrack_entries_limit{}',
      'node_netstat_Ip_Forwarding{}',
      'node_vmstat_oom_kill{}',
      'node_timex_sync_status{}',
      'node_timex_tick_seconds{}',
      'node_timex_status{}',
      'node_selinux_enabled{}',
      'node_textfile_scrape_error{}',
      'backup_last_success_timestamp_seconds{job="db"}',
      'batch_job_duration_seconds_bucket{le="+Inf"}',
      'batch_jobs_running{}',
      `node_textfile_mtime_seconds{file="${path.join(textfiles.path, 'backup.prom')}"}`,
    ];
    for (const key of same) expect([key, ours.get(key)]).toEqual([key, theirs.get(key)]);
    // The file cut off mid-write is left out by both; the scrape is otherwise whole.
    expect(ours.get('node_textfile_scrape_error{}')).toBe(1);
    expect([...ours.keys()].some((key) => key.startsWith('raid_degraded'))).toBe(false);
    // Counts that move between the two scrapes: close, and in their range.
    const near = (key: string, tolerance: number) => {
      expect([key, Math.abs(ours.get(key)! - theirs.get(key)!) <= tolerance]).toEqual([key, true]);
    };
    near('node_filefd_allocated{}', 500);
    near('node_sockstat_sockets_used{}', 50);
    near('node_netstat_Tcp_CurrEstab{}', 20);
    expect(ours.get('node_vmstat_pgfault{}')).toBeGreaterThan(0);
    expect(ours.get('node_entropy_available_bits{}')).toBeGreaterThan(0);
  });

  it('agrees with node_exporter on fixed quantities: memory, filesystem sizes, CPU count, boot time', async () => {
    const byJob = async (expr: string) =>
      Object.fromEntries(
        (await prometheus.query(expr)).map((r) => [
          `${r.metric.job}${r.metric.mountpoint ?? ''}`,
          Number(r.value[1]),
        ]),
      );
    const memory = await byJob('node_memory_MemTotal_bytes');
    expect(memory.vigil).toBe(memory.node);
    expect(memory.vigil).toBeGreaterThan(0);

    const cpus = await byJob('count by (job) (node_cpu_seconds_total{mode="idle"})');
    expect(cpus.vigil).toBe(cpus.node);

    const boot = await byJob('node_boot_time_seconds');
    expect(Math.abs(boot.vigil - boot.node)).toBeLessThan(1);

    const sizes = (await prometheus.query('node_filesystem_size_bytes')).filter(
      (r) => r.metric.job === 'node',
    );
    expect(sizes.length).toBeGreaterThan(0);
    for (const size of sizes) {
      const twin = await prometheus.query(
        `node_filesystem_size_bytes{job="vigil",mountpoint="${size.metric.mountpoint}",device="${size.metric.device}"}`,
      );
      expect(twin.map((r) => r.value[1])).toEqual([size.value[1]]);
    }
  });

  it('rate() of its counters is sane: never negative, CPU modes summing to about 1 per CPU', async () => {
    // A series older than the 10 s window, so rate() does not have to extrapolate to its start.
    await waitFor(
      async () => (await prometheus.query('count_over_time(node_load1{job="vigil"}[20s]) >= 14')).length > 0,
      {
        what: '14 scrapes of vigil',
      },
    );
    const counters = [...(await scrape(vigil.url)).body.matchAll(/^# TYPE (node_\w+) counter$/gm)].map(
      (m) => m[1],
    );
    expect(counters.length).toBeGreaterThan(30);
    const negative: string[] = [];
    for (const name of counters) {
      const lowest = await prometheus.query(`min(rate(${name}{job="vigil"}[10s]))`);
      if (lowest.length > 0 && Number(lowest[0].value[1]) < 0) negative.push(name);
    }
    expect(negative).toEqual([]);

    const perCpu = await prometheus.query('sum by (cpu) (rate(node_cpu_seconds_total{job="vigil"}[10s]))');
    expect(perCpu.length).toBeGreaterThan(0);
    for (const cpu of perCpu) {
      expect(Number(cpu.value[1])).toBeGreaterThan(0.9);
      expect(Number(cpu.value[1])).toBeLessThan(1.1);
    }
  });

  it('has every metric of "Node Exporter Full" that node_exporter produces here with these collectors', async () => {
    const dashboard = fs
      .readFileSync(
        path.join(__dirname, '..', 'fixtures', 'exporter', 'node-exporter-full-metrics.txt'),
        'utf8',
      )
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    const theirs = new Set([...parseExposition((await scrape(nodeExporterUrl)).body).keys()].map(metricName));
    const ours = new Set([...parseExposition((await scrape(vigil.url)).body).keys()].map(metricName));
    const used = dashboard.filter((name) => theirs.has(name));
    expect(used.length).toBeGreaterThan(100);
    expect(used.filter((name) => !ours.has(name))).toEqual([]);
  });
});
