/**
 * One scenario of the detector at scale (bench/detector.ts `scale`), in a process of its own
 * that runs the product's compiled code as `vigil detector` does: bench/detector.ts transpiles
 * this file alone and starts it with plain `node`, and everything measured is loaded from dist/
 * (no TypeScript loader in the process, whose start would count in its memory).
 *
 * Arguments: the repository's root, the stand-in Prometheus' URL and the scenario as JSON.
 * Prints the figures as one JSON line.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import type * as PromClient from 'prom-client';
import type * as Logger from '../../src/common/logger';
import type * as Client from '../../src/common/prometheus-client';
import type * as ConfigLoad from '../../src/config/load';
import type * as Model from '../../src/detector/algorithms/model';
import type * as Detector from '../../src/detector/detector';
import type * as Engine from '../../src/detector/engine';
import type * as V8Flags from '../../src/commands/v8-flags';

/** A scenario at scale: `rules` rules of `perRule` series each, as replica `shard` of the fleet. */
export interface Scale {
  label: string;
  rules: number;
  perRule: number;
  shard?: string;
  /** The z-score detector alone (5 output lines per series), as the issue measured its start. */
  zscoreOnly?: boolean;
  /** Node options of the detector's process. */
  nodeOptions?: string[];
}

/** Every detector but the z-score one off. */
export const ZSCORE_ONLY = {
  seasonal: { enabled: false },
  range: { enabled: false },
  novelty: { enabled: false },
  shift: { enabled: false },
};

export interface ScaleFigures {
  series: number;
  /** CPU of a steady cycle (fetch, parse, update), ms. */
  cycle: number;
  render: Scrape;
  /** renderOutputs alone, over the last rendering's bytes, ms. */
  renderCpu: number;
  lines: number;
  cached: Scrape;
  gzipFirst: Scrape;
  gzipCached: Scrape;
  rss: number;
  /** RSS before the first series: Node and the code loaded. */
  startRss: number;
  /** Heap and array buffers after a full GC. */
  heap: number;
}

