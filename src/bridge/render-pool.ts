import path from 'node:path';
import type { ChartSpec } from './render/chart';
import type { RenderedChart } from './render/png';
import { WorkerPool } from './worker-pool';

/**
 * Charts drawn and rasterised in `threads` worker threads (graph.render_concurrency), so the event
 * loop that acknowledges webhooks stays free while every notification is graphed.
 */
export class RenderPool {
  private readonly pool: WorkerPool<ChartSpec, RenderedChart>;

  constructor(threads: number) {
    // Beside this file: render-worker.js when built, render-worker.ts when run from source.
    const worker = path.join(__dirname, `render-worker${path.extname(__filename)}`);
    this.pool = new WorkerPool(worker, threads, 'graph render worker');
  }

  /** The PNG arrives as a Uint8Array (structured clone): a Buffer over the same memory. */
  async draw(chart: ChartSpec): Promise<RenderedChart> {
    const { png, seconds } = await this.pool.run(chart);
    return { png: Buffer.from(png.buffer, png.byteOffset, png.byteLength), seconds };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
