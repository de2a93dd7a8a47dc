import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { freePort } from './net';
import { startProcess, waitForHttp, type StartedProcess } from './process';
import { tempDir } from './tmp';

export const ALERTMANAGER_BIN = process.env.VIGIL_ALERTMANAGER_BIN ?? 'prometheus-alertmanager';
export const AMTOOL_BIN = process.env.VIGIL_AMTOOL_BIN ?? 'amtool';

export interface StartedAlertmanager {
  url: string;
  /** host:port, for Prometheus' `alerting` section. */
  address: string;
  process: StartedProcess;
  /** POST /api/v2/alerts. */
  postAlerts(
    alerts: Array<{
      labels: Record<string, string>;
      annotations?: Record<string, string>;
      startsAt?: string;
    }>,
  ): Promise<void>;
  /** GET /api/v2/alerts. */
  alerts(): Promise<AlertmanagerAlert[]>;
  stop(): Promise<void>;
}

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; inhibitedBy: string[]; silencedBy: string[] };
  receivers: Array<{ name: string }>;
}

/** An HA peer: gossip on 127.0.0.1:listenPort, joining the peers on 127.0.0.1:peerPorts. */
export interface ClusterOptions {
  listenPort: number;
  peerPorts: number[];
  /** --cluster.peer-timeout: how long a peer waits for the ones before it (default 15s). */
  peerTimeout?: string;
}

/**
 * Debian's Alertmanager on 127.0.0.1 with a free port and a temporary data dir; clustering off
 * unless `cluster` is given.
 */
export async function startAlertmanager(
  config: unknown,
  { cluster }: { cluster?: ClusterOptions } = {},
): Promise<StartedAlertmanager> {
  const dir = tempDir('vigil-alertmanager-');
  const configFile = path.join(dir.path, 'alertmanager.yml');
  fs.writeFileSync(configFile, typeof config === 'string' ? config : YAML.stringify(config));
  const port = await freePort();
  const proc = startProcess(ALERTMANAGER_BIN, [
    `--config.file=${configFile}`,
    `--storage.path=${path.join(dir.path, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    ...(cluster
      ? [
          `--cluster.listen-address=127.0.0.1:${cluster.listenPort}`,
          ...cluster.peerPorts.map((peer) => `--cluster.peer=127.0.0.1:${peer}`),
          ...(cluster.peerTimeout ? [`--cluster.peer-timeout=${cluster.peerTimeout}`] : []),
        ]
      : ['--cluster.listen-address=']),
    '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc);
  return {
    url,
    address: `127.0.0.1:${port}`,
    process: proc,
    async postAlerts(alerts) {
      const response = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(alerts.map((a) => ({ annotations: {}, ...a }))),
      });
      if (!response.ok) throw new Error(`POST /api/v2/alerts: ${response.status} ${await response.text()}`);
    },
    async alerts() {
      return (await (await fetch(`${url}/api/v2/alerts`)).json()) as AlertmanagerAlert[];
    },
    async stop() {
      await proc.stop();
      dir.remove();
    },
  };
}
