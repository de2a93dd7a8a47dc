import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { singlePrecision } from '../../src/common/exposition-writer';
import { rootLogger } from '../../src/common/logger';
import type { MatrixSeries } from '../../src/common/matrix-parser';
import { PrometheusError, type RangeSeries } from '../../src/common/prometheus-client';
import { parseConfig } from '../../src/config/load';
import { DetectorEngine, engineMetrics, type RangeSource } from '../../src/detector/engine';
import { seriesKey, seriesLabels, stableHash } from '../../src/detector/sharding';
import { loadSnapshot, saveSnapshot } from '../../src/detector/snapshot';
import { tempDir } from '../helpers/tmp';
import { MINUTE } from './series';
import { runEveryRule, visitSeries } from '../helpers/detector';

/** Both detectors on: a 10-minute season so the seasonal state is exercised too. */
const seasonalDefaults = {
  step: '1m',
  zscore: { window: '2h' },
  seasonal: { period: '10m', seasons: 3, resolution: '1m', min_seasons: 1 },
  range: { window: '2h' },
};

/** A Prometheus stand-in: `hosts` series of a constant-ish value at every step asked for. */
class FakeSource implements RangeSource {
  calls: Array<{ start: number; end: number; step: number }> = [];
  hosts = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  /** Hosts whose value jumps to 1,000 from `spikeFrom` on. */
  spiking: string[] = [];
  spikeFrom = Infinity;
  async queryRangeEach(
    _expr: string,
    start: number,
    end: number,
    step: number,
    visit: (series: MatrixSeries) => void,
  ) {
    const perChunk = 11_000;
    let count = 0;
    for (let chunkStart = start; chunkStart <= end; chunkStart += perChunk * step) {
      const chunkEnd = Math.min(end, chunkStart + (perChunk - 1) * step);
      this.calls.push({ start: chunkStart, end: chunkEnd, step });
      const timestamps: number[] = [];
      for (let t = chunkStart; t <= chunkEnd; t += step) timestamps.push(t);
      count = visitSeries(
        this.hosts.map((host): RangeSeries => ({
          labels: { __name__: 'load', host, rule: 'theirs' },
          timestamps,
          values: timestamps.map((t) =>
            this.spiking.includes(host) && t >= this.spikeFrom ? 1000 : 10 + ((t / step) % 3),
          ),
        })),
        visit,
      );
    }
    return count;
  }
}

function engine(source: RangeSource, detector: object, clock: { now: number }) {
  const config = parseConfig({
    detector: {
      lag: '0s',
      overlap: '3m',
      stale_after: '5m',
      backfill_chunk: '1h',
      defaults: {
        step: '1m',
        zscore: { window: '2h' },
        seasonal: { enabled: false },
        range: { window: '2h' },
      },
      rules: [{ name: 'load', query: 'load' }],
      ...detector,
    },
  }).detector;
  const registry = new Registry();
  const metrics = engineMetrics(registry);
  const logger = rootLogger.child({ component: 'test' });
  logger.level = 'silent';
  return {
    registry,
    engine: new DetectorEngine({
      config,
      source,
      metrics,
      logger,
      now: () => clock.now,
    }),
  };
}

const T0 = Date.UTC(2024, 0, 1, 12);

