import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RenderPool } from '../../src/bridge/render-pool';
import type { ChartSpec } from '../../src/bridge/render/chart';
import { seriesToCsv } from '../../src/bridge/render/csv';
import { renderGraph } from '../../src/bridge/render-task';
import { WorkerPool } from '../../src/bridge/worker-pool';
import { tempDir } from '../helpers/tmp';

const END = Date.UTC(2026, 10, 23, 15, 30);
const TIMESTAMPS = Array.from({ length: 120 }, (_, i) => END - (119 - i) * 30_000);
const CHART: ChartSpec = {
  title: 'HostHighCpu: instance:node_cpu_busy:ratio',
  series: [
    {
      name: 'instance:node_cpu_busy:ratio{instance="web-1"}',
      timestamps: TIMESTAMPS,
      values: TIMESTAMPS.map((_, i) => 0.3 + (i > 80 ? 0.6 : 0)),
    },
  ],
  threshold: 0.8,
  startMs: TIMESTAMPS[0],
  endMs: END,
  alertStartMs: TIMESTAMPS[81],
  unit: 'ratio',
  timeZone: 'UTC',
  width: 640,
};

describe('render pool', () => {
  const pool = new RenderPool(2);
  const dir = tempDir('vigil-render-pool-');
  afterAll(async () => {
    await pool.close();
    dir.remove();
  });

  it('draws a graph in a worker thread, writes its PNG and CSV to the files given and returns their sizes', async () => {
    const [a, b] = await Promise.all(
      [640, 900].map((width) =>
        pool.render({
          chart: { ...CHART, width },
          file: path.join(dir.path, `${width}.png`),
          csvFile: path.join(dir.path, `${width}.csv`),
          bandSeries: [],
        }),
      ),
    );
    for (const [{ bytes, csvBytes, seconds }, width] of [
      [a, 640],
      [b, 900],
    ] as const) {
      const png = fs.readFileSync(path.join(dir.path, `${width}.png`));
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect(png.toString('latin1', 12, 16)).toBe('IHDR');
      expect(png.readUInt32BE(16)).toBe(width);
      expect(png.toString('latin1', png.length - 8, png.length - 4)).toBe('IEND');
      expect(bytes).toBe(png.length);
      const csv = fs.readFileSync(path.join(dir.path, `${width}.csv`), 'utf8');
      expect(csv).toBe(seriesToCsv(CHART.series));
      expect(csvBytes).toBe(Buffer.byteLength(csv));
      expect(seconds).toBeGreaterThan(0);
    }
    // No temporary file is left beside them.
    expect(fs.readdirSync(dir.path).sort()).toEqual(['640.csv', '640.png', '900.csv', '900.png']);
  });

  it('gives the file and CSV the enricher makes in-process without a pool', async () => {
    const series = Array.from({ length: 4 }, (_, k) => ({
      ...CHART.series[0],
      name: `instance:node_cpu_busy:ratio{instance="web-${k}"}`,
      values: CHART.series[0].values.map((v) => v * k),
    }));
    const band = {
      name: 'vigil_anomaly_expected{rule="cpu"}',
      timestamps: TIMESTAMPS,
      values: TIMESTAMPS.map(() => 0.5),
    };
    const task = (name: string) => ({
      chart: { ...CHART, series, maxSeries: 2 },
      file: path.join(dir.path, `${name}.png`),
      csvFile: path.join(dir.path, `${name}.csv`),
      bandSeries: [band],
    });
    const offThread = await pool.render(task('worker'));
    const inProcess = await renderGraph(task('here'));
    for (const extension of ['png', 'csv']) {
      expect(fs.readFileSync(path.join(dir.path, `worker.${extension}`))).toEqual(
        fs.readFileSync(path.join(dir.path, `here.${extension}`)),
      );
    }
    expect({ ...offThread, seconds: 0 }).toEqual({ ...inProcess, seconds: 0 });
    // The CSV holds what the graph shows: the two highest series, then the band.
    expect(fs.readFileSync(path.join(dir.path, 'worker.csv'), 'utf8')).toBe(
      seriesToCsv([series[3], series[2], band]),
    );
    // The alert's value for messages: the last point of the first of them.
    expect(offThread.lastValue).toBe(series[3].values[series[3].values.length - 1]);
  });
});

describe('worker pool', () => {
  const pool = new WorkerPool<string, string>(path.join(__dirname, 'crashing-worker.ts'), 2, 'test worker');
  afterAll(() => pool.close());

  it('survives a worker that dies: its task fails in one line, the worker is replaced', async () => {
    expect(await pool.run('first')).toBe('done: first');
    // The other worker's task is not disturbed by the crash.
    const slow = pool.run('slow one');
    await expect(pool.run('exit')).rejects.toThrow(/^test worker exited with code 3$/);
    expect(await slow).toBe('done: slow one');
    // Both slots work again.
    expect(await Promise.all([pool.run('a'), pool.run('b'), pool.run('c')])).toEqual([
      'done: a',
      'done: b',
      'done: c',
    ]);
  });

  it('lowers the priority of each thread before its module loads, and of that thread only', async () => {
    const loop = os.getPriority();
    // A thread's nice value is its own on Linux only; elsewhere the pool leaves priorities alone.
    const expected = process.platform === 'linux' ? 10 : loop;
    expect(await pool.run('priority')).toBe(`nice ${expected}, event loop's ${loop}`);
  });

  it('passes a failed task on as its error message, and keeps the worker', async () => {
    await expect(pool.run('throw')).rejects.toThrow(/^cannot draw this$/);
    expect(await pool.run('after')).toBe('done: after');
  });

  it('ends a worker idle for idleMs; the next task starts another', async () => {
    const idle = new WorkerPool<string, string>(
      path.join(__dirname, 'crashing-worker.ts'),
      1,
      'test worker',
      { idleMs: 200 },
    );
    try {
      const first = await idle.run('thread');
      // Busy again within idleMs: the same thread.
      expect(await idle.run('thread')).toBe(first);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const next = await idle.run('thread');
      expect(next).toMatch(/^thread \d+$/);
      expect(next).not.toBe(first);
    } finally {
      await idle.close();
    }
  });

  it('runs up to tasksPerThread tasks in one thread at once; its crash fails each of them', async () => {
    const shared = new WorkerPool<string, string>(
      path.join(__dirname, 'crashing-worker.ts'),
      1,
      'test worker',
      {
        tasksPerThread: 3,
      },
    );
    try {
      // Both slow tasks are still running in the one thread when the third ends it.
      const running = [shared.run('slow a'), shared.run('slow b'), shared.run('exit')];
      for (const task of running) await expect(task).rejects.toThrow(/^test worker exited with code 3$/);
      expect(await Promise.all([shared.run('slow c'), shared.run('d')])).toEqual(['done: slow c', 'done: d']);
    } finally {
      await shared.close();
    }
  });

  it('refuses work once closed', async () => {
    const closing = new WorkerPool<string, string>(
      path.join(__dirname, 'crashing-worker.ts'),
      1,
      'test worker',
    );
    expect(await closing.run('x')).toBe('done: x');
    await closing.close();
    await expect(closing.run('y')).rejects.toThrow('test worker: the pool is closed');
  });
});
