/**
 * Detector benchmarks.
 *
 * 1. In-process, no Prometheus: CPU of one steady-state cycle (each series gets its new point
 *    plus the overlap, as live) and the memory of the per-series state, for 1,000 and
 *    10,000 series under the shipped default settings (1m step, z-score over 7d in 12 buckets,
 *    seasonal 1d x 4 seasons at 30m). The state is warmed with 8 days of history at 15m steps,
 *    which fills every buffer as 8 days at 1m would (the buffers are fixed-size). Also the CPU of
 *    rendering /metrics, and the size and time of the state snapshot, for those series.
 * 1b. The robust z-score's window per point: order-statistic tree vs sorting the window
 *    (simple-statistics' median and MAD), the obvious way to do it.
 * 2. Against a real Prometheus (Debian's, backfilled with promtool): samples fetched and wall
 *    time per cycle in steady state, compared with refetching the whole window every cycle.
 *
 * 3. At scale (issue 12): 100,000 series in one rule, over 10 rules, and as one replica of four
 *    sharded by hash and by query, against a stand-in Prometheus API (bench/lib/) over HTTP:
 *    cycle CPU including the parse of the answers, /metrics rendered, cached and gzipped, and RSS.
 *    Each scenario runs in a process of its own, plain `node` on the compiled code (dist/, as
 *    `vigil detector` runs; bench/lib/detector-at-scale.ts).
 *
 * Run alone: npx tsx bench/detector.ts   (targets: 10,000 series < 100 ms CPU/cycle, < 50 MiB;
 * 100,000 series < 1 s CPU/cycle, /metrics < 0.5 s, < 4 KiB per series)
 * Only the scale part: npm run build && npx tsx bench/detector.ts scale   (VIGIL_BENCH_SCALE=10000
 * for a quick run, VIGIL_BENCH_ONLY=z-score for the scenarios whose label holds that text)
 */
import { fork, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Registry } from 'prom-client';
import { median, medianAbsoluteDeviation } from 'simple-statistics';
import ts from 'typescript';
import { rootLogger } from '../src/common/logger';
import type { MatrixSeries } from '../src/common/matrix-parser';
import { PrometheusClient, type RangeSeries } from '../src/common/prometheus-client';
import { parseConfig } from '../src/config/load';
import { DetectorEngine, engineMetrics, type RangeSource } from '../src/detector/engine';
import { SeriesModel } from '../src/detector/algorithms/model';
import { rollingZScore } from '../src/detector/algorithms/zscore';
import { modelSettings } from '../src/detector/rules';
import { loadSnapshot, saveSnapshot } from '../src/detector/snapshot';
import { startPrometheus } from '../test/helpers/prometheus';
import { runEveryRule, visitSeries } from '../test/helpers/detector';
import { ZSCORE_ONLY, type Scale, type ScaleFigures } from './lib/detector-at-scale';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const logger = rootLogger.child({ component: 'bench' });
logger.level = 'silent';

/** N series of a noisy daily curve at whatever steps are asked for; labels like node_exporter's. */
class SyntheticSource implements RangeSource {
  constructor(private readonly count: number) {}
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
      const timestamps: number[] = [];
      for (let t = chunkStart; t <= chunkEnd; t += step) timestamps.push(t);
      const chunk: RangeSeries[] = [];
      for (let i = 0; i < this.count; i++) {
        chunk.push({
          labels: {
            instance: `host-${i % 1000}.example.com:9100`,
            job: 'node',
            device: `sd${(i / 1000) | 0}`,
          },
          timestamps,
          values: timestamps.map(
            (t) => 50 + 30 * Math.sin((2 * Math.PI * (t % DAY)) / DAY) + ((t * 7 + i * 13) % 17) / 4,
          ),
        });
      }
      count = visitSeries(chunk, visit);
    }
    return count;
  }
}

function detectorConfig(extra: object = {}) {
  return parseConfig({ detector: { rules: [{ name: 'load', query: 'load' }], ...extra } }).detector;
}