interface Scrape {
  ms: number;
  cpu: number;
  bytes: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const cpuMs = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

/** One scrape of /metrics: wall time and bytes on the wire, gzip asked or not. */
function scrape(url: string, gzip: boolean): Promise<{ ms: number; bytes: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/metrics`, { headers: gzip ? { 'Accept-Encoding': 'gzip' } : {} }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ ms: performance.now() - start, bytes }));
    });
    req.on('error', reject);
  });
}

/**
 * The scenario against the stand-in Prometheus API over HTTP, at a 15 s step with the default
 * detectors (or the z-score one alone): CPU of a steady-state cycle (fetch, parse, update; each
 * series gets its new point and the overlap), /metrics, and the process' memory. Every series
 * starts from the same warm model (15 days of a daily curve at 15 m), restored into it.
 */
async function atScale(root: string, url: string, scenario: Scale, cycles = 3): Promise<ScaleFigures> {
  const load = createRequire(path.join(root, 'package.json'));
  // First, as in `vigil detector`: the command's V8 settings.
  const { applyV8Flags } = load('./dist/commands/v8-flags') as typeof V8Flags;
  applyV8Flags(['node', 'vigil', 'detector']);
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const retained = () => {
    gc();
    gc();
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.arrayBuffers;
  };
  const { Registry } = load('prom-client') as typeof PromClient;
  const { rootLogger } = load('./dist/common/logger') as typeof Logger;
  const { PrometheusClient } = load('./dist/common/prometheus-client') as typeof Client;
  const { parseConfig } = load('./dist/config/load') as typeof ConfigLoad;
  const { BANDED_DETECTORS, SeriesModel } = load('./dist/detector/algorithms/model') as typeof Model;
  const { serveDetector } = load('./dist/detector/detector') as typeof Detector;
  const { DetectorEngine, engineMetrics } = load('./dist/detector/engine') as typeof Engine;
  rootLogger.level = 'silent'; // the detector's start-up lines would land in the table

  // The process before any series: Node, the code loaded.
  const startRss = process.memoryUsage().rss;
  const step = 15_000;
  const config = parseConfig({
    detector: {
      prometheus: { url, timeout: '2m' },
      lag: '0s',
      shard: scenario.shard ?? '0/1',
      defaults: { step: '15s', ...(scenario.zscoreOnly ? ZSCORE_ONLY : {}) },
      rules: Array.from({ length: scenario.rules }, (_, i) => ({
        name: `rule_${i}`,
        query: `scale_${scenario.perRule}`,
      })),
    },
  }).detector;
  const registry = new Registry();
  const end = Math.floor(Date.now() / DAY) * DAY;
  let clock = end;
  const engine = new DetectorEngine({
    config,
    source: new PrometheusClient(config.prometheus),
    metrics: engineMetrics(registry),
    logger: rootLogger,
    now: () => clock,
  });
  const runEveryRule = () => Promise.all(engine.rules.map((rule) => engine.runRule(rule)));
  const warm = new SeriesModel(engine.rules[0].settings);
  let verdict;
  for (let t = end - 15 * DAY; t <= end; t += 15 * MINUTE) {
    verdict = warm.update(t, 50 + 30 * Math.sin((2 * Math.PI * (t % DAY)) / DAY) + (t % 17) / 4) ?? verdict;
  }
  const warmState = warm.save();
  // The first cycle finds the series; their models then start from the warm state.
  for (const rule of engine.rules) rule.fetchedUntil = end - 5 * MINUTE;
  await runEveryRule();
  for (const rule of engine.rules) {
    for (const slot of rule.series.values()) {
      rule.models[slot]!.restore(warmState);
      rule.verdicts.write(slot, verdict!);
    }
  }
  const series = engine.rules.reduce((sum, rule) => sum + rule.series.size, 0);
  const cycle = async () => {
    clock += step;
    const start = process.cpuUsage();
    await runEveryRule();
    return cpuMs(start);
  };
  await cycle(); // JIT and buffers warm
  let cpu = 0;
  for (let c = 0; c < cycles; c++) cpu += await cycle();

  const server = await serveDetector(engine, registry, '127.0.0.1:0');
  const timed = async (gzip: boolean) => {
    const start = process.cpuUsage();
    const result = await scrape(server.url, gzip);
    return { ...result, cpu: cpuMs(start) };
  };
  await timed(false); // the first rendering sizes the buffer of the next ones
  await cycle();
  const render = await timed(false);
  const cached = await timed(false);
  const gzipFirst = await timed(true);
  const gzipCached = await timed(true);
  await server.close();
  const rss = process.memoryUsage().rss;
  const heap = retained();
  // The rendering alone (no HTTP, no self-metrics), as a scrape after a cycle does it: over the
  // last rendering's bytes.
  const last = engine.renderOutputs();
  const renderStart = process.cpuUsage();
  engine.renderOutputs(last);
  const renderCpu = cpuMs(renderStart);
  // Lines of the anomaly outputs: per series vigil_anomaly and 4 per banded detector.
  let lines = 0;
  for (const { series: slots, verdicts } of engine.rules) {
    for (const slot of slots.values()) {
      if (!verdicts.has(slot)) continue;
      lines++;
      for (let index = 0; index < BANDED_DETECTORS.length; index++)
        if (verdicts.estimateAt(slot, index) >= 0) lines += 4;
    }
  }
  return {
    series,
    cycle: cpu / cycles,
    render,
    renderCpu,
    lines,
    cached,
    gzipFirst,
    gzipCached,
    rss,
    startRss,
    heap,
  };
}

if (require.main === module) {
  const [root, url, scenario] = process.argv.slice(2);
  atScale(root, url, JSON.parse(scenario) as Scale)
    .then((figures) => console.log(JSON.stringify(figures)))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
