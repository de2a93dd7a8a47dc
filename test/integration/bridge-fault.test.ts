import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Spool } from '../../src/bridge/spool';
import { alertmanagerPayload, spooledIds } from '../bridge/fixtures';
import { writeMailingBridgeConfig } from '../helpers/bridge-config';
import { startSmtpSink, type SmtpSink } from '../bridge/smtp-sink';
import { freePort, unlistenedPort } from '../helpers/net';
import { tempDir } from '../helpers/tmp';
import { startVigil, type StartedVigil } from '../helpers/vigil';
import { waitFor } from '../helpers/wait';

/**
 * SMTP is down while 50 notifications arrive and the bridge is killed with SIGKILL half-way and
 * started again; once SMTP is back, every notification is delivered exactly once. And a kill -9
 * while 200 notifications arrive at once (committed to the spool in groups) loses none of those
 * acknowledged.
 */
describe('bridge under faults', () => {
  const dir = tempDir('vigil-bridge-fault-');
  let bridge: StartedVigil | undefined;
  let smtp: SmtpSink | undefined;

  afterAll(async () => {
    await bridge?.stop();
    await smtp?.stop();
    dir.remove();
  });

  it('delivers all 50 notifications once after SMTP downtime and a kill -9', async () => {
    const smtpPort = await unlistenedPort(); // nothing listens yet: SMTP is down
    const deadPrometheus = await unlistenedPort(); // and so is Prometheus
    const configFile = writeMailingBridgeConfig(dir.path, {
      smtpPort,
      prometheusUrl: `http://127.0.0.1:${deadPrometheus}`,
      prometheus: { timeout: '2s', retries: 0 },
      smtp: { timeout: '5s' },
      bridge: { retry: { initial_backoff: '200ms', max_backoff: '1s' } },
    });
    const payload = (i: number) =>
      alertmanagerPayload({ instances: [`host-${i}`], groupKey: `{}:{instance="host-${i}"}` });
    const post = async (target: StartedVigil, i: number) => {
      const response = await fetch(`${target.url}/webhook`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(payload(i)),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as { status: string };
    };

    bridge = await startVigil('bridge', ['--config', configFile]);
    for (let i = 0; i < 25; i++) expect((await post(bridge, i)).status).toBe('accepted');
    // Let some attempts fail against the closed SMTP port before the crash.
    await waitFor(async () => /outcome="retry"/.test(await (await fetch(`${bridge!.url}/metrics`)).text()));
    expect(await bridge.stop('SIGKILL')).toBeNull();

    bridge = await startVigil('bridge', ['--config', configFile]);
    for (let i = 25; i < 50; i++) expect((await post(bridge, i)).status).toBe('accepted');
    // Alertmanager retrying notifications from before the crash: acknowledged, not delivered again.
    for (let i = 0; i < 5; i++) expect((await post(bridge, i)).status).toBe('duplicate');
    const queued = await (await fetch(`${bridge.url}/metrics`)).text();
    expect(queued).toMatch(/vigil_bridge_queue_depth 50/);

    smtp = await startSmtpSink(smtpPort, { starttls: false });
    await waitFor(() => smtp!.mails.length >= 50, { timeoutMs: 90_000, what: '50 mails' }).catch(
      (err: Error) => {
        throw new Error(`${err.message}; bridge log: ${bridge!.output().slice(-1500)}`);
      },
    );
    await waitFor(async () =>
      /vigil_bridge_queue_depth 0/.test(await (await fetch(`${bridge!.url}/metrics`)).text()),
    );
    // Give any duplicate a chance to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const instances = smtp.mails.map((m) => /instance=(host-\d+)/.exec(m.parsed.subject ?? '')?.[1]);
    expect(instances).toHaveLength(50);
    expect(new Set(instances).size).toBe(50);
    expect([...new Set(instances)].sort()).toEqual(Array.from({ length: 50 }, (_, i) => `host-${i}`).sort());
    expect((await spooledIds(path.join(dir.path, 'spool'))).pending).toEqual([]);
    // Prometheus was down too: the mails went out without graphs, saying why.
    expect(smtp.mails[0].parsed.text).toMatch(
      /Graph: graph unavailable: .*http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query_range: ECONNREFUSED/,
    );
    expect(smtp.mails[0].parsed.attachments).toEqual([]);
    const graphErrors = /^vigil_bridge_graph_errors_total (\d+)$/m.exec(
      await (await fetch(`${bridge.url}/metrics`)).text(),
    );
    expect(Number(graphErrors?.[1])).toBeGreaterThanOrEqual(50); // every notification since the restart
  });

  it('keeps every notification acknowledged before a kill -9 amid 200 concurrent webhooks', async () => {
    await bridge?.stop(); // the previous test's
    // An SMTP peer that accepts connections and never answers: deliveries hang, entries stay as
    // they were acknowledged.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const concurrentDir = path.join(dir.path, 'concurrent');
    fs.mkdirSync(concurrentDir);
    const spoolDir = path.join(concurrentDir, 'spool');
    const configFile = writeMailingBridgeConfig(concurrentDir, {
      smtpPort: (silent.address() as net.AddressInfo).port,
      prometheusUrl: `http://127.0.0.1:${await freePort()}`,
      prometheus: { retries: 0 },
      smtp: { timeout: '60s' },
      bridge: { retry: { concurrency: 1 } },
    });
    try {
      bridge = await startVigil('bridge', ['--config', configFile]);
      const target = bridge;
      const acked: string[] = [];
      let killed: Promise<number | null> | undefined;
      const posts = Array.from({ length: 200 }, async (_, i) => {
        const response = await fetch(`${target.url}/webhook`, {
          method: 'POST',
          body: JSON.stringify(
            alertmanagerPayload({ instances: [`host-${i}`], groupKey: `{}:{instance="host-${i}"}` }),
          ),
        }).catch(() => undefined); // cut off by the kill
        if (response?.status !== 200) return;
        acked.push(((await response.json()) as { id: string }).id);
        // Half-way through: the rest are in flight or not yet read when the process dies.
        if (acked.length === 100) killed = target.stop('SIGKILL');
      });
      await Promise.all(posts);
      expect(await killed).toBeNull();
      expect(acked.length).toBeGreaterThanOrEqual(100);

      // What a restart reads: every acknowledged notification, once, still to be delivered.
      const { spool, contents } = await Spool.open(spoolDir);
      await spool.close();
      const pending = contents.pending.map((e) => e.id);
      expect(new Set(pending).size).toBe(pending.length);
      expect(pending).toEqual(expect.arrayContaining(acked));
      expect(contents.corrupt).toEqual([]);
      bridge = await startVigil('bridge', ['--config', configFile]);
      const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
      expect(Number(/^vigil_bridge_queue_depth (\d+)$/m.exec(metrics)?.[1])).toBe(pending.length);
    } finally {
      await bridge?.stop();
      bridge = undefined;
      silent.close();
    }
  });
});
