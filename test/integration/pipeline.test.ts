/**
 * The whole pipeline with the repository's operations files, every part a real process:
 * exporter -> Prometheus (prometheus/prometheus.yml's jobs, the recording and alert rules) ->
 * detector -> Prometheus -> Alertmanager (alertmanager/alertmanager.yml) -> bridge -> SMTP.
 * Only the waits are shortened: scrapes and evaluations every second, the rules' `for:` in
 * seconds instead of minutes, Alertmanager's group waits in seconds, a 2-second detector step.
 *
 * A stand-in host (web-1) serves node_exporter's memory metrics: 20 minutes of its history are
 * backfilled with promtool, so the detector has a normal band for it from the start; then its
 * memory use jumps from 40 % to 97 %, which raises both the detector's anomaly (VigilAnomaly) and
 * the static threshold (NodeMemoryHighUtilization), and falls back, which resolves both.
 * The dashboards' panels are checked against the same Prometheus while the anomaly is on.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ParsedMail } from 'mailparser';
import YAML from 'yaml';
import { DEFAULT_RULES } from '../../src/config/detector';
import { startSmtpSink, type SmtpSink } from '../bridge/smtp-sink';
import { startAlertmanager, type StartedAlertmanager } from '../helpers/alertmanager';
import { startMetricsTarget, type MetricsTarget } from '../helpers/metrics-target';
import { freePort } from '../helpers/net';
import { startPrometheus, waitForTargetsUp, type StartedPrometheus } from '../helpers/prometheus';
import { tempDir } from '../helpers/tmp';
import { startVigil, type StartedVigil } from '../helpers/vigil';
import { waitFor } from '../helpers/wait';
import { REPO, scaledRuleFiles, testAlertmanagerConfig, testPrometheusConfig } from '../operations/files';

jest.setTimeout(240_000);

const MEMORY_BYTES = 8e9;
const STEP_S = 2;

/** Memory used by the stand-in host: about 40 % with a little movement, or 97 % while jumped. */
function usedRatio(t: number, jumped: boolean): number {
  return jumped ? 0.97 : 0.4 + 0.01 * Math.sin(t / 7);
}

/** The stand-in's memory metrics; the backfill carries the labels a scrape of it gets. */
function memoryLines(instance: string | undefined, t: number, jumped: boolean): string[] {
  const labels = instance === undefined ? '' : `{instance="${instance}",job="node"}`;
  const at = instance === undefined ? '' : ` ${t}`;
  const available = Math.round(MEMORY_BYTES * (1 - usedRatio(t, jumped)));
  return [
    `node_memory_MemTotal_bytes${labels} ${MEMORY_BYTES}${at}`,
    `node_memory_MemAvailable_bytes${labels} ${available}${at}`,
  ];
}

/** OpenMetrics for promtool: 20 minutes of the stand-in host at the detector's step. */
function history(instance: string, now: number): string {
  const lines = ['# TYPE node_memory_MemTotal_bytes gauge', '# TYPE node_memory_MemAvailable_bytes gauge'];
  const total: string[] = [];
  const available: string[] = [];
  for (let t = now - 20 * 60; t <= now - STEP_S; t += STEP_S) {
    const [a, b] = memoryLines(instance, t, false);
    total.push(a);
    available.push(b);
  }
  return `${[lines[0], ...total, lines[1], ...available].join('\n')}\n# EOF\n`;
}

const subjectOf = (mail: ParsedMail): string => mail.subject ?? '';

