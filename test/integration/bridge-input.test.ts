import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { alertmanagerPayload } from '../bridge/fixtures';
import { startSmtpSink, type SmtpSink } from '../bridge/smtp-sink';
import { freePort } from '../helpers/net';
import { startProcess, type StartedProcess } from '../helpers/process';
import { startPrometheus, type StartedPrometheus } from '../helpers/prometheus';
import { tempDir } from '../helpers/tmp';
import { selfSignedCert } from '../helpers/tls';
import { startVigil, VIGIL_CLI, type StartedVigil } from '../helpers/vigil';
import { waitFor } from '../helpers/wait';

const TOKEN = 'alertmanager-token';
const NOW_S = Math.floor(Date.now() / 1000);

/** Bad, hostile and unauthorised input: answered 4xx or handled safely, and the bridge keeps serving. */
describe('bridge intake against bad input', () => {
  const dir = tempDir('vigil-bridge-input-');
  let prometheus: StartedPrometheus;
  let smtp: SmtpSink;
  let bouncing: SmtpSink;
  let smtps: SmtpSink;
  let bridge: StartedVigil;
  let foreign: http.Server;
  let foreignRequests = 0;

  beforeAll(async () => {
    const lines = ['# TYPE vigil_test_value gauge'];
    for (let t = NOW_S - 3600; t <= NOW_S - 60; t += 60)
      lines.push(`vigil_test_value{instance="web-1"} 42 ${t}`);
    prometheus = await startPrometheus({ backfillOpenMetrics: `${lines.join('\n')}\n# EOF\n` });
    // A "Prometheus" on another host, named by generatorURL: the bridge must never ask it anything.
    foreign = http.createServer((_req, res) => {
      foreignRequests++;
      res.end('{}');
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    smtp = await startSmtpSink(await freePort(), { starttls: false });
    bouncing = await startSmtpSink(await freePort(), { starttls: false, rejectRecipients: /^nobody@/ });
    smtps = await startSmtpSink(await freePort(), { implicitTls: true });
    const configFile = path.join(dir.path, 'vigil.yml');
    fs.writeFileSync(
      configFile,
      YAML.stringify({
        bridge: {
          prometheus: { url: prometheus.url, retries: 0 },
          spool_dir: path.join(dir.path, 'spool'),
          max_body_bytes: 65536,
          auth: { bearer_token: TOKEN },
          routes: { default: ['mail'], ops: ['mail'], bounce: ['bounce'], smtps: ['smtps'] },
          channels: [
            {
              name: 'mail',
              type: 'email',
              from: 'vigil@example.com',
              to: ['ops@example.com'],
              smtp: { host: '127.0.0.1', port: smtp.port },
            },
            {
              name: 'bounce',
              type: 'email',
              from: 'vigil@example.com',
              to: ['nobody@example.com'],
              smtp: { host: '127.0.0.1', port: bouncing.port },
            },
            {
              name: 'smtps',
              type: 'email',
              from: 'vigil@example.com',
              to: ['secure@example.com'],
              smtp: {
                host: '127.0.0.1',
                port: smtps.port,
                secure: true,
                tls: { insecure_skip_verify: true },
              },
            },
          ],
        },
      }),
    );
    bridge = await startVigil('bridge', ['--config', configFile]);
  });

  afterAll(async () => {
    await bridge?.stop();
    await smtp?.stop();
    await bouncing?.stop();
    await smtps?.stop();
    await prometheus?.stop();
    await new Promise((resolve) => foreign?.close(resolve));
    dir.remove();
  });

  async function post(
    body: string,
    { route = '', token = TOKEN } = {},
  ): Promise<{ status: number; text: string }> {
    const response = await fetch(`${bridge.url}/webhook${route}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body,
    });
    return { status: response.status, text: await response.text() };
  }

  const valid = () => alertmanagerPayload();

  it.each([
    ['invalid JSON', '{"status": "firing", ', /^invalid JSON: /],
    ['a JSON array', '[]', /^expected a JSON object/],
    ['a wrong status', JSON.stringify({ ...valid(), status: 'on fire' }), /^status: /],
    [
      'numbers as labels',
      JSON.stringify({
        ...valid(),
        alerts: [{ status: 'firing', labels: { a: 1 }, startsAt: '2026-01-01T00:00:00Z' }],
      }),
      /^alerts\[0\]\.labels\.a: /,
    ],
    [
      'a missing startsAt',
      JSON.stringify({ ...valid(), alerts: [{ status: 'firing', labels: {} }] }),
      /^alerts\[0\]\.startsAt: /,
    ],
    ['missing alerts', JSON.stringify({ status: 'firing' }), /^alerts: /],
    ['an empty body', '', /^invalid JSON/],
  ])('answers %s with 400 and a one-line reason', async (_what, body, reason) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(response.text).toMatch(reason);
    expect(response.text.trim().split('\n')).toHaveLength(1);
  });

  it('refuses bodies over the limit with 413', async () => {
    const huge = JSON.stringify({ ...valid(), padding: 'x'.repeat(5 * 1024 * 1024) });
    const response = await post(huge);
    expect(response.status).toBe(413);
    expect(response.text).toMatch(/^payload too large: limit is 65536 bytes/);
  });

  it('refuses missing or wrong credentials with 401, and unknown routes with 404', async () => {
    expect((await post(JSON.stringify(valid()), { token: '' })).status).toBe(401);
    const wrong = await post(JSON.stringify(valid()), { token: 'guess' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toMatch(/^unauthorized/);
    const unknown = await post(JSON.stringify(valid()), { route: '/nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe('unknown route "nope"\n');
  });

  it('delivers hostile label values escaped, without header injection, querying only the configured Prometheus', async () => {
    const payload = alertmanagerPayload({
      alertname: 'Hostile',
      instances: ['web-1'],
      labels: { team: '<script>alert(1)</script>', note: 'x\r\nBcc: victim@example.com\r\nX-Injected: yes' },
      annotations: {
        summary: '<img src=x onerror=alert(1)> "quoted" & more',
        runbook_url: 'javascript:alert(document.cookie)',
      },
      generatorURL: `http://127.0.0.1:${(foreign.address() as AddressInfo).port}/graph?g0.expr=vigil_test_value`,
      startsAt: new Date((NOW_S - 600) * 1000).toISOString(),
    });
    const response = await post(JSON.stringify(payload), { route: '/ops' });
    expect(response.status).toBe(200);
    await waitFor(() => smtp.mails.length >= 1, { what: 'the mail' });
    const mail = smtp.mails[0];
    expect(mail.envelopeTo).toEqual(['ops@example.com']);
    expect(mail.parsed.headers.has('x-injected')).toBe(false);
    expect(mail.parsed.headers.has('bcc')).toBe(false);
    expect(mail.parsed.subject).not.toMatch(/[\r\n]/);
    const html = String(mail.parsed.html);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toMatch(/javascript:/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt; &quot;quoted&quot; &amp; more');
    // The graph came from the configured Prometheus, not the host in generatorURL.
    const csv = mail.parsed.attachments.find((a) => a.contentType.startsWith('text/csv'))!.content.toString();
    expect(csv).toContain('"vigil_test_value{instance=""web-1""}",42');
    expect(foreignRequests).toBe(0);
  });

  it('dead-letters a delivery the SMTP server refuses for good, and shows it', async () => {
    const response = await post(JSON.stringify(alertmanagerPayload({ alertname: 'Bounced' })), {
      route: '/bounce',
    });
    expect(response.status).toBe(200);
    const { id } = JSON.parse(response.text) as { id: string };
    // The bridge counts a dead letter once its file is in dead/ and synced, and out of pending/:
    // the file alone appears before the count does.
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`${bridge.url}/metrics`)).text();
        return /^vigil_bridge_dead_letters 1$/m.test(text) && text;
      },
      { what: 'the dead letter counted' },
    );
    expect(fs.existsSync(path.join(dir.path, 'spool', 'dead', `${id}.json`))).toBe(true);
    const page = await (await fetch(`${bridge.url}/`)).text();
    expect(page).toContain('bounce: dead');
    expect(page).toContain('SMTP 550');
    expect(metrics).toMatch(/vigil_bridge_deliveries_total\{channel="bounce",outcome="dead"\} 1/);
    expect(bouncing.accepted()).toBe(0);
  });

  it('sends over implicit TLS (SMTPS) when the channel says secure', async () => {
    expect(
      (await post(JSON.stringify(alertmanagerPayload({ alertname: 'OverTls' })), { route: '/smtps' })).status,
    ).toBe(200);
    await waitFor(() => smtps.mails.length === 1, { what: 'the SMTPS mail' });
    expect(smtps.mails[0].secure).toBe(true);
    expect(smtps.mails[0].parsed.subject).toMatch(/^\[FIRING:1\] OverTls /);
  });

  it('answers 503 when the spool cannot store the notification, so that Alertmanager retries', async () => {
    // The log's segment is written over in place; a full one is replaced by a new file in log/,
    // which cannot be made while log/ is not a directory.
    const log = path.join(dir.path, 'spool', 'log');
    fs.renameSync(log, `${log}.away`);
    fs.writeFileSync(log, 'a file where the directory was');
    const large = (n: number) =>
      JSON.stringify(
        alertmanagerPayload({
          alertname: 'DiskTrouble',
          instances: [`disk-${n}`],
          groupKey: `{}:{instance="disk-${n}"}`,
          annotations: { description: 'x'.repeat(28_000) },
        }),
      );
    let refused: { status: number; text: string } | undefined;
    let n = 0;
    try {
      // 16 MiB of notifications of about 60 KB (the description twice) fill the segment in about 300.
      for (; n < 600 && refused === undefined; n++) {
        const response = await post(large(n));
        if (response.status !== 200) refused = response;
      }
    } finally {
      fs.rmSync(log);
      fs.renameSync(`${log}.away`, log);
    }
    expect(refused?.status).toBe(503);
    expect(refused?.text).toMatch(/^cannot store the notification: .*ENOTDIR/);
    // The same notification, retried once the spool works again, is accepted (not a duplicate).
    const retried = await post(large(n - 1));
    expect(retried.status).toBe(200);
    expect(JSON.parse(retried.text)).toMatchObject({ status: 'accepted' });
  });

  it('keeps serving after all of it', async () => {
    expect((await fetch(`${bridge.url}/-/healthy`)).status).toBe(200);
    const ok = await post(JSON.stringify(alertmanagerPayload({ alertname: 'StillHere' })));
    expect(ok.status).toBe(200);
    const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
    expect(metrics).toMatch(/vigil_bridge_notifications_rejected_total\{reason="bad_payload"\} 7/);
    expect(metrics).toMatch(/vigil_bridge_notifications_rejected_total\{reason="too_large"\} 1/);
    expect(metrics).toMatch(/vigil_bridge_notifications_rejected_total\{reason="unauthorized"\} 2/);
    const page = await (await fetch(`${bridge.url}/`)).text();
    expect(page).not.toContain('<script>alert');
    expect(bridge.child.exitCode).toBeNull();
  });
});

