import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { writeMailingBridgeConfig } from '../helpers/bridge-config';
import { startAlertmanager, type StartedAlertmanager } from '../helpers/alertmanager';
import { freePort, unlistenedPort } from '../helpers/net';
import { tempDir } from '../helpers/tmp';
import { startVigil, type StartedVigil } from '../helpers/vigil';
import { waitFor } from '../helpers/wait';
import { startSmtpSink, type SmtpSink } from '../bridge/smtp-sink';

/**
 * Forwards each webhook to the bridge after `delayMs`: a peer whose path to the bridge is slow.
 * While its send is in flight, the other peer finds no record of it in the gossiped notification
 * log after --cluster.peer-timeout and sends too, as HA Alertmanagers do under real latency.
 */
async function slowLink(
  target: string,
  delayMs: number,
): Promise<{ url: string; forwarded: () => number; close(): Promise<void> }> {
  let forwarded = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      setTimeout(() => {
        void fetch(`${target}${req.url}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: req.headers.authorization ?? '' },
          body: Buffer.concat(chunks),
        }).then(
          async (answer) => {
            forwarded++;
            res.writeHead(answer.status).end(await answer.text());
          },
          () => res.writeHead(502).end(),
        );
      }, delayMs);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded: () => forwarded,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );
}

describe('two clustered Alertmanagers in front of one bridge', () => {
  const dir = tempDir('vigil-am-ha-');
  let smtp: SmtpSink;
  let bridge: StartedVigil;
  const links: Array<Awaited<ReturnType<typeof slowLink>>> = [];
  const peers: StartedAlertmanager[] = [];

  beforeAll(async () => {
    smtp = await startSmtpSink(await freePort(), { starttls: false });
    fs.writeFileSync(path.join(dir.path, 'token'), 'ha-secret\n');
    const configFile = writeMailingBridgeConfig(dir.path, {
      smtpPort: smtp.port,
      // Nothing listens there: the mail goes out without a graph, saying why.
      prometheusUrl: `http://127.0.0.1:${await unlistenedPort()}`,
      prometheus: { retries: 0 },
      bridge: { auth: { bearer_token_file: path.join(dir.path, 'token') } },
    });
    bridge = await startVigil('bridge', ['--config', configFile]);

    const clusterPorts = [await freePort(), await freePort()];
    for (const [i, listenPort] of clusterPorts.entries()) {
      const link = await slowLink(bridge.url, 2000);
      links.push(link);
      const alertmanagerConfig = {
        route: {
          receiver: 'bridge',
          group_by: ['alertname'],
          group_wait: '1s',
          group_interval: '5m',
          repeat_interval: '4h',
        },
        receivers: [
          {
            name: 'bridge',
            webhook_configs: [
              {
                url: `${link.url}/webhook`,
                send_resolved: true,
                http_config: { authorization: { credentials_file: path.join(dir.path, 'token') } },
              },
            ],
          },
        ],
      };
      peers.push(
        await startAlertmanager(alertmanagerConfig, {
          cluster: { listenPort, peerPorts: clusterPorts.filter((_, j) => j !== i), peerTimeout: '100ms' },
        }),
      );
    }
  });

  afterAll(async () => {
    await Promise.all(peers.map((peer) => peer.stop()));
    await Promise.all(links.map((link) => link.close()));
    await bridge?.stop();
    await smtp?.stop();
    dir.remove();
  });

  it('form one cluster', async () => {
    for (const peer of peers) {
      await waitFor(
        async () => {
          const status = (await (await fetch(`${peer.url}/api/v2/status`)).json()) as {
            cluster: { status: string; peers: unknown[] };
          };
          return status.cluster.status === 'ready' && status.cluster.peers.length === 2;
        },
        { what: 'a ready two-peer cluster' },
      );
    }
  });

  it('both peers send each group and the bridge mails it once', async () => {
    // Prometheus sends every alert to every Alertmanager, with the same start time. One alert per
    // group: a peer may flush a group before it has taken in every alert of a batch, and a group that
    // differs is a different notification (Alertmanager itself updates it at group_interval).
    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const alerts = [
      { labels: { alertname: 'HaDiskFull', instance: 'db-1', severity: 'critical' }, startsAt },
      { labels: { alertname: 'HaCpuBusy', instance: 'web-1', severity: 'warning' }, startsAt },
    ];
    for (const peer of peers) await peer.postAlerts(alerts);

    // Two groups (by alertname), each sent by both peers: four webhooks reach the bridge.
    await waitFor(async () => links.reduce((sum, link) => sum + link.forwarded(), 0) >= 4, {
      what: 'both peers to send both groups',
    });
    expect(links.map((link) => link.forwarded())).toEqual([2, 2]);
    expect(await metric(bridge.url, 'vigil_bridge_notifications_received_total')).toBe(2);
    expect(await metric(bridge.url, 'vigil_bridge_notifications_duplicate_total')).toBe(2);

    await waitFor(
      async () => (await metric(bridge.url, 'vigil_bridge_queue_depth')) === 0 && smtp.mails.length >= 2,
      {
        what: 'the deliveries',
      },
    );
    const subjects = smtp.mails.map((mail) => mail.parsed.subject).sort();
    expect(subjects).toEqual([
      expect.stringMatching(/^\[FIRING:1\] HaCpuBusy/),
      expect.stringMatching(/^\[FIRING:1\] HaDiskFull/),
    ]);
    expect(smtp.accepted()).toBe(2);
  });
});