describe('the pipeline with the shipped Prometheus rules and Alertmanager configuration', () => {
  const dir = tempDir('vigil-pipeline-');
  let jumped = false;
  let web1: MetricsTarget;
  let smtp: SmtpSink;
  let exporter: StartedVigil;
  let detector: StartedVigil;
  let bridge: StartedVigil;
  let alertmanager: StartedAlertmanager;
  let prometheus: StartedPrometheus;

  // Alertmanager groups by alertname and instance: "[FIRING:1] VigilAnomaly 127.0.0.1:4711 (job=node ...)".
  const mailsAbout = (alertname: string, instance: string, status: 'FIRING' | 'RESOLVED'): ParsedMail[] =>
    smtp.mails
      .map((m) => m.parsed)
      .filter(
        (m) => subjectOf(m).startsWith(`[${status}`) && subjectOf(m).includes(`] ${alertname} ${instance} (`),
      );

  beforeAll(async () => {
    web1 = await startMetricsTarget(
      () => `${memoryLines(undefined, Date.now() / 1000, jumped).join('\n')}\n`,
    );
    smtp = await startSmtpSink(await freePort(), { starttls: false });
    exporter = await startVigil('exporter');
    const [detectorPort, bridgePort] = [await freePort(), await freePort()];
    const bridgeUrl = `http://127.0.0.1:${bridgePort}`;
    alertmanager = await startAlertmanager(testAlertmanagerConfig(bridgeUrl));
    const rulesDir = path.join(dir.path, 'rules');
    fs.mkdirSync(rulesDir);
    prometheus = await startPrometheus({
      backfillOpenMetrics: history(web1.address, Math.floor(Date.now() / 1000)),
      config: testPrometheusConfig({
        targets: {
          node: [exporter.url.replace('http://', ''), web1.address],
          'vigil-detector': [`127.0.0.1:${detectorPort}`],
          'vigil-bridge': [`127.0.0.1:${bridgePort}`],
        },
        ruleFiles: scaledRuleFiles(rulesDir, 60),
        alertmanager: alertmanager.address,
      }),
    });
    const config = {
      detector: {
        prometheus: { url: prometheus.url, retries: 1 },
        lag: `${STEP_S}s`,
        overlap: '10s',
        defaults: {
          step: `${STEP_S}s`,
          clear_points: 3,
          // Minutes instead of days: a 4-sigma z-score band over 10 minutes, a 10-minute seen range.
          zscore: { window: '10m', buckets: 20, min_points: 15, threshold: 4 },
          seasonal: { enabled: false },
          range: { window: '10m', buckets: 10, min_history: '5m' },
          refractory: '10m',
        },
        // The shipped rules, as they are.
        rules: DEFAULT_RULES,
      },
      bridge: {
        prometheus: { url: prometheus.url, retries: 1 },
        external_url: bridgeUrl,
        spool_dir: path.join(dir.path, 'spool'),
        routes: { default: ['ops-mail'], critical: ['ops-mail'], warning: ['ops-mail'] },
        channels: [
          {
            name: 'ops-mail',
            type: 'email',
            from: 'vigil@example.com',
            to: ['ops@example.com'],
            smtp: { host: '127.0.0.1', port: smtp.port },
          },
        ],
        watchdog: { enabled: true },
        graph: { lookback: '10m' },
      },
    };
    const configFile = path.join(dir.path, 'vigil.yml');
    fs.writeFileSync(configFile, YAML.stringify(config));
    [detector, bridge] = await Promise.all([
      startVigil('detector', ['--config', configFile], {}, detectorPort),
      startVigil('bridge', ['--config', configFile], {}, bridgePort),
    ]);
    await waitForTargetsUp(prometheus, 4);
  });

  afterAll(async () => {
    await Promise.all([detector?.stop(), bridge?.stop(), exporter?.stop()]);
    await Promise.all([prometheus?.stop(), alertmanager?.stop(), smtp?.stop(), web1?.stop()]);
    dir.remove();
  });

  it('mails the anomaly and the static threshold alert of a host whose memory jumps, with graph, band, CSV and links', async () => {
    // The detector scores web-1 from its backfilled history before anything changes.
    await waitFor(
      async () =>
        (await prometheus.query(`vigil_anomaly{rule="memory_used",instance="${web1.address}"} == 0`)).length >
        0,
      { what: 'the detector scoring web-1', timeoutMs: 60_000 },
    );
    jumped = true;
    const [anomaly, threshold] = await waitFor(
      () => {
        const a = mailsAbout('VigilAnomaly', web1.address, 'FIRING')[0];
        const t = mailsAbout('NodeMemoryHighUtilization', web1.address, 'FIRING')[0];
        return a && t ? [a, t] : undefined;
      },
      { what: 'the VigilAnomaly and NodeMemoryHighUtilization mails about web-1', timeoutMs: 120_000 },
    );

    // honor_labels: the alert names the host and its job, not the detector. Asked over the last hour:
    // by the time the mail is here (late on a loaded machine) the alert may have resolved already.
    const alerts = await prometheus.query(
      `max_over_time(ALERTS{alertname="VigilAnomaly",rule="memory_used",alertstate="firing"}[1h])`,
    );
    expect(alerts.map((a) => [a.metric.instance, a.metric.job])).toContainEqual([web1.address, 'node']);
    expect(subjectOf(anomaly)).toMatch(/^\[FIRING:1\] VigilAnomaly /);
    expect(subjectOf(anomaly)).toContain('job=node');
    expect(subjectOf(anomaly)).toContain('rule=memory_used');
    expect(subjectOf(anomaly)).not.toContain(detector.url.replace('http://', ''));

    for (const mail of [anomaly, threshold]) {
      const html = String(mail.html);
      const png = mail.attachments.find((a) => a.contentType === 'image/png');
      expect(png?.content.subarray(1, 4).toString()).toBe('PNG');
      expect(html).toContain(`src="cid:${png!.cid}"`);
      const csv = mail.attachments.find((a) => a.contentType.startsWith('text/csv'));
      expect(csv?.content.toString('utf8')).toMatch(/^timestamp,series,value\r\n/);
      // Links to act on: Prometheus' graph of the rule, an Alertmanager silence, the graph image.
      expect(mail.text).toMatch(/^Source: http:\/\/\S+\/graph\?g0\.expr=/m);
      expect(mail.text).toMatch(/^Silence: http:\/\/\S+\/#\/silences\/new\?filter=/m);
      expect(mail.text).toContain(`Graph: ${bridge.url}/graph/`);
    }

    // The anomaly mail: the source series inside the detector's band, explained in words.
    const anomalyCsv = anomaly.attachments
      .find((a) => a.contentType.startsWith('text/csv'))!
      .content.toString('utf8');
    expect(anomalyCsv).toContain('instance:node_memory_used:ratio{');
    expect(anomalyCsv).toContain('vigil_anomaly_lower{');
    expect(anomalyCsv).toContain('vigil_anomaly_upper{');
    // The sentence names the detector that decided, as Prometheus scraped it from the detector's
    // vigil_anomaly_strength (present only while the series is anomalous), in that detector's terms.
    const strengths = await prometheus.query(
      `max_over_time(vigil_anomaly_strength{rule="memory_used",instance="${web1.address}"}[1h])`,
    );
    const decided = strengths.reduce((a, b) => (Number(b.value[1]) > Number(a.value[1]) ? b : a));
    // The jump leaves the 10-minute seen range by 56 times its margin: the range detector decided,
    // though the z-score detector's score (in deviations) is the larger number.
    expect(decided.metric.detector).toBe('range');
    expect(anomaly.text).toMatch(
      /Why unusual: 97% where 3\d% to 4\d% is the range seen over the past weeks; 5\d% above it, range detector/,
    );
    expect(anomaly.text).toContain('Runbook: https://runbooks.example.com/vigil/runbook.md#vigilanomaly');

    // The static threshold: the alert's own query and value.
    const thresholdCsv = threshold.attachments
      .find((a) => a.contentType.startsWith('text/csv'))!
      .content.toString('utf8');
    expect(thresholdCsv).toContain(`instance:node_memory_used:ratio{instance=""${web1.address}""`);
    expect(threshold.text).toContain(`97% of the memory of ${web1.address} is in use (threshold 90%).`);
    expect(threshold.text).toContain(
      'Runbook: https://runbooks.example.com/vigil/runbook.md#nodememoryhighutilization',
    );

    // The Watchdog reaches the bridge every minute and is consumed, never mailed.
    expect(smtp.mails.filter((m) => /Watchdog/.test(subjectOf(m.parsed)))).toEqual([]);
  });

  it('has data behind every dashboard panel and template variable', async () => {
    const exporterInstance = exporter.url.replace('http://', '');
    // The detector's outputs for every shipped rule on the real host (after min_points steps).
    await waitFor(
      async () =>
        (await prometheus.query(`count by (rule) (vigil_anomaly_expected{instance="${exporterInstance}"})`))
          .length === DEFAULT_RULES.length,
      { what: 'band of every shipped rule on the exporter host', timeoutMs: 90_000 },
    );
    const values: Record<string, string> = {
      job: 'node',
      instance: exporterInstance,
      rule: 'memory_used',
      detector: 'zscore',
      __rate_interval: '1m',
      __interval: '15s',
    };
    const substitute = (expr: string) =>
      expr.replace(/\$(\w+)/g, (_, name: string) => {
        if (values[name] === undefined) throw new Error(`no test value for $${name}`);
        return values[name];
      });
    const empty: string[] = [];
    for (const file of fs.readdirSync(path.join(REPO, 'grafana', 'dashboards'))) {
      const dashboard = JSON.parse(
        fs.readFileSync(path.join(REPO, 'grafana', 'dashboards', file), 'utf8'),
      ) as {
        templating: { list: Array<{ type: string; name: string; definition?: string }> };
        panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
      };
      const exprs = dashboard.panels.flatMap((panel) =>
        (panel.targets ?? []).map((target) => ({ what: `${file}: ${panel.title}`, expr: target.expr })),
      );
      for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
        // label_values(selector, label) has values when some series of the selector has the label.
        const [, selector, label] = /^label_values\((.+), (\w+)\)$/.exec(variable.definition!)!;
        exprs.push({ what: `${file}: $${variable.name}`, expr: `count by (${label}) (${selector})` });
      }
      for (const { what, expr } of exprs) {
        const result = await prometheus.query(substitute(expr));
        if (result.length === 0) empty.push(`${what}: ${substitute(expr)}`);
      }
    }
    expect(empty).toEqual([]);
  });

  it('resolves both alerts when the memory falls back, each resolved mail threaded under its firing one', async () => {
    jumped = false;
    for (const alertname of ['NodeMemoryHighUtilization', 'VigilAnomaly']) {
      const resolved = await waitFor(() => mailsAbout(alertname, web1.address, 'RESOLVED')[0], {
        what: `the resolved ${alertname} mail`,
        timeoutMs: 120_000,
      });
      const firing = mailsAbout(alertname, web1.address, 'FIRING')[0];
      expect(resolved.inReplyTo).toBeDefined();
      expect(resolved.inReplyTo).toBe(firing.references);
      expect(resolved.attachments.some((a) => a.contentType === 'image/png')).toBe(true);
    }
  });
});