describe('detector engine', () => {
  test('backfills the history in chunks, then fetches only new steps plus the overlap', async () => {
    const source = new FakeSource();
    const clock = { now: T0 };
    const { engine: e, registry } = engine(source, {}, clock);
    await runEveryRule(e);
    // 2 h of history at 1 m: one step to learn the series count, then 1 h chunks.
    expect(source.calls.map((c) => [(c.start - T0) / MINUTE, (c.end - T0) / MINUTE])).toEqual([
      [-120, -120],
      [-119, -60],
      [-59, 0],
    ]);
    source.calls = [];
    clock.now = T0 + 2 * MINUTE + 10_000;
    await runEveryRule(e);
    expect(source.calls.map((c) => [(c.start - T0) / MINUTE, (c.end - T0) / MINUTE])).toEqual([[-3, 2]]);
    const samples = await registry.getSingleMetric('vigil_detector_samples_fetched_total')!.get();
    expect(samples.values[0].value).toBe(8 * (121 + 6));
  });

  test('a rule exports nothing while its backfill runs: its verdicts are about a point in the past until it ends', async () => {
    const source = new FakeSource();
    let backfilling!: () => void;
    const halfway = new Promise<void>((resolve) => (backfilling = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    // The last of the three requests (one step, then two 1 h chunks) waits until the test resumes it.
    const paused: RangeSource = {
      async queryRangeEach(expr, start, end, step, visit) {
        if (source.calls.length === 2) {
          backfilling();
          await resumed;
        }
        return source.queryRangeEach(expr, start, end, step, visit);
      },
    };
    const { engine: e } = engine(paused, {}, { now: T0 });
    const cycle = e.runRule(e.rules[0]);
    await halfway;
    // An hour of history in, the models have verdicts, about the point an hour ago.
    expect(e.rules[0].series.size).toBe(8);
    expect(e.renderOutputs().toString()).not.toMatch(/^vigil_anomaly/m);
    resume();
    await cycle;
    expect(
      e
        .renderOutputs()
        .toString()
        .match(/^vigil_anomaly\{/gm),
    ).toHaveLength(8);
  });

  test('outputs keep source labels (clashing ones as exported_*), drop __name__, add rule and detector', async () => {
    const { engine: e } = engine(new FakeSource(), {}, { now: T0 });
    await runEveryRule(e);
    const lines = e.renderOutputs().toString().split('\n');
    expect(lines.filter((l) => l.startsWith('vigil_anomaly_score{'))).toHaveLength(8);
    expect(lines).toContain('# TYPE vigil_anomaly_score gauge');
    expect(lines.find((l) => l.startsWith('vigil_anomaly_score{'))).toMatch(
      /^vigil_anomaly_score\{host="a",exported_rule="theirs",rule="load",detector="zscore"\} -?\d/,
    );
    expect(lines).toContain('vigil_anomaly{host="a",exported_rule="theirs",rule="load"} 0');
    for (const name of ['vigil_anomaly_expected', 'vigil_anomaly_lower', 'vigil_anomaly_upper']) {
      expect(lines.filter((l) => l.startsWith(`${name}{`))).toHaveLength(8);
    }
  });

  test('vigil_anomaly_strength: one line per anomalous series only, valued and labelled by its verdict', async () => {
    const strengthLines = async (range: object) => {
      const source = new FakeSource();
      source.spiking = ['c'];
      source.spikeFrom = T0;
      const defaults = { step: '1m', zscore: { window: '2h' }, seasonal: { enabled: false }, range };
      const { engine: e } = engine(source, { defaults }, { now: T0 });
      await runEveryRule(e);
      const { series, verdicts } = e.rules[0];
      const anomalous = [...series].filter(([, slot]) => verdicts.anomalous(slot));
      const lines = e.renderOutputs().toString().split('\n');
      expect(lines.filter((l) => l.startsWith('vigil_anomaly{') && l.endsWith(' 1'))).toHaveLength(1);
      expect(lines).toContain('# TYPE vigil_anomaly_strength gauge');
      const strength = lines.filter((l) => l.startsWith('vigil_anomaly_strength{'));
      // The value as written, read back in single precision as the state keeps it.
      const read = (line: string) => {
        const at = line.lastIndexOf(' ');
        return `${line.slice(0, at)} ${singlePrecision(Number(line.slice(at + 1)))}`;
      };
      expect(strength.map(read)).toEqual(
        anomalous.map(
          ([labelText, slot]) =>
            `vigil_anomaly_strength{${labelText},detector="${verdicts.verdict(slot)!.detector}"} ${verdicts.verdict(slot)!.strength}`,
        ),
      );
      return strength;
    };
    // The jump leaves the seen range by hundreds of its widths: the range detector decides.
    const [range] = await strengthLines({ window: '2h', min_history: '1h' });
    expect(range).toMatch(
      /^vigil_anomaly_strength\{host="c",exported_rule="theirs",rule="load",detector="range"\} \d/,
    );
    expect(Number(range.split(' ')[1])).toBeGreaterThan(100);
    // Without it the z-score detector does, with its own (smaller) strength.
    const [zscore] = await strengthLines({ enabled: false });
    expect(zscore).toMatch(/^vigil_anomaly_strength\{host="c",.*,detector="zscore"\} \d/);
    expect(Number(zscore.split(' ')[1])).toBeLessThan(Number(range.split(' ')[1]));
  });

  test("exports each rule's query as vigil_detector_rule_info, the label value escaped", async () => {
    const query = 'sum by (job) (rate(x{path="C:\\tmp"}[5m]))\n  > 0';
    const { registry } = engine(
      new FakeSource(),
      {
        rules: [
          { name: 'load', query: 'load' },
          { name: 'odd', query },
        ],
      },
      { now: T0 },
    );
    const lines = (await registry.metrics()).split('\n');
    expect(lines.filter((l) => l.startsWith('vigil_detector_rule_info{'))).toEqual([
      'vigil_detector_rule_info{rule="load",query="load"} 1',
      'vigil_detector_rule_info{rule="odd",query="sum by (job) (rate(x{path=\\"C:\\\\tmp\\"}[5m]))\\n  > 0"} 1',
    ]);
  });

  test('a rule with min/max exports its band clipped to that domain; score and baseline unchanged', async () => {
    const band = async (domain: object) => {
      const { engine: e } = engine(
        new FakeSource(),
        { rules: [{ name: 'load', query: 'load', ...domain }] },
        { now: T0 },
      );
      await runEveryRule(e);
      const values = (name: string) =>
        e
          .renderOutputs()
          .toString()
          .split('\n')
          .filter((l) => l.startsWith(`${name}{`))
          .map((l) => Number(l.split(' ').pop()));
      return {
        lower: values('vigil_anomaly_lower'),
        upper: values('vigil_anomaly_upper'),
        rest: [values('vigil_anomaly_score'), values('vigil_anomaly_expected')],
      };
    };
    const free = await band({});
    // The unclipped band reaches past the domain the test sets: the clipping has something to do.
    expect(Math.min(...free.lower)).toBeLessThan(9);
    expect(Math.max(...free.upper)).toBeGreaterThan(13);
    const clipped = await band({ min: 9, max: 13 });
    expect(clipped.lower).toEqual(free.lower.map((v) => Math.max(9, v)));
    expect(clipped.upper).toEqual(free.upper.map((v) => Math.min(13, v)));
    expect(clipped.rest).toEqual(free.rest);
  });

  test('requests are sized to max_samples_per_query from the series count', async () => {
    const source = new FakeSource();
    const { engine: e } = engine(source, { max_samples_per_query: 1000 }, { now: T0 });
    await runEveryRule(e);
    // 8 series: 125 steps per request at most; 121 steps of history after the first probe step.
    expect(source.calls.map((c) => (c.end - c.start) / MINUTE + 1)).toEqual([1, 60, 60]);
    const tight = new FakeSource();
    tight.hosts = Array.from({ length: 100 }, (_, i) => `h${i}`);
    const { engine: t } = engine(tight, { max_samples_per_query: 1000 }, { now: T0 });
    await runEveryRule(t);
    // 100 series: 10 steps per request.
    expect(tight.calls.map((c) => (c.end - c.start) / MINUTE + 1)).toEqual([1, ...new Array(12).fill(10)]);
    // A query that returns nothing is not fetched one step at a time.
    const empty = new FakeSource();
    empty.hosts = [];
    await runEveryRule(engine(empty, {}, { now: T0 }).engine);
    expect(empty.calls.map((c) => (c.end - c.start) / MINUTE + 1)).toEqual([1, 60, 60]);
  });

  test('series that vanish are dropped after stale_after, with their outputs', async () => {
    const source = new FakeSource();
    const clock = { now: T0 };
    const { engine: e } = engine(source, {}, clock);
    await runEveryRule(e);
    source.hosts = ['a'];
    clock.now += 4 * MINUTE;
    await runEveryRule(e);
    expect(e.rules[0].series.size).toBe(8);
    clock.now += 2 * MINUTE;
    await runEveryRule(e);
    expect(e.rules[0].series.size).toBe(1);
    expect(
      e
        .renderOutputs()
        .toString()
        .match(/^vigil_anomaly\{/gm),
    ).toHaveLength(1);
  });

  test('--shard i/N: replicas split the series between them, each exactly once', async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { engine: e } = engine(new FakeSource(), { shard: `${i}/3` }, { now: T0 });
      await runEveryRule(e);
      seen.push(...[...e.rules[0].series.keys()].map((labelText) => /host="(\w)"/.exec(labelText)![1]));
      sizes.push(e.rules[0].series.size);
    }
    expect(Math.max(...sizes)).toBeLessThan(8);
    expect(seen.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
    // The hash is stable (FNV-1a), not per process: the same split on every replica.
    expect(stableHash(seriesKey(seriesLabels({ __name__: 'x', host: 'a' })))).toBe(
      stableHash('host\u0000a\u0001'),
    );
    expect(stableHash('')).toBe(0x811c9dc5);
  });
});

describe('state snapshot', () => {
  const silent = rootLogger.child({ component: 'test' });
  silent.level = 'silent';

  test('a restarted engine resumes from the snapshot (of this version or version 1): no backfill, the same scores as without restart', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir.path, 'state.json');
      const clock = { now: T0 };
      const first = engine(new FakeSource(), { defaults: seasonalDefaults }, clock).engine;
      await runEveryRule(first);
      clock.now += 5 * MINUTE;
      await runEveryRule(first);
      await saveSnapshot(file, first.rules);

      const source = new FakeSource();
      const restarted = engine(source, { defaults: seasonalDefaults }, clock).engine;
      loadSnapshot(file, restarted.rules, silent);
      expect(restarted.rules[0].series.size).toBe(8);
      // The outputs are back before the first cycle (the latest verdicts are in the snapshot).
      expect(restarted.renderOutputs().toString()).toBe(first.renderOutputs().toString());
      // A file of version 1 (a key before each series) is restored the same.
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as {
        version: number;
        rules: Array<{ series: unknown[][] }>;
      };
      expect(saved.version).toBe(2);
      saved.version = 1;
      for (const rule of saved.rules) rule.series = rule.series.map((entry) => ['a key', ...entry]);
      fs.writeFileSync(file, JSON.stringify(saved));
      const fromVersion1 = engine(new FakeSource(), { defaults: seasonalDefaults }, clock).engine;
      loadSnapshot(file, fromVersion1.rules, silent);
      expect(fromVersion1.rules[0].series.size).toBe(8);
      expect(fromVersion1.renderOutputs().toString()).toBe(first.renderOutputs().toString());
      clock.now += 3 * MINUTE;
      await runEveryRule(first);
      await runEveryRule(restarted);
      // Only the new steps and the overlap were fetched, not the 2 h history.
      expect(source.calls.map((c) => [(c.start - T0) / MINUTE, (c.end - T0) / MINUTE])).toEqual([[2, 8]]);
      expect(restarted.renderOutputs().toString()).toBe(first.renderOutputs().toString());
      expect(restarted.renderOutputs().toString()).toMatch(/detector="seasonal"/);
    } finally {
      dir.remove();
    }
  });

  test('a changed rule or an unreadable file starts from scratch (backfill), without failing', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir.path, 'state.json');
      const clock = { now: T0 };
      const first = engine(new FakeSource(), {}, clock).engine;
      await runEveryRule(first);
      await saveSnapshot(file, first.rules);
      const changed = engine(
        new FakeSource(),
        { rules: [{ name: 'load', query: 'load * 2' }] },
        clock,
      ).engine;
      loadSnapshot(file, changed.rules, silent);
      expect(changed.rules[0].fetchedUntil).toBeUndefined();
      expect(changed.rules[0].series.size).toBe(0);
      fs.writeFileSync(file, '{"version": 1, "rules": [{"name": "load", "fingerprint": 1');
      const corrupt = engine(new FakeSource(), {}, clock).engine;
      loadSnapshot(file, corrupt.rules, silent);
      expect(corrupt.rules[0].fetchedUntil).toBeUndefined();
      loadSnapshot(path.join(dir.path, 'missing.json'), corrupt.rules, silent);
    } finally {
      dir.remove();
    }
  });

  test.each([
    ['a null rule', '{"version":1,"saved_at":0,"rules":[null]}', 'rules[0]: '],
    [
      'series that are not tuples',
      '{"version":1,"saved_at":0,"rules":[{"name":"load","fingerprint":"x","fetched_until":0,"series":[5]}]}',
      'rules[0].series[0]: ',
    ],
    ['another version', '{"version":3,"rules":[]}', 'version: '],
  ])('a snapshot with %s is one warning and a fresh backfill', (_what, text, where) => {
    const dir = tempDir();
    try {
      const file = path.join(dir.path, 'state.json');
      fs.writeFileSync(file, text);
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
      const fresh = engine(new FakeSource(), {}, { now: T0 }).engine;
      loadSnapshot(file, fresh.rules, logger);
      expect(fresh.rules[0].fetchedUntil).toBeUndefined();
      const warnings = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0].err).toMatch(new RegExp(`^${where.replace(/[[\]]/g, '\\$&')}`));
    } finally {
      dir.remove();
    }
  });

  test('a snapshot from the future (the clock was ahead) is ignored, and the rule backfills and scores', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir.path, 'state.json');
      const ahead = { now: T0 + 30 * 86_400_000 };
      const first = engine(new FakeSource(), {}, ahead).engine;
      await runEveryRule(first);
      await saveSnapshot(file, first.rules, ahead.now);

      const clock = { now: T0 };
      const source = new FakeSource();
      const restarted = engine(source, {}, clock).engine;
      loadSnapshot(file, restarted.rules, silent, clock.now);
      expect(restarted.rules[0].fetchedUntil).toBeUndefined();
      await runEveryRule(restarted);
      expect(source.calls.length).toBeGreaterThan(0);
      expect(restarted.rules[0].fetchedUntil).toBe(T0);
    } finally {
      dir.remove();
    }
  });

  test('logs a failing rule once per distinct error, not once per cycle, while counting every failure', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    let message = 'ECONNREFUSED';
    const down: RangeSource = {
      queryRangeEach() {
        return Promise.reject(new PrometheusError('unavailable', message));
      },
    };
    const config = parseConfig({
      detector: { rules: [{ name: 'load', query: 'load' }], defaults: { seasonal: { enabled: false } } },
    }).detector;
    const registry = new Registry();
    const e = new DetectorEngine({
      config,
      source: down,
      metrics: engineMetrics(registry),
      logger,
      now: () => T0,
    });
    for (let cycle = 0; cycle < 3; cycle++) await runEveryRule(e);
    message = 'timeout';
    await runEveryRule(e);
    const errors = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 50);
    expect(errors.map((entry) => entry.err)).toEqual(['ECONNREFUSED', 'timeout']);
    const failures = await registry.getSingleMetric('vigil_detector_query_errors_total')!.get();
    expect(failures.values.reduce((sum, v) => sum + v.value, 0)).toBe(4);
  });
});
