import path from 'node:path';
import type { RenderedGraph, RenderTask } from './render-task';
import { WorkerPool } from './worker-pool';

/**
 * Graphs drawn, rasterised, written to the graph store and tabulated as CSV in `threads` worker
 * threads (graph.render_concurrency), so the event loop that acknowledges webhooks stays free while
 * every notification is graphed.
 */
export class RenderPool {
  private readonly pool: WorkerPool<RenderTask, RenderedGraph>;

  constructor(threads: number) {
    // Beside this file: render-worker.js when built, render-worker.ts when run from source.
    const worker = path.join(__dirname, `render-worker${path.extname(__filename)}`);
    this.pool = new WorkerPool(worker, threads, 'graph render worker');
  }

  render(task: RenderTask): Promise<RenderedGraph> {
    return this.pool.run(task);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
