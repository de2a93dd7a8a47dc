import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createChannel, parseChannels } from '../../../src/bridge/channels';
import type { ConfiguredChannel, OutgoingMessage } from '../../../src/bridge/channels/channel';
import type { AlertEvidence } from '../../../src/bridge/evidence';
import { parseNotification } from '../../../src/bridge/payload';
import { alertmanagerPayload, type PayloadOptions } from '../fixtures';

/** When the test channels render: 18 minutes after the fixture alerts started. */
export const NOW = Date.UTC(2026, 10, 23, 14, 20);
export const BRIDGE_URL = 'https://vigil.example:9112';
/** A PNG's signature and a few bytes: what an upload carries is compared byte for byte. */
export const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
/** The PNG where the graph store would keep it: channels read graphs from files. */
const GRAPH_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-channel-graph-'));
const PNG_FILE = path.join(GRAPH_DIR, 'g.png');
fs.writeFileSync(PNG_FILE, PNG);
/** Its data, as the graph store keeps it beside the PNG. */
export const CSV = 'time,value\r\n';
const CSV_FILE = path.join(GRAPH_DIR, 'g.csv');
fs.writeFileSync(CSV_FILE, CSV);

/** A spooled notification as a channel receives it, each alert with a graph (id `g<n>`) unless `graphs: false`. */
export function outgoing(o: PayloadOptions & { graphs?: boolean } = {}): OutgoingMessage {
  const parsed = parseNotification(alertmanagerPayload(o));
  if (!parsed.ok) throw new Error(parsed.reason);
  const n = parsed.notification;
  const alerts = n.alerts.map((alert, i): AlertEvidence => ({
    alert,
    unit: 'short',
    graph:
      o.graphs === false
        ? undefined
        : {
            id: `g${i + 1}`,
            file: PNG_FILE,
            bytes: PNG.length,
            csvFile: CSV_FILE,
            csvBytes: CSV.length,
            csvName: `graph-${i + 1}.csv`,
          },
  }));
  return { id: '0001-abc', route: 'default', receivedAt: NOW, notification: { notification: n, alerts } };
}

/** A channel built the way the bridge builds it, from a configuration entry. */
export function channelFrom(entry: Record<string, unknown>): ConfiguredChannel {
  const [config] = parseChannels([{ name: 'test', type: '', ...entry }]);
  return createChannel(config, {
    timeZone: 'UTC',
    bridgeUrl: BRIDGE_URL,
    now: () => NOW,
    where: 'bridge.channels[0]',
  });
}
