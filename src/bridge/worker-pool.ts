import { parentPort, Worker } from 'node:worker_threads';
import { errorMessage } from '../common/errors';

/**
 * Up to `threads` worker threads, each running one task at a time, the others queued in arrival
 * order: CPU work (drawing graphs) off the event loop that acknowledges webhooks. A worker that dies
 * fails its task with one line and is replaced by the next task. A worker idle for `idleMs` ends
 * (each holds its own heap and fonts); the next task starts another. Own code rather than piscina: a
 * fixed pool of one-task workers is all the bridge needs, and this is the whole of it.
 */

type Reply<Out> = { ok: true; value: Out } | { ok: false; error: string };

interface Task<In, Out> {
  input: In;
  resolve: (value: Out) => void;
  reject: (err: Error) => void;
}

export class WorkerPool<In, Out> {
  private readonly idle: Worker[] = [];
  private readonly idleTimers = new Map<Worker, NodeJS.Timeout>();
  private readonly busy = new Map<Worker, Task<In, Out>>();
  private readonly queue: Array<Task<In, Out>> = [];
  private closed = false;

  /** `file`: a module that calls serveWorkerTasks(); a .ts file (tests, tsx) is loaded through tsx. */
  constructor(
    private readonly file: string,
    private readonly threads: number,
    private readonly name: string,
    private readonly idleMs = 60_000,
  ) {}

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
    await Promise.all([...this.idle, ...this.busy.keys()].map((worker) => worker.terminate()));
  }

  private next(): void {
    while (this.queue.length > 0) {
      const worker =
        this.idle.pop() ?? (this.idle.length + this.busy.size < this.threads ? this.spawn() : undefined);
      if (worker === undefined) return;
      const task = this.queue.shift()!;
      clearTimeout(this.idleTimers.get(worker));
      this.idleTimers.delete(worker);
      this.busy.set(worker, task);
      worker.ref();
      worker.postMessage(task.input);
    }
  }

  private spawn(): Worker {
    const worker = this.file.endsWith('.ts')
      ? new Worker("require('tsx/cjs'); require(require('node:worker_threads').workerData);", {
          eval: true,
          workerData: this.file,
        })
      : new Worker(this.file);
    worker.on('message', (reply: Reply<Out>) => {
      const task = this.busy.get(worker);
      this.busy.delete(worker);
      // An idle worker must not keep the process alive.
      worker.unref();
      this.idle.push(worker);
      // Out of the idle list first, so no task is given to a worker that is ending.
      const timer = setTimeout(() => {
        this.idle.splice(this.idle.indexOf(worker), 1);
        void worker.terminate();
      }, this.idleMs);
      timer.unref();
      this.idleTimers.set(worker, timer);
      if (reply.ok) task?.resolve(reply.value);
      else task?.reject(new Error(reply.error));
      this.next();
    });
    // An uncaught exception in the worker: 'exit' follows, which replaces it.
    worker.on('error', (err) => this.fail(worker, `${this.name} crashed: ${errorMessage(err)}`));
    worker.on('exit', (code) => {
      this.fail(worker, `${this.name} exited with code ${code}`);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
      clearTimeout(this.idleTimers.get(worker));
      this.idleTimers.delete(worker);
      if (!this.closed) this.next();
    });
    return worker;
  }

  private fail(worker: Worker, message: string): void {
    const task = this.busy.get(worker);
    this.busy.delete(worker);
    task?.reject(new Error(message));
  }
}

/** The worker's side: answers each task with `handle`'s result, or its error in one line. */
export function serveWorkerTasks<In, Out>(handle: (input: In) => Promise<Out>): void {
  const port = parentPort;
  if (port === null) throw new Error('serveWorkerTasks runs in a worker thread');
  port.on('message', (input: In) => {
    handle(input).then(
      (value) => port.postMessage({ ok: true, value } satisfies Reply<Out>),
      (err: unknown) => port.postMessage({ ok: false, error: errorMessage(err) } satisfies Reply<Out>),
    );
  });
}
