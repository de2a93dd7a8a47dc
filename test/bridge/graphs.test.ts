import fs from 'node:fs';
import path from 'node:path';
import { ConfiguredChannel, DeliveryError, type OutgoingMessage } from '../../src/bridge/channels/channel';
import { Dispatcher } from '../../src/bridge/dispatcher';
import { Enricher } from '../../src/bridge/enrich';
import { gatherInProcess } from '../../src/bridge/evidence';
import { GraphStore, writeGraph } from '../../src/bridge/graphs';
import { BridgeMetrics } from '../../src/bridge/metrics';
import { parseNotification } from '../../src/bridge/payload';
import { Spool } from '../../src/bridge/spool';
import type { RangeSeries } from '../../src/common/prometheus-client';
import { rootLogger } from '../../src/common/logger';
import { tempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';
import { alertmanagerPayload, GRAPH_SETTINGS } from './fixtures';

describe('graph store (stable ids, on disk)', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir('vigil-graphs-')));
  afterEach(() => dir.remove());

  it('gives each alert of each notification one id, the same after a restart', async () => {
    const store = new GraphStore(dir.path, 60_000);
    const id = store.idFor('entry-1', 0);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(store.idFor('entry-1', 0)).toBe(id);
    expect(store.idFor('entry-1', 1)).not.toBe(id);
    expect(store.idFor('entry-2', 0)).not.toBe(id);
    await writeGraph(store.fileFor(id), Buffer.from('png'));
    // A new process on the same directory: same key, same ids, the file still served.
    const restarted = new GraphStore(dir.path, 60_000);
    expect(restarted.idFor('entry-1', 0)).toBe(id);
    expect((await restarted.get(id))?.toString()).toBe('png');
    // Another bridge (another key) cannot derive this bridge's ids.
    const other = tempDir('vigil-graphs-');
    try {
      expect(new GraphStore(other.path, 60_000).idFor('entry-1', 0)).not.toBe(id);
    } finally {
      other.remove();
    }
  });

  it('stops serving graphs past the TTL and prunes their files, PNG and CSV', async () => {
    let clock = Date.now();
    const store = new GraphStore(dir.path, 1_000, () => clock);
    const id = store.idFor('e', 0);
    await writeGraph(store.fileFor(id), Buffer.from('png'));
    await writeGraph(store.csvFileFor(id), 'time,value\r\n');
    expect(store.csvFileFor(id)).toBe(path.join(dir.path, `${id}.csv`));
    expect(() => store.csvFileFor('../x')).toThrow('invalid graph id');
    expect(await store.get(id)).toBeDefined();
    clock += 2_000;
    expect(await store.get(id)).toBeUndefined();
    expect(await store.prune()).toBe(2);
    expect(fs.readdirSync(dir.path)).toEqual(['.key']);
    await expect(store.get('../../etc/passwd')).resolves.toBeUndefined();
  });

  it('100 retries of one notification leave one PNG and one CSV per alert', async () => {
    const log = rootLogger.child({ component: 'test' });
    log.level = 'silent';
    const { spool, contents } = await Spool.open(dir.path);
    const graphs = new GraphStore(path.join(dir.path, 'graphs'), 60_000);
    const now = Date.now();
    const timestamps = Array.from({ length: 10 }, (_, i) => now - (10 - i) * 60_000);
    const answer = (instance: string): RangeSeries => ({
      labels: { instance, job: 'node' },
      timestamps,
      values: timestamps.map((_, i) => i),
    });
    const enricher = new Enricher(
      gatherInProcess({
        url: 'http://127.0.0.1:9090',
        queryRange: async () => [answer('web-1'), answer('web-2')],
        query: async () => [],
      }),
      graphs,
      { ...GRAPH_SETTINGS, lookbackMs: 600_000, points: 10, width: 300, maxSeries: 2 },
    );
    const links = new Set<string>();
    let attempts = 0;
    const flaky = new ConfiguredChannel(
      {
        name: 'chat',
        type: 'test',
        send_resolved: true,
        templates: {},
        matchers: [],
        rate_limit: { per_second: 0, burst: 1 },
      },
      {
        async send(message: OutgoingMessage) {
          attempts++;
          for (const e of message.notification.alerts) links.add(e.graph!.id);
          if (attempts < 100) throw new DeliveryError('HTTP 503');
          return { detail: 'ok' };
        },
      },
    );
    const dispatcher = new Dispatcher(
      spool,
      new Map([['chat', flaky]]),
      enricher,
      {
        retry: { initialBackoffMs: 1, maxBackoffMs: 2, maxAgeMs: 600_000, concurrency: 4 },
        dedupWindowMs: 60_000,
        history: 10,
      },
      new BridgeMetrics(),
      log,
    );
    dispatcher.load(contents);
    const parsed = parseNotification(alertmanagerPayload({ instances: ['web-1', 'web-2'] }));
    if (!parsed.ok) throw new Error(parsed.reason);
    const { id } = await dispatcher.accept('default', parsed.notification, ['chat']);
    await waitFor(() => dispatcher.recent()[0]?.deliveries[0].state === 'delivered', { timeoutMs: 60_000 });
    expect(attempts).toBe(100);
    // Every attempt linked the same two graphs, and only those two files exist.
    expect([...links].sort()).toEqual([graphs.idFor(id, 0), graphs.idFor(id, 1)].sort());
    const files = fs.readdirSync(graphs.dir).filter((f) => f !== '.key');
    expect(files.sort()).toEqual([...links].flatMap((l) => [`${l}.csv`, `${l}.png`]).sort());
    expect(fs.readdirSync(graphs.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await dispatcher.stop();
  }, 90_000);
});
