import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { rootLogger } from '../../src/common/logger';
import { PrometheusClient } from '../../src/common/prometheus-client';
import { parseConfig } from '../../src/config/load';
import { DetectorEngine, engineMetrics } from '../../src/detector/engine';
import { unlistenedPort } from '../helpers/net';
import { runEveryRule } from '../helpers/detector';

/** A Prometheus stand-in over real HTTP that answers 503 while `down`, else one series. */
async function flakyPrometheus() {
  const state = { down: true, requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests++;
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      if (state.down) {
        res.writeHead(503, { 'Content-Type': 'text/plain' }).end('Service Unavailable');
        return;
      }
      const params = new URLSearchParams(body);
      const start = Number(params.get('start'));
      const end = Number(params.get('end'));
      const step = Number(params.get('step'));
      const values: Array<[number, string]> = [];
      for (let t = start; t <= end; t += step) values.push([t, '42']);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'matrix', result: [{ metric: { host: 'a' }, values }] },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { state, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function detectorFor(url: string) {
  const config = parseConfig({
    detector: {
      prometheus: { url, retries: 2 },
      defaults: {
        step: '1m',
        zscore: { window: '1h' },
        seasonal: { enabled: false },
        range: { window: '1h' },
      },
      rules: [{ name: 'load', query: 'load' }],
    },
  }).detector;
  const registry = new Registry();
  const logger = rootLogger.child({ component: 'test' });
  logger.level = 'silent';
  const engine = new DetectorEngine({
    config,
    // A short backoff base keeps the retries quick.
    source: new PrometheusClient(config.prometheus, { backoffBaseMs: 5 }),
    metrics: engineMetrics(registry),
    logger,
  });
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const values = (await registry.getSingleMetric(name)!.get()).values;
    return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
  };
  return { engine, metric };
}

describe('detector when Prometheus is down', () => {
  test('nothing listening: up = 0, an unavailable error counted, no throw', async () => {
    const { engine, metric } = detectorFor(`http://127.0.0.1:${await unlistenedPort()}`);
    await expect(runEveryRule(engine)).resolves.toBeUndefined();
    expect(await metric('vigil_detector_up')).toBe(0);
    expect(await metric('vigil_detector_rule_up', { rule: 'load' })).toBe(0);
    expect(await metric('vigil_detector_query_errors_total', { rule: 'load', kind: 'unavailable' })).toBe(1);
    expect(engine.ready).toBe(true);
  });

  test('503s are retried (1 + retries requests), then the next cycle recovers and backfills', async () => {
    const prometheus = await flakyPrometheus();
    try {
      const { engine, metric } = detectorFor(prometheus.url);
      await runEveryRule(engine);
      expect(prometheus.state.requests).toBe(3);
      expect(await metric('vigil_detector_up')).toBe(0);
      expect(engine.rules[0].fetchedUntil).toBeUndefined();
      prometheus.state.down = false;
      await runEveryRule(engine);
      expect(await metric('vigil_detector_up')).toBe(1);
      expect(await metric('vigil_detector_rule_up', { rule: 'load' })).toBe(1);
      expect(engine.rules[0].series.size).toBe(1);
      // The whole hour of history arrived after the outage (61 steps).
      expect(await metric('vigil_detector_samples_fetched_total', { rule: 'load' })).toBe(61);
    } finally {
      await prometheus.close();
    }
  });
});