describe('bridge TLS listener and basic auth', () => {
  const dir = tempDir('vigil-bridge-tls-');
  let proc: StartedProcess | undefined;

  afterAll(async () => {
    await proc?.stop();
    dir.remove();
  });

  it('serves the webhook over HTTPS with basic auth, as Alertmanager http_config sends it', async () => {
    const { cert, key } = selfSignedCert(dir.path);
    const port = await freePort();
    const configFile = path.join(dir.path, 'vigil.yml');
    fs.writeFileSync(
      configFile,
      YAML.stringify({
        bridge: {
          listen: `127.0.0.1:${port}`,
          spool_dir: path.join(dir.path, 'spool'),
          tls: { cert_file: cert, key_file: key },
          auth: { basic_auth: { username: 'am', password: 'pw' } },
        },
      }),
    );
    proc = startProcess(process.execPath, [VIGIL_CLI, 'bridge', '--config', configFile]);
    const request = (auth: string, body: string) =>
      new Promise<number>((resolve, reject) => {
        const req = https.request(
          {
            host: '127.0.0.1',
            port,
            path: '/webhook',
            method: 'POST',
            ca: fs.readFileSync(cert),
            servername: 'localhost',
            headers: { Authorization: auth },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const good = `Basic ${Buffer.from('am:pw').toString('base64')}`;
    await waitFor(() => request(good, '{}').then((status) => status === 400), { what: 'the HTTPS listener' });
    expect(await request(good, JSON.stringify(alertmanagerPayload()))).toBe(200);
    expect(await request(`Basic ${Buffer.from('am:wrong').toString('base64')}`, '{}')).toBe(401);
  });
});
