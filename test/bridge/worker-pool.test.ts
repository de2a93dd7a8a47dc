import os from 'node:os';
import path from 'node:path';
import { WorkerPool, type WorkerPoolOptions } from '../../src/bridge/worker-pool';

/** `threads` workers running crashing-worker.ts, which does what each task's text tells it. */
function testPool(threads: number, options: WorkerPoolOptions = {}): WorkerPool<string, string> {
  return new WorkerPool(path.join(__dirname, 'crashing-worker.ts'), threads, 'test worker', options);
}

describe('worker pool', () => {
  const pool = testPool(2);
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
    const idle = testPool(1, { idleMs: 200 });
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
    const shared = testPool(1, { tasksPerThread: 3 });
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
    const closing = testPool(1);
    expect(await closing.run('x')).toBe('done: x');
    await closing.close();
    await expect(closing.run('y')).rejects.toThrow('test worker: the pool is closed');
  });
});
