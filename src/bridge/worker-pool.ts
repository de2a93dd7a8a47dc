import { parentPort, Worker } from 'node:worker_threads';
import { errorMessage } from '../common/errors';
import { v8FlagsSet } from '../common/v8-flags';

/**
 * Up to `threads` worker threads, each running up to `tasksPerThread` tasks at once (the least busy
 * thread gets the next one), the rest queued in arrival order: work off the event loop that
 * acknowledges webhooks (drawing graphs, composing and sending mail), at a lower priority than it.
 * A worker that dies fails its tasks with one line and is replaced by the next task. A worker idle
 * for `idleMs` ends (each holds its own heap); the next task starts another. Own code rather than
 * piscina: a fixed pool of workers is all the bridge needs, and this is the whole of it.
 */

export interface WorkerPoolOptions {
  /** Tasks one thread runs at once: 1 for CPU work, more for work that mostly waits on a peer. */
  tasksPerThread?: number;
  idleMs?: number;
}

type Request<In> = { id: number; input: In };
type Reply<Out> = { id: number } & ({ ok: true; value: Out } | { ok: false; error: string });

interface Task<In, Out> {
  input: In;
  resolve: (value: Out) => void;
  reject: (err: Error) => void;
}

interface Thread<In, Out> {
  running: Map<number, Task<In, Out>>;
  idleTimer?: NodeJS.Timeout;
}

export class WorkerPool<In, Out> {
  private readonly workers = new Map<Worker, Thread<In, Out>>();
  private readonly queue: Array<Task<In, Out>> = [];
  private readonly tasksPerThread: number;
  private readonly idleMs: number;
  private nextId = 0;
  private closed = false;

  /** `file`: a module that calls serveWorkerTasks(); a .ts file (tests, tsx) is loaded through tsx. */
  constructor(
    private readonly file: string,
    private readonly threads: number,
    private readonly name: string,
    options: WorkerPoolOptions = {},
  ) {
    this.tasksPerThread = options.tasksPerThread ?? 1;
    this.idleMs = options.idleMs ?? 60_000;
  }

  run(input: In): Promise<Out> {
    if (this.closed) return Promise.reject(new Error(`${this.name}: the pool is closed`));
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.next();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error(`${this.name}: the pool is closed`));
    await Promise.all([...this.workers.keys()].map((worker) => worker.terminate()));
  }

  private next(): void {
    while (this.queue.length > 0) {
      const worker = this.pick();
      if (worker === undefined) return;
      const thread = this.workers.get(worker)!;
      const task = this.queue.shift()!;
      clearTimeout(thread.idleTimer);
      thread.idleTimer = undefined;
      const id = this.nextId++;
      thread.running.set(id, task);
      worker.ref();
      worker.postMessage({ id, input: task.input } satisfies Request<In>);
    }
  }

  /** An idle worker, else a new one while fewer than `threads` run, else the least busy with room. */
  private pick(): Worker | undefined {
    let least: [Worker, number] | undefined;
    for (const [worker, { running }] of this.workers) {
      if (running.size === 0) return worker;
      if (running.size < this.tasksPerThread && (least === undefined || running.size < least[1]))
        least = [worker, running.size];
    }
    if (this.workers.size < this.threads) return this.spawn();
    return least?.[0];
  }

  private spawn(): Worker {
    const loader = this.file.endsWith('.ts') ? "require('tsx/cjs');" : '';
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads'); ${SET_V8_FLAGS_AGAIN} ${LOWER_PRIORITY} ${loader} require(workerData.file);`,
      {
        eval: true,
        workerData: { file: this.file, v8Flags: v8FlagsSet() } satisfies WorkerStart,
      },
    );
    const thread: Thread<In, Out> = { running: new Map() };
    this.workers.set(worker, thread);
    worker.on('message', (reply: Reply<Out>) => {
      const task = thread.running.get(reply.id);
      thread.running.delete(reply.id);
      if (thread.running.size === 0) this.rest(worker, thread);
      if (reply.ok) task?.resolve(reply.value);
      else task?.reject(new Error(reply.error));
      this.next();
    });
    // An uncaught exception in the worker: 'exit' follows, which replaces it.
    worker.on('error', (err) => this.fail(thread, `${this.name} crashed: ${errorMessage(err)}`));
    worker.on('exit', (code) => {
      this.fail(thread, `${this.name} exited with code ${code}`);
      clearTimeout(thread.idleTimer);
      this.workers.delete(worker);
      if (!this.closed) this.next();
    });
    return worker;
  }

  /** Nothing left to run: the worker no longer keeps the process alive, and ends after idleMs. */
  private rest(worker: Worker, thread: Thread<In, Out>): void {
    worker.unref();
    // Out of the pool first, so no task is given to a worker that is ending.
    thread.idleTimer = setTimeout(() => {
      this.workers.delete(worker);
      void worker.terminate();
    }, this.idleMs);
    thread.idleTimer.unref();
  }

  private fail(thread: Thread<In, Out>, message: string): void {
    for (const task of thread.running.values()) task.reject(new Error(message));
    thread.running.clear();
  }
}

/** The worker's side: answers each task with `handle`'s result, or its error in one line. */
export function serveWorkerTasks<In, Out>(handle: (input: In) => Promise<Out>): void {
  const port = parentPort;
  if (port === null) throw new Error('serveWorkerTasks runs in a worker thread');
  port.on('message', ({ id, input }: Request<In>) => {
    handle(input).then(
      (value) => port.postMessage({ id, ok: true, value } satisfies Reply<Out>),
      (err: unknown) => port.postMessage({ id, ok: false, error: errorMessage(err) } satisfies Reply<Out>),
    );
  });
}

/** What a worker thread is given to start with. */
interface WorkerStart {
  file: string;
  v8Flags: readonly string[];
}

/** Run first in each worker thread: its isolate's creation has just reset some of the process's V8 flags. */
const SET_V8_FLAGS_AGAIN =
  "for (const flag of workerData.v8Flags) require('node:v8').setFlagsFromString(flag);";

/**
 * Run next in each worker thread, before its module loads (starting a worker costs as much CPU as
 * many tasks): its work may wait, acknowledgements may not. On Linux a thread's nice value is its
 * own, so this lowers the priority of that thread only (nice 10) and the event loop wins the CPU when
 * both want it; elsewhere it would lower the whole process, so it is left alone.
 */
const LOWER_PRIORITY = "if (process.platform === 'linux') require('node:os').setPriority(10);";
