import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { startSmtpSink, type SmtpSink } from '../bridge/smtp-sink';
import { alertmanagerPayload } from '../bridge/fixtures';
import { freePort } from '../helpers/net';
import { startPrometheus, type StartedPrometheus } from '../helpers/prometheus';
import { tempDir } from '../helpers/tmp';
import { startVigil, type StartedVigil } from '../helpers/vigil';
import { waitFor } from '../helpers/wait';

const NOW_S = Math.floor(Date.now() / 1000 / 60) * 60;
const ALERT_START_S = NOW_S - 30 * 60;
const ANOMALY_AT_S = NOW_S - 20 * 60;

/** Three hours of data: CPU of two hosts (web-1 jumps at the alert), and the detector's view of a queue. */
function backfill(): string {
  const lines: string[] = ['# TYPE vigil_test_cpu_busy_ratio gauge'];
  const times: number[] = [];
  for (let t = NOW_S - 3 * 3600; t <= NOW_S - 60; t += 60) times.push(t);
  for (const instance of ['web-1', 'web-2']) {
    for (const t of times) {
      const base = instance === 'web-1' ? 0.25 : 0.35;
      const value = base + 0.05 * Math.sin(t / 600) + (instance === 'web-1' && t >= ALERT_START_S ? 0.65 : 0);
      lines.push(`vigil_test_cpu_busy_ratio{instance="${instance}",job="node"} ${value.toFixed(4)} ${t}`);
    }
  }
  const series: Record<string, (t: number) => number> = {
    vigil_test_queue_depth: (t) => (t === ANOMALY_AT_S ? 0.92 : 0.15),
    vigil_anomaly_score: (t) => (t === ANOMALY_AT_S ? 15 : 0.3),
    vigil_anomaly_expected: () => 0.15,
    vigil_anomaly_lower: () => 0.1,
    vigil_anomaly_upper: () => 0.2,
  };
  for (const [name, value] of Object.entries(series)) {
    lines.push(`# TYPE ${name} gauge`);
    const labels =
      name === 'vigil_test_queue_depth'
        ? 'queue="orders"'
        : 'queue="orders",rule="queue",detector="seasonal"';
    for (const t of times) lines.push(`${name}{${labels}} ${value(t)} ${t}`);
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

describe('bridge with a real Prometheus and a real SMTP server', () => {
  let prometheus: StartedPrometheus;
  let smtp: SmtpSink;
  let bridge: StartedVigil;
  const dir = tempDir('vigil-bridge-it-');

  beforeAll(async () => {
    prometheus = await startPrometheus({ backfillOpenMetrics: backfill() });
    smtp = await startSmtpSink(await freePort(), { auth: { user: 'vigil', pass: 's3cret' } });
    fs.writeFileSync(path.join(dir.path, 'smtp-password'), 's3cret\n');
    const config = {
      bridge: {
        prometheus: { url: prometheus.url, timeout: '10s', retries: 0 },
        spool_dir: path.join(dir.path, 'spool'),
        timezone: 'Europe/Berlin',
        external_url: 'http://bridge.example:9112',
        channels: [
          {
            name: 'ops-mail',
            type: 'email',
            from: 'vigil <vigil@example.com>',
            to: ['ops@example.com'],
            cc: ['lead@example.com'],
            smtp: {
              host: '127.0.0.1',
              port: smtp.port,
              require_tls: true,
              username: 'vigil',
              password_file: path.join(dir.path, 'smtp-password'),
              tls: { insecure_skip_verify: true },
            },
          },
        ],
      },
    };
    fs.writeFileSync(path.join(dir.path, 'vigil.yml'), YAML.stringify(config));
    bridge = await startVigil('bridge', ['--config', path.join(dir.path, 'vigil.yml')]);
  });

  afterAll(async () => {
    await bridge?.stop();
    await smtp?.stop();
    await prometheus?.stop();
    dir.remove();
  });

  async function post(payload: unknown): Promise<Response> {
    return fetch(`${bridge.url}/webhook`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload),
    });
  }

  it('sends one e-mail with HTML and text, the graph inline by cid and a CSV equal to what Prometheus returns', async () => {
    const payload = alertmanagerPayload({
      startsAt: new Date(ALERT_START_S * 1000).toISOString(),
      generatorURL: `${prometheus.url}/graph?g0.expr=${encodeURIComponent('vigil_test_cpu_busy_ratio > 0.8')}&g0.tab=1`,
      annotations: { runbook_url: 'https://runbooks.example/cpu' },
    });
    const response = await post(payload);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'accepted' });

    await waitFor(() => smtp.mails.length >= 1, { what: 'the mail', timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0];
    expect(mail.secure).toBe(true); // STARTTLS
    expect(mail.user).toBe('vigil');
    expect(mail.envelopeTo.sort()).toEqual(['lead@example.com', 'ops@example.com']);
    const parsed = mail.parsed;
    expect(parsed.subject).toBe('[FIRING:1] HostHighCpu (instance=web-1 job=node severity=critical)');
    expect(parsed.text).toContain('== FIRING: HostHighCpu - CPU busy on web-1');
    expect(parsed.text).toContain('Runbook: https://runbooks.example/cpu');
    expect(parsed.text).toContain('Graph: http://bridge.example:9112/graph/');
    const html = String(parsed.html);
    expect(html).toContain('CPU busy on web-1');
    expect(html).toContain('href="https://runbooks.example/cpu"');
    expect(html).toContain('http://alertmanager.example:9093/#/silences/new?filter');

    const png = parsed.attachments.find((a) => a.contentType === 'image/png');
    expect(png).toBeDefined();
    expect(png!.contentDisposition).toBe('inline');
    expect(png!.content.subarray(1, 4).toString()).toBe('PNG');
    expect(html).toContain(`src="cid:${png!.cid}"`);

    const csv = parsed.attachments.find((a) => a.contentType.startsWith('text/csv'));
    expect(csv).toBeDefined();
    const rows = csv!.content.toString('utf8').trim().split('\r\n');
    expect(rows[0]).toBe('timestamp,series,value');
    const data = rows.slice(1).map((r) => /^([^,]+),(.*),([^,]+)$/.exec(r)!);
    // Only the alerting instance is graphed.
    expect(new Set(data.map((m) => m[2]))).toEqual(
      new Set(['"vigil_test_cpu_busy_ratio{instance=""web-1"", job=""node""}"']),
    );
    const times = data.map((m) => Date.parse(m[1]) / 1000);
    const step = times[1] - times[0];
    expect(times[0]).toBeLessThanOrEqual(ALERT_START_S - 3600);
    const api = await fetch(
      `${prometheus.url}/api/v1/query_range?${new URLSearchParams({
        query: 'vigil_test_cpu_busy_ratio{instance="web-1"}',
        start: String(times[0]),
        end: String(times[times.length - 1]),
        step: String(step),
      })}`,
    );
    const body = (await api.json()) as { data: { result: Array<{ values: Array<[number, string]> }> } };
    const expected = body.data.result[0].values.map(([t, v]) => [new Date(t * 1000).toISOString(), v]);
    expect(data.map((m) => [m[1], m[3]])).toEqual(expected);
    expect(expected.length).toBeGreaterThan(100);

    // The graph is also served under its unguessable id.
    const graphUrl = /Graph: http:\/\/bridge\.example:9112(\/graph\/[A-Za-z0-9_-]{22}\.png)/.exec(
      parsed.text ?? '',
    )![1];
    const served = await fetch(`${bridge.url}${graphUrl}`);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(png!.content)).toBe(true);
    expect((await fetch(`${bridge.url}/graph/AAAAAAAAAAAAAAAAAAAAAA.png`)).status).toBe(404);
    fs.writeFileSync(path.join(dir.path, 'mail-graph.png'), png!.content);
  });

  it('threads the resolved mail under the firing one and makes it look different', async () => {
    const before = smtp.mails.length;
    const payload = alertmanagerPayload({
      status: 'resolved',
      startsAt: new Date(ALERT_START_S * 1000).toISOString(),
      endsAt: new Date((NOW_S - 5 * 60) * 1000).toISOString(),
      generatorURL: `${prometheus.url}/graph?g0.expr=${encodeURIComponent('vigil_test_cpu_busy_ratio > 0.8')}`,
    });
    expect((await post(payload)).status).toBe(200);
    await waitFor(() => smtp.mails.length > before, { what: 'the resolved mail', timeoutMs: 60_000 });
    const firing = smtp.mails[0].parsed;
    const resolved = smtp.mails[before].parsed;
    expect(resolved.subject).toBe('[RESOLVED] HostHighCpu (instance=web-1 job=node severity=critical)');
    expect(resolved.inReplyTo).toBeDefined();
    expect(resolved.inReplyTo).toBe(firing.references);
    expect(resolved.messageId).not.toBe(firing.messageId);
    expect(String(resolved.html)).toContain('Resolved: HostHighCpu');
    expect(String(resolved.html)).toContain('#2e8b3e');
  });

  it('explains an anomaly in words and draws the normal band', async () => {
    const before = smtp.mails.length;
    const payload = alertmanagerPayload({
      alertname: 'QueueAnomaly',
      startsAt: new Date((ANOMALY_AT_S - 60) * 1000).toISOString(),
      labels: { rule: 'queue', queue: 'orders' },
      instances: ['orders'],
      annotations: { query: 'vigil_test_queue_depth', summary: 'Unusual order queue depth' },
      generatorURL: `${prometheus.url}/graph?g0.expr=${encodeURIComponent('vigil_anomaly{rule="queue"} == 1')}`,
    });
    expect((await post(payload)).status).toBe(200);
    await waitFor(() => smtp.mails.length > before, { what: 'the anomaly mail', timeoutMs: 60_000 });
    const mail = smtp.mails[before].parsed;
    expect(mail.text).toContain(
      'Why unusual: 0.92 where 0.15 ± 0.05 is normal at this hour; 15 deviations, seasonal detector',
    );
    const csv = mail.attachments.find((a) => a.contentType.startsWith('text/csv'))!.content.toString('utf8');
    for (const name of [
      'vigil_test_queue_depth',
      'vigil_anomaly_expected',
      'vigil_anomaly_lower',
      'vigil_anomaly_upper',
    ]) {
      expect(csv).toContain(`${name}{`);
    }
    fs.writeFileSync(
      path.join(dir.path, 'anomaly-graph.png'),
      mail.attachments.find((a) => a.contentType === 'image/png')!.content,
    );
  });

  it('shows the notifications and deliveries on the status page, and counts them', async () => {
    // The SMTP server has the last mail a moment before the bridge has recorded the delivery.
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`${bridge.url}/metrics`)).text();
        return /vigil_bridge_queue_depth 0/.test(text) && text;
      },
      { what: 'all deliveries recorded' },
    );
    const page = await (await fetch(`${bridge.url}/`)).text();
    expect(page).toContain('ops-mail: delivered');
    expect(page).not.toContain('ops-mail: pending');
    expect(page).toContain('QueueAnomaly');
    expect(metrics).toMatch(/vigil_bridge_notifications_received_total\{route="default"\} 3/);
    expect(metrics).toMatch(/vigil_bridge_deliveries_total\{channel="ops-mail",outcome="delivered"\} 3/);
    expect(metrics).toMatch(/vigil_bridge_render_duration_seconds_count 3/);
  });
});
