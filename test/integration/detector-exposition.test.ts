import http from 'node:http';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { Registry } from 'prom-client';
import type { MatrixSeries } from '../../src/common/matrix-parser';
import { parseSampleValue } from '../../src/common/matrix-parser';
import { rootLogger } from '../../src/common/logger';
import type { ServiceServer } from '../../src/common/http-server';
import { singlePrecision } from '../../src/common/exposition-writer';
import { parseConfig } from '../../src/config/load';
import { serveDetector } from '../../src/detector/detector';
import { DetectorEngine, engineMetrics, type RangeSource } from '../../src/detector/engine';
import { BANDED_DETECTORS } from '../../src/detector/algorithms/model';
import { runEveryRule, visitSeries } from '../helpers/detector';
import { PROMTOOL_BIN, startPrometheus, type StartedPrometheus } from '../helpers/prometheus';
import { waitFor } from '../helpers/wait';

const HOUR = 3_600_000;
const PER_RULE = 1_500;

/** Label values a renderer must escape, and a source label named like one of ours. */
function labels(rule: number, i: number): Record<string, string> {
  const odd = ['plain', 'quote " inside', 'back\\slash', 'new\nline', 'Zürich ☃', ''][i % 6];
  return { __name__: `load_${rule}`, instance: `host-${i}:9100`, note: odd, rule: 'theirs' };
}

/** Each rule's series at every asked step: a daily curve, a different level per series. */
class Source implements RangeSource {
  async queryRangeEach(
    expr: string,
    start: number,
    end: number,
    step: number,
    visit: (series: MatrixSeries) => void,
  ) {
    const rule = Number(expr.slice('load_'.length));
    const timestamps: number[] = [];
    for (let t = start; t <= end; t += step) timestamps.push(t);
    const series = Array.from({ length: PER_RULE }, (_, i) => ({
      labels: labels(rule, i),
      timestamps,
      values: timestamps.map((t) => i + 10 * Math.sin(t / HOUR) + ((t / step + i) % 7) / 3),
    }));
    return visitSeries(series, visit);
  }
}

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

const outputLines = (text: string) => text.split('\n').filter((line) => line.startsWith('vigil_anomaly'));

