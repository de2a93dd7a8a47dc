import { spawnSync } from 'node:child_process';
import path from 'node:path';

// Built (npm test builds first): TypeScript loaded through tsx may start esbuild's own worker
// thread, one more isolate, which would reset the flags again at a moment of its own.
const DIST = path.resolve(__dirname, '..', '..', 'dist');
const FLAGS_MODULE = path.join(DIST, 'commands', 'v8-flags.js');

/**
 * Loads the flags module in a fresh Node process whose command is `command`, runs a hot loop and
 * fills the young generation, then reports what V8 did: whether the hot functions were optimised
 * (bit 16 of %GetOptimizationStatus), one of them named like the exposition's formatting, and how
 * much the young generation grew meanwhile. With `afterWorker`, a delivery worker thread of the
 * bridge's pool has started first (a new isolate resets some V8 flags process-wide).
 */
function v8After(
  command: string,
  afterWorker = false,
): { optimized: boolean; formatOptimized: boolean; youngGrowth: number } {
  const startWorker = `
    const { WorkerPool } = require(${JSON.stringify(path.join(DIST, 'bridge', 'worker-pool.js'))});
    const pool = new WorkerPool(${JSON.stringify(path.join(DIST, 'bridge', 'delivery-worker.js'))}, 1, 'delivery worker');
    // Not a delivery: it fails in the worker, which has started and answered.
    await pool.run({}).catch(() => undefined);
    await pool.close();`;
  const script = `(async () => {
    const young = () => require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    process.argv[2] = ${JSON.stringify(command)};
    require(${JSON.stringify(FLAGS_MODULE)});
    // A process that has loaded nothing starts below the young generation's initial size; short-lived
    // garbage takes it there, so what follows measures growth beyond it.
    for (let i = 0; i < 2e5; i++) globalThis.lastMade = { i };
    const before = young();
    ${afterWorker ? startWorker : ''}
    function hot(n) { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s; }
    function formatHot(n) { let s = 0; for (let i = 0; i < n; i++) s += i % 5; return s; }
    for (let i = 0; i < 2000; i++) hot(10000) + formatHot(10000);
    let keep = [];
    for (let i = 0; i < 1e6; i++) { keep.push({ i }); if (keep.length > 20000) keep = []; }
    // Survivors, as a storm's pending notifications are: V8 grows the young generation for them.
    const survivors = [];
    for (let round = 0; round < 200; round++) {
      const made = [];
      for (let i = 0; i < 20000; i++) made.push({ i, s: 'x' + i });
      survivors.push(made.slice(0, 2000));
    }
    const optimized = (f) => (%GetOptimizationStatus(f) & 16) !== 0;
    console.log(JSON.stringify({ optimized: optimized(hot), formatOptimized: optimized(formatHot), youngGrowth: young() / before }));
  })();`;
  const result = spawnSync(process.execPath, ['--allow-natives-syntax', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.status !== 0) throw new Error(`child failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { optimized: boolean; formatOptimized: boolean; youngGrowth: number };
}

describe('the V8 settings of each command', () => {
  it('runs the exporter with the optimising compiler for its formatting only and a young generation that does not grow', () => {
    const exporter = v8After('exporter');
    expect(exporter.optimized).toBe(false);
    expect(exporter.formatOptimized).toBe(true);
    // Not grown; V8 may shrink it (it did, to half, when a loaded machine made the allocation rate
    // look low), which is no worse for the exporter.
    expect(exporter.youngGrowth).toBeLessThanOrEqual(1);
  });

  it('runs the bridge with a young generation that does not grow, even once a worker thread started, and every compiler', () => {
    const bridge = v8After('bridge', true);
    expect(bridge.optimized).toBe(true);
    // With the setting undone by the worker it grew 16x.
    expect(bridge.youngGrowth).toBeLessThanOrEqual(1);
  });

  it("leaves V8's defaults to the other services", () => {
    const detector = v8After('detector');
    expect(detector.optimized).toBe(true);
    expect(detector.formatOptimized).toBe(true);
    expect(detector.youngGrowth).toBeGreaterThan(2);
  });
});
