import { alertmanagerPayload } from '../bridge/fixtures';
import { writeMailingBridgeConfig } from '../helpers/bridge-config';
import { startSmtpSink, type SmtpSink } from '../bridge/smtp-sink';
import { freePort } from '../helpers/net';
import { startPrometheus, type StartedPrometheus } from '../helpers/prometheus';
import { tempDir } from '../helpers/tmp';
import { startVigil, type StartedVigil } from '../helpers/vigil';
import { waitFor } from '../helpers/wait';

const NOW_S = Math.floor(Date.now() / 1000 / 60) * 60;

function backfill(): string {
  const lines = ['# TYPE vigil_test_load gauge'];
  for (let t = NOW_S - 3600; t <= NOW_S - 60; t += 60)
    lines.push(`vigil_test_load{instance="web-1",job="node"} ${(t % 7) / 7} ${t}`);
  return `${lines.join('\n')}\n# EOF\n`;
}

describe('graph links from a mail (real bridge, Prometheus and SMTP)', () => {
  let prometheus: StartedPrometheus;
  let smtp: SmtpSink;
  let bridge: StartedVigil | undefined;
  const dir = tempDir('vigil-graph-links-');

  beforeAll(async () => {
    prometheus = await startPrometheus({ backfillOpenMetrics: backfill() });
    smtp = await startSmtpSink(await freePort(), { starttls: false });
  });

  afterAll(async () => {
    await bridge?.stop();
    await smtp?.stop();
    await prometheus?.stop();
    dir.remove();
  });

  it('a graph link in a mail still answers after the bridge restarts', async () => {
    const port = await freePort();
    const configFile = writeMailingBridgeConfig(dir.path, {
      smtpPort: smtp.port,
      prometheusUrl: prometheus.url,
      prometheus: { retries: 0 },
      bridge: { external_url: `http://127.0.0.1:${port}` },
    });
    const start = () => startVigil('bridge', ['--config', configFile], {}, port);
    bridge = await start();
    const payload = alertmanagerPayload({
      startsAt: new Date((NOW_S - 1800) * 1000).toISOString(),
      generatorURL: `${prometheus.url}/graph?g0.expr=${encodeURIComponent('vigil_test_load > 0.5')}&g0.tab=1`,
    });
    const response = await fetch(`${bridge.url}/webhook`, { method: 'POST', body: JSON.stringify(payload) });
    expect(response.status).toBe(200);
    await waitFor(() => smtp.mails.length >= 1, { what: 'the mail', timeoutMs: 60_000 });
    const html = String(smtp.mails[0].parsed.html);
    const link = /<a href="(http:\/\/127\.0\.0\.1:\d+\/graph\/[A-Za-z0-9_-]{22}\.png)">/.exec(html)?.[1];
    expect(link).toBeDefined();
    const first = await fetch(link!);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await first.arrayBuffer());
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    // The same bytes as the mail carried inline.
    expect(smtp.mails[0].parsed.attachments.find((a) => a.contentType === 'image/png')?.content).toEqual(png);

    await bridge.stop();
    bridge = await start();
    const again = await fetch(link!);
    expect(again.status).toBe(200);
    expect(Buffer.from(await again.arrayBuffer())).toEqual(png);
    expect((await fetch(link!.replace(/[A-Za-z0-9_-]{22}\.png$/, `${'A'.repeat(22)}.png`))).status).toBe(404);
  });
});