describe('the detector exposition at a size where a mistake would show (3 rules x 1,500 series)', () => {
  let engine: DetectorEngine;
  let server: ServiceServer;
  let prometheus: StartedPrometheus;
  let clock = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;

  beforeAll(async () => {
    const config = parseConfig({
      detector: {
        lag: '0s',
        defaults: {
          step: '1h',
          zscore: { window: '12h', min_points: 3 },
          seasonal: { period: '6h', seasons: 2, resolution: '1h', min_seasons: 1 },
          range: { window: '12h', min_history: '2h' },
        },
        rules: [
          { name: 'r0', query: 'load_0' },
          { name: 'r1', query: 'load_1', min: 0, max: 100 },
          { name: 'r2', query: 'load_2', direction: 'high' },
        ],
      },
    }).detector;
    const logger = rootLogger.child({ component: 'test' });
    logger.level = 'silent';
    const registry = new Registry();
    engine = new DetectorEngine({
      config,
      source: new Source(),
      metrics: engineMetrics(registry),
      logger,
      now: () => clock,
    });
    await runEveryRule(engine);
    server = await serveDetector(engine, registry, '127.0.0.1:0');
    prometheus = await startPrometheus({
      scrapeTargets: [{ job: 'detector', targets: [server.url.replace('http://', '')] }],
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await server?.close();
  });

  /** Every output sample the state says there should be, keyed as Prometheus shows a series. */
  function expected(): Map<string, number> {
    const out = new Map<string, number>();
    for (const state of engine.rules) {
      const { min = -Infinity, max = Infinity } = state.rule;
      for (const [labelText, slot] of state.series) {
        const verdict = state.verdicts.verdict(slot)!;
        expect(verdict).toBeDefined();
        const key = (name: string, extra = '') => `${name}{${labelText}${extra}}`;
        out.set(key('vigil_anomaly'), verdict.anomalous ? 1 : 0);
        // Sparse: only an anomalous series has a strength, by the detector that decided.
        if (verdict.anomalous)
          out.set(key('vigil_anomaly_strength', `,detector="${verdict.detector}"`), verdict.strength);
        for (const detector of BANDED_DETECTORS) {
          const estimate = verdict[detector];
          if (!estimate) continue;
          const extra = `,detector="${detector}"`;
          out.set(key('vigil_anomaly_score', extra), estimate.score);
          out.set(key('vigil_anomaly_expected', extra), estimate.expected);
          out.set(
            key('vigil_anomaly_lower', extra),
            singlePrecision(Math.min(max, Math.max(min, estimate.lower))),
          );
          out.set(
            key('vigil_anomaly_upper', extra),
            singlePrecision(Math.min(max, Math.max(min, estimate.upper))),
          );
        }
      }
    }
    return out;
  }

  test('a real Prometheus scrapes it (gzip asked) and reads back every series with its value', async () => {
    const want = expected();
    // All three banded detectors speak, so each of the five families is there for every series,
    // and the strength for the anomalous ones.
    const strengths = [...want.keys()].filter((key) => key.startsWith('vigil_anomaly_strength{')).length;
    expect(strengths).toBeGreaterThan(0);
    expect(want.size).toBe(3 * PER_RULE * 13 + strengths);
    let got: Array<{ metric: Record<string, string>; value: [number, string] }> = [];
    await waitFor(
      async () => {
        got = await prometheus.query('{__name__=~"vigil_anomaly.*", job="detector"}');
        return got.length === want.size;
      },
      { timeoutMs: 60_000, what: 'every output series in Prometheus' },
    );
    // Prometheus keeps our labels but `instance`, which its target label takes over (ours
    // becomes exported_instance), and drops empty ones; the key is rebuilt in our label order.
    const mismatches: string[] = [];
    for (const { metric, value } of got) {
      const { __name__: name, ...rest } = metric;
      delete rest.job;
      delete rest.instance;
      const source = rest.exported_instance;
      delete rest.exported_instance;
      const ordered: Record<string, string> = {};
      // Our label order: the source labels sorted, then rule, then detector.
      for (const label of ['instance', 'note', 'exported_rule'])
        ordered[label] = label === 'instance' ? source : (rest[label] ?? '');
      ordered.rule = rest.rule;
      if (rest.detector) ordered.detector = rest.detector;
      const text = Object.entries(ordered)
        .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
        .join(',');
      const key = `${name}{${text}}`;
      const wanted = want.get(key);
      // The state holds the outputs in single precision: the number Prometheus parsed, rounded
      // the same way, must be exactly the state's.
      if (wanted === undefined || !Object.is(wanted, singlePrecision(parseSampleValue(value[1])))) {
        mismatches.push(`${key}: got ${value[1]}, state ${wanted}`);
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  test('promtool check metrics passes on the whole body', async () => {
    const { body } = await get(`${server.url}/metrics`);
    const lines = outputLines(body.toString());
    expect(lines.filter((line) => !line.startsWith('vigil_anomaly_strength{'))).toHaveLength(
      3 * PER_RULE * 13,
    );
    const out = execFileSync(PROMTOOL_BIN, ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(out).toBe('');
  });

  test('gzip when asked, identity otherwise, the same outputs either way', async () => {
    const plain = await get(`${server.url}/metrics`);
    const zipped = await get(`${server.url}/metrics`, { 'Accept-Encoding': 'gzip' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.body.length).toBeLessThan(plain.body.length / 4);
    const unzipped = zlib.gunzipSync(zipped.body).toString();
    expect(outputLines(unzipped)).toEqual(outputLines(plain.body.toString()));
    // The self-metrics follow the cached outputs inside the one gzip member.
    expect(unzipped).toMatch(/^vigil_detector_series\{rule="r2"\} 1500$/m);
  });

  test('the cached outputs are served until a cycle, and rendered again after it', async () => {
    const before = outputLines((await get(`${server.url}/metrics`)).body.toString());
    expect(outputLines((await get(`${server.url}/metrics`)).body.toString())).toEqual(before);
    clock += HOUR;
    await runEveryRule(engine);
    const render = jest.spyOn(engine, 'renderOutputs');
    const after = outputLines((await get(`${server.url}/metrics`)).body.toString());
    // The scrapes before are done: the rendering writes over the last one's bytes.
    expect(render).toHaveBeenCalledTimes(1);
    expect(render.mock.calls[0][0]?.length).toBeGreaterThan(3 * PER_RULE * 13 * 50);
    render.mockRestore();
    expect(after).not.toEqual(before);
    expect(after).toEqual(outputLines(engine.renderOutputs().toString()));
  });
});
