import path from 'node:path';
import { PrometheusClient, type PrometheusConnection } from '../common/prometheus-client';
import { gatherEvidence, type EvidenceGathering, type GatheredEvidence, type GatherTask } from './evidence';
import { WorkerPool } from './worker-pool';

/**
 * Evidence gathered in `threads` worker threads (graph.render_concurrency), each with up to
 * `notificationsPerThread` notifications at once: the graph queries, the parsing of Prometheus'
 * answers, drawing, rasterising and writing the graphs and their CSVs. The event loop that
 * acknowledges webhooks hands over the alerts and gets back what the evidence holds (paths and
 * sizes, no series or images), so an alert storm's graphs do not hold up its acknowledgements.
 */

/** A gathering as an evidence worker receives it: with how to reach Prometheus. */
export interface EvidenceWorkerTask extends GatherTask {
  prometheus: PrometheusConnection;
}

export class EvidencePool implements EvidenceGathering {
  private readonly pool: WorkerPool<EvidenceWorkerTask, GatheredEvidence>;

  /**
   * `notificationsPerThread`: as many as the dispatcher delivers at once (retry.concurrency), so a
   * notification never waits here for another that waits on Prometheus.
   */
  constructor(
    private readonly prometheus: PrometheusConnection,
    threads: number,
    notificationsPerThread: number,
  ) {
    // Beside this file: evidence-worker.js when built, evidence-worker.ts when run from source.
    const worker = path.join(__dirname, `evidence-worker${path.extname(__filename)}`);
    this.pool = new WorkerPool(worker, threads, 'graph evidence worker', {
      tasksPerThread: notificationsPerThread,
    });
  }

  gather(task: GatherTask): Promise<GatheredEvidence> {
    return this.pool.run({ ...task, prometheus: this.prometheus });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** The worker's client, made on its first task: one bridge asks one Prometheus. */
let client: PrometheusClient | undefined;

/** The worker's side (evidence-worker.ts). */
export function gatherInWorker({ prometheus, ...task }: EvidenceWorkerTask): Promise<GatheredEvidence> {
  // Graph answers are small: inflating gzip would cost more than the bytes it saves on a local network.
  client ??= new PrometheusClient(prometheus, { gzip: false });
  return gatherEvidence(client, task);
}
