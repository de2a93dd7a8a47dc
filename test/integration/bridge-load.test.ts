import { alertmanagerPayload } from '../bridge/fixtures';
import { startSmtpSink, type SmtpSink } from '../bridge/smtp-sink';
import { writeMailingBridgeConfig } from '../helpers/bridge-config';
import { startHostileClients, type HostileClients } from '../helpers/hostile';
import { freePort, unlistenedPort } from '../helpers/net';
import { tempDir } from '../helpers/tmp';
import { startVigil, type StartedVigil } from '../helpers/vigil';
import { waitFor } from '../helpers/wait';

const NOTIFICATIONS = 200;

/**
 * The bridge keeps acknowledging and delivering while 2,000 connections sit idle and 10 bodies
 * trickle in a byte a second. Functional only: the figures under load are in bench/bridge-hostile.ts.
 */
describe('bridge under idle connections and trickled bodies', () => {
  const dir = tempDir('vigil-bridge-load-');
  let smtp: SmtpSink;
  let bridge: StartedVigil;
  let hostile: HostileClients | undefined;

  beforeAll(async () => {
    smtp = await startSmtpSink(await freePort(), { starttls: false, parse: false });
    // Nothing listens at the Prometheus port: graphs are skipped at once and the mails say why.
    const configFile = writeMailingBridgeConfig(dir.path, {
      smtpPort: smtp.port,
      prometheusUrl: `http://127.0.0.1:${await unlistenedPort()}`,
    });
    bridge = await startVigil('bridge', ['--config', configFile]);
  });

  afterAll(async () => {
    hostile?.close();
    await bridge?.stop();
    await smtp?.stop();
    dir.remove();
  });

  it('acknowledges and delivers 200 notifications at 200/s while 2,000 idle and 10 trickling connections are open', async () => {
    hostile = await startHostileClients(bridge.port, { idle: 2_000, trickles: 10 });
    expect(hostile.open()).toBe(2_010);

    const acknowledged: number[] = [];
    const posts: Array<Promise<void>> = [];
    for (let i = 0; i < NOTIFICATIONS; i++) {
      const body = JSON.stringify(alertmanagerPayload({ instances: [`web-${i}`], groupKey: `load-${i}` }));
      posts.push(
        fetch(`${bridge.url}/webhook`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
        }).then((response) => void acknowledged.push(response.status)),
      );
      // Evenly spaced, 200 a second.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(posts);
    expect(acknowledged).toHaveLength(NOTIFICATIONS);
    expect(acknowledged.every((status) => status === 200)).toBe(true);
    expect((await fetch(`${bridge.url}/-/healthy`)).status).toBe(200);
    await waitFor(() => smtp.accepted() >= NOTIFICATIONS, { timeoutMs: 60_000, what: '200 mails' });
    expect(smtp.accepted()).toBe(NOTIFICATIONS);

    // No connection was refused at the cap, and nothing went wrong on the way.
    const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
    expect(metrics).not.toMatch(/vigil_http_connections_refused_total\{reason="limit"\} [1-9]/);
    expect(bridge.output()).not.toMatch(/"level":"(error|fatal)"/);
  });
});