function newEngine(source: RangeSource, config = detectorConfig(), now: () => number) {
  return new DetectorEngine({
    config,
    source,
    metrics: engineMetrics(new Registry()),
    logger,
    now,
  });
}

function retained(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

const cpuMs = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

async function inProcess(count: number) {
  const base = retained();
  // Warm-up: 8 days of history at 15 m steps fill every buffer.
  const warmConfig = detectorConfig({ defaults: { step: '15m' } });
  const end = Math.floor(Date.now() / DAY) * DAY;
  const engine = newEngine(new SyntheticSource(count), detectorConfig(), () => clock);
  let clock = end;
  const warm = newEngine(new SyntheticSource(count), warmConfig, () => end);
  warm.rules[0].fetchedUntil = undefined;
  await runEveryRule(warm);
  // Move the warmed models into the 1m engine: same settings but the step.
  const [from] = warm.rules;
  for (const [labelText, slot] of from.series) engine.rules[0].add(labelText, from.models[slot]!, end);
  warm.rules.length = 0;
  engine.rules[0].fetchedUntil = end;
  const memory = retained() - base;

  const cycles = 20;
  const start = process.cpuUsage();
  for (let c = 1; c <= cycles; c++) {
    clock = end + c * MINUTE + 30_000;
    await runEveryRule(engine);
  }
  const cycle = cpuMs(start) / cycles;

  const renderStart = process.cpuUsage();
  const text = engine.renderOutputs().toString();
  const render = cpuMs(renderStart);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  const file = path.join(dir, 'state.json');
  let t = performance.now();
  await saveSnapshot(file, engine.rules);
  const saveMs = performance.now() - t;
  const snapshotBytes = fs.statSync(file).size;
  const restored = newEngine(new SyntheticSource(count), detectorConfig(), () => clock);
  t = performance.now();
  loadSnapshot(file, restored.rules, logger);
  const loadMs = performance.now() - t;
  fs.rmSync(dir, { recursive: true });
  return { count, cycle, memory, render, lines: text.split('\n').length - 1, saveMs, loadMs, snapshotBytes };
}

/**
 * CPU per point and saved state per series of one series' model: the z-score and seasonal
 * detectors alone (the model before the range and novelty detectors) and the defaults.
 */
function perPoint(label: string, settings: object, points = 40_000) {
  const defaults = parseConfig({ detector: { defaults: settings } }).detector.defaults;
  const model = new SeriesModel({ ...modelSettings(defaults), stepMs: 5 * MINUTE });
  const values = Array.from(
    { length: points },
    (_, i) => 50 + 30 * Math.sin((2 * Math.PI * i) / 288) + ((i * 7919) % 1009) / 200,
  );
  for (let i = 0; i < 2_000; i++) model.update(i * 5 * MINUTE, values[i]); // warm-up (JIT)
  const start = process.cpuUsage();
  for (let i = 2_000; i < points; i++) model.update(i * 5 * MINUTE, values[i]);
  const us = (cpuMs(start) * 1000) / (points - 2_000);
  return { label, us, bytes: model.save().byteLength };
}

/** µs per point of a sliding robust window: the order-statistic tree against sorting the window. */
function robustWindow(points: number, count = 20_000) {
  const options = {
    windowMs: points * MINUTE,
    robust: true,
    maxPoints: points + 2,
    buckets: 1,
    threshold: 4,
    minPoints: 1,
    floor: 0,
    relativeFloor: 0,
  };
  const values = Array.from({ length: count }, (_, i) => 50 + ((i * 7919) % 1009) / 100);
  const tree = rollingZScore(options);
  let start = process.cpuUsage();
  values.forEach((v, i) => tree.update(i * MINUTE, v));
  const treeUs = (cpuMs(start) * 1000) / count;
  const window: number[] = [];
  let sink = 0;
  start = process.cpuUsage();
  for (const v of values) {
    if (window.length > 0) sink += (v - median(window)) / (medianAbsoluteDeviation(window) || 1);
    window.push(v);
    if (window.length > points) window.shift();
  }
  const sortUs = (cpuMs(start) * 1000) / count;
  return { points, treeUs, sortUs, sink };
}

/** Generated OpenMetrics history for `count` series, one point per minute for `minutes`. */
function history(count: number, minutes: number, end: number): string {
  const out: string[] = ['# TYPE bench_load gauge'];
  for (let i = 0; i < count; i++) {
    for (let k = minutes; k >= 0; k--) {
      const t = end - k * MINUTE;
      const v = 50 + 30 * Math.sin((2 * Math.PI * (t % DAY)) / DAY) + ((t * 7 + i * 13) % 17) / 4;
      out.push(`bench_load{host="h${i}"} ${v.toFixed(2)} ${t / 1000}`);
    }
  }
  return `${out.join('\n')}\n# EOF\n`;
}

async function againstPrometheus(count: number) {
  const end = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
  const minutes = 26 * 60;
  const prometheus = await startPrometheus({ backfillOpenMetrics: history(count, minutes, end) });
  try {
    // A 1-day window: z-score over 1d, seasonal 1d x 1 season.
    const config = detectorConfig({
      prometheus: { url: prometheus.url },
      lag: '0s',
      defaults: { zscore: { window: '1d' }, seasonal: { seasons: 1, min_seasons: 1 } },
      rules: [{ name: 'load', query: 'bench_load' }],
    });
    const client = new PrometheusClient(config.prometheus);
    const registry = new Registry();
    let clock = end - 30 * MINUTE;
    const engine = new DetectorEngine({
      config,
      source: client,
      metrics: engineMetrics(registry),
      logger,
      now: () => clock,
    });
    const fetched = async () =>
      (await registry.getSingleMetric('vigil_detector_samples_fetched_total')!.get()).values[0]?.value ?? 0;
    const t0 = performance.now();
    await runEveryRule(engine);
    const backfillMs = performance.now() - t0;
    const backfillSamples = await fetched();
    const cycles = 10;
    let before = await fetched();
    let wall = 0;
    for (let c = 0; c < cycles; c++) {
      clock += MINUTE;
      const t = performance.now();
      await runEveryRule(engine);
      wall += performance.now() - t;
    }
    const steady = ((await fetched()) - before) / cycles;
    const steadyMs = wall / cycles;
    // The alternative: refetch the whole window every cycle (what a stateless detector does).
    before = await fetched();
    wall = 0;
    for (let c = 0; c < cycles; c++) {
      clock += MINUTE;
      engine.rules[0].fetchedUntil = undefined;
      const t = performance.now();
      await runEveryRule(engine);
      wall += performance.now() - t;
    }
    const full = ((await fetched()) - before) / cycles;
    return { count, backfillSamples, backfillMs, steady, steadyMs, full, fullMs: wall / cycles };
  } finally {
    await prometheus.stop();
  }
}

/** The stand-in Prometheus API (bench/lib/stand-in-prometheus.ts) in a child process. */
async function startStandIn(): Promise<{ url: string; stop(): void }> {
  const child = fork(path.join(__dirname, 'lib', 'stand-in-prometheus.ts'), [], {
    execArgv: ['--import', 'tsx'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`stand-in Prometheus exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

const SCALE = Number(process.env.VIGIL_BENCH_SCALE ?? 100_000);
const SCENARIOS: Scale[] = [
  { label: 'one rule', rules: 1, perRule: SCALE },
  { label: '10 rules', rules: 10, perRule: SCALE / 10 },
  { label: 'one rule, replica 0/4 (hash shard: fetches all)', rules: 1, perRule: SCALE, shard: '0/4' },
  { label: 'one rule, a quarter by query (shard_label)', rules: 1, perRule: SCALE / 4 },
  { label: 'one rule, z-score only', rules: 1, perRule: SCALE, zscoreOnly: true },
  { label: '10 rules, z-score only', rules: 10, perRule: SCALE / 10, zscoreOnly: true },
  {
    label: 'one rule, --max-semi-space-size=64',
    rules: 1,
    perRule: SCALE,
    nodeOptions: ['--max-semi-space-size=64'],
  },
];

/** One scenario's table row. */
function scaleRow(scenario: Scale, r: ScaleFigures): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
  return (
    `| ${r.series.toLocaleString('en')}, ${scenario.label} | ${s(r.cycle)} | ` +
    `${s(r.render.ms)} (${s(r.render.cpu)}, ${mb(r.render.bytes)}) | ` +
    `${((r.renderCpu * 1000) / r.lines).toFixed(2)} µs (${(r.lines / r.series).toFixed(0)}) | ${s(r.cached.ms)} | ` +
    `${s(r.gzipFirst.ms)}, then ${s(r.gzipCached.ms)} (${mb(r.gzipCached.bytes)}) | ` +
    `${(r.rss / 2 ** 20).toFixed(0)} MiB (${(r.startRss / 2 ** 20).toFixed(0)} at start) | ` +
    `${(r.rss / r.series / 1024).toFixed(1)} / ${((r.rss - r.startRss) / r.series / 1024).toFixed(1)} / ${(r.heap / r.series / 1024).toFixed(1)} KiB |`
  );
}

/**
 * Runs bench/lib/detector-at-scale.ts in a process of its own (RSS never shrinks) with plain
 * `node`, as `vigil detector` runs: the file is transpiled alone into a temporary directory, and
 * loads what it measures from dist/.
 */
function scaleRunner(): { run(scenario: Scale, url: string): ScaleFigures | undefined; remove(): void } {
  const source = path.join(__dirname, 'lib', 'detector-at-scale.ts');
  const { outputText } = ts.transpileModule(fs.readFileSync(source, 'utf8'), {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
    fileName: source,
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  const script = path.join(dir, 'detector-at-scale.js');
  fs.writeFileSync(script, outputText);
  const root = path.join(__dirname, '..');
  if (!fs.existsSync(path.join(root, 'dist', 'cli.js')))
    throw new Error('dist/cli.js is missing: run `npm run build` first');
  return {
    run(scenario, url) {
      const child = spawnSync(
        process.execPath,
        [...(scenario.nodeOptions ?? []), script, root, url, JSON.stringify(scenario)],
        { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      const line = child.stdout.trim().split('\n').pop();
      if (child.status !== 0 || !line) {
        console.log(`| ${scenario.label} | failed (exit ${child.status}) |`);
        return undefined;
      }
      return JSON.parse(line) as ScaleFigures;
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * What one series' model takes in memory at a 15 s step: 20,000 models restored from a warm
 * state, the heap and the array buffers they add after a full GC, per model.
 */
function modelMemory(label: string, settings: object, count = 20_000) {
  const defaults = parseConfig({ detector: { defaults: { step: '15s', ...settings } } }).detector.defaults;
  // One settings object for all, as a rule's series share theirs.
  const shared = modelSettings(defaults);
  const model = new SeriesModel(shared);
  for (let t = 0; t <= 15 * DAY; t += 15 * MINUTE)
    model.update(t, 50 + 30 * Math.sin((2 * Math.PI * t) / DAY));
  const state = model.save();
  const base = retained();
  const baseBuffers = process.memoryUsage().arrayBuffers;
  const models = Array.from({ length: count }, () => {
    const restored = new SeriesModel(shared);
    restored.restore(state);
    return restored;
  });
  const heap = (retained() - base) / models.length;
  const buffers = (process.memoryUsage().arrayBuffers - baseBuffers) / models.length;
  console.log(
    `| ${label} | ${state.byteLength.toLocaleString('en')} bytes | ${heap.toFixed(0)} bytes (${buffers.toFixed(0)} of them array buffers) |`,
  );
}

async function scaleSection() {
  console.log("\none series' model in memory, 15s step (20,000 models restored from a warm state)");
  console.log('| detectors | saved state | heap + array buffers per model |');
  console.log('| --- | ---: | ---: |');
  modelMemory('defaults', {});
  modelMemory('z-score only', ZSCORE_ONLY);
  const standIn = await startStandIn();
  try {
    console.log(
      `\ndetector at scale: ${SCALE.toLocaleString('en')} series from a stand-in Prometheus API over HTTP,` +
        ' 15s step, default detectors (13 lines per series) unless z-score only (5 lines),' +
        ' steady state (CPU of the whole process; 3 cycles averaged)',
    );
    console.log(
      '| series | cycle CPU | /metrics rendered (CPU, bytes) | renderOutputs CPU per line (lines per series) | served from cache | gzip: first, then cached (bytes) | RSS | per series: RSS / RSS above start / heap+buffers |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const runner = scaleRunner();
    try {
      const only = process.env.VIGIL_BENCH_ONLY;
      for (const scenario of SCENARIOS.filter(({ label }) => !only || label.includes(only))) {
        const figures = runner.run(scenario, standIn.url);
        if (figures) console.log(scaleRow(scenario, figures));
      }
    } finally {
      runner.remove();
    }
    console.log(
      'targets (100,000 series): cycle CPU < 1 s, /metrics < 0.5 s, < 4 KiB per series; ' +
        `load average ${os.loadavg()[0].toFixed(1)}`,
    );
  } finally {
    standIn.stop();
  }
}

async function main() {
  const [command] = process.argv.slice(2);
  if (command === 'scale') return scaleSection();
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  console.log('detector, in-process (default settings, 1m step, steady state; 20 cycles averaged)');
  console.log('| series | CPU per cycle | state memory | per series | /metrics render (lines) |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  let last: Awaited<ReturnType<typeof inProcess>> | undefined;
  for (const count of [1_000, 10_000]) {
    const r = await inProcess(count);
    last = r;
    console.log(
      `| ${count.toLocaleString('en')} | ${r.cycle.toFixed(1)} ms | ${mib(r.memory)} MiB | ${(r.memory / count / 1024).toFixed(2)} KiB | ${r.render.toFixed(0)} ms (${r.lines}) |`,
    );
  }
  console.log('targets: 10,000 series < 100 ms CPU per cycle, < 50 MiB of state');
  console.log(
    `state snapshot of ${last!.count.toLocaleString('en')} series: ${mib(last!.snapshotBytes)} MiB, ` +
      `saved in ${last!.saveMs.toFixed(0)} ms, restored in ${last!.loadMs.toFixed(0)} ms`,
  );

  console.log("\none series' model, 5m step, 38,000 points of a daily curve");
  console.log('| detectors | CPU per point | saved state per series |');
  console.log('| --- | ---: | ---: |');
  for (const r of [
    perPoint('z-score + seasonal only (before range and novelty)', {
      range: { enabled: false },
      novelty: { enabled: false },
    }),
    perPoint('defaults: z-score + seasonal + range + novelty', {}),
  ]) {
    console.log(`| ${r.label} | ${r.us.toFixed(2)} µs | ${r.bytes.toLocaleString('en')} bytes |`);
  }

  console.log('\nrobust z-score window, CPU per point');
  console.log('| window (points) | order-statistic tree | sorting the window (simple-statistics) |');
  console.log('| ---: | ---: | ---: |');
  robustWindow(1_440, 2_000); // JIT warm-up
  for (const points of [60, 1_440, 10_080]) {
    const w = robustWindow(points);
    console.log(`| ${points.toLocaleString('en')} | ${w.treeUs.toFixed(2)} µs | ${w.sortUs.toFixed(2)} µs |`);
  }

  console.log('\ndetector against a real Prometheus (1-day window at 1m, 10 cycles averaged)');
  console.log('| series | backfill | steady state per cycle | refetch whole window per cycle |');
  console.log('| ---: | ---: | ---: | ---: |');
  const count = Number(process.env.VIGIL_BENCH_SERIES ?? 200);
  const r = await againstPrometheus(count);
  console.log(
    `| ${count} | ${r.backfillSamples.toLocaleString('en')} samples, ${r.backfillMs.toFixed(0)} ms | ${r.steady.toLocaleString('en')} samples, ${r.steadyMs.toFixed(1)} ms | ${r.full.toLocaleString('en')} samples, ${r.fullMs.toFixed(1)} ms |`,
  );

  await scaleSection();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
