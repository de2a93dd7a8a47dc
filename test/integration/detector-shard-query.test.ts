import { Registry } from 'prom-client';
import { rootLogger } from '../../src/common/logger';
import { PrometheusClient } from '../../src/common/prometheus-client';
import { parseConfig } from '../../src/config/load';
import { DetectorEngine, engineMetrics } from '../../src/detector/engine';
import { runEveryRule } from '../helpers/detector';
import { startPrometheus, type StartedPrometheus } from '../helpers/prometheus';

const MINUTE = 60_000;
const HOSTS = Array.from({ length: 12 }, (_, i) => ({ host: `host-${i}`, shard: String(i % 3) }));

/** An hour of one series per host, each carrying the shard label a hashmod relabelling writes. */
function history(end: number): string {
  const lines = ['# TYPE vigil_shardq gauge'];
  for (const { host, shard } of HOSTS) {
    for (let k = 60; k >= 0; k--) {
      lines.push(
        `vigil_shardq{instance="${host}",vigil_shard="${shard}"} ${k % 5} ${(end - k * MINUTE) / 1000}`,
      );
    }
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

describe('shard by query (detector.shard_label) against a real Prometheus', () => {
  let prometheus: StartedPrometheus;
  const end = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;

  beforeAll(async () => {
    prometheus = await startPrometheus({ backfillOpenMetrics: history(end) });
  });
  afterAll(() => prometheus?.stop());

  test('each replica fetches and tracks only the series of its shard, and together they cover all', async () => {
    const logger = rootLogger.child({ component: 'test' });
    logger.level = 'silent';
    const tracked: string[][] = [];
    for (let index = 0; index < 3; index++) {
      const config = parseConfig({
        detector: {
          prometheus: { url: prometheus.url },
          lag: '0s',
          shard: `${index}/3`,
          shard_label: 'vigil_shard',
          defaults: { step: '1m', zscore: { window: '30m', min_points: 3 }, seasonal: { enabled: false } },
          // An aggregation over the selector: the matcher must narrow the series under it.
          rules: [{ name: 'q', query: 'max by (instance) (vigil_shardq)' }],
        },
      }).detector;
      const registry = new Registry();
      const engine = new DetectorEngine({
        config,
        source: new PrometheusClient(config.prometheus),
        metrics: engineMetrics(registry),
        logger,
        now: () => end,
      });
      expect(engine.rules[0].query).toBe(`max by (instance) (vigil_shardq{vigil_shard="${index}"})`);
      await runEveryRule(engine);
      expect(engine.rules[0].lastError).toBeUndefined();
      const hosts = [...engine.rules[0].series.keys()].map(
        (labelText) => /instance="([^"]+)"/.exec(labelText)![1],
      );
      expect(hosts.sort()).toEqual(
        HOSTS.filter((h) => h.shard === String(index))
          .map((h) => h.host)
          .sort(),
      );
      // Only this shard's series crossed the wire: 4 hosts, not 12.
      expect(engine.rules[0].seriesPerAnswer).toBe(4);
      tracked.push(hosts);
    }
    expect(tracked.flat().sort()).toEqual(HOSTS.map((h) => h.host).sort());
  });
});
