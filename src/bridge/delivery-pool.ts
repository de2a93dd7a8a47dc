import path from 'node:path';
import { errorMessage } from '../common/errors';
import type { ChannelBaseConfig } from '../config/bridge';
import {
  DeliveryError,
  type ChannelContext,
  type DeliveryReceipt,
  type Notifier,
  type OutgoingMessage,
} from './channels/channel';
import { createNotifier } from './channels';
import { WorkerPool } from './worker-pool';

/**
 * Attempts of the channel types marked `offThread` (e-mail), made in worker threads at low priority:
 * composing a message (templates, MIME, base64 of the graphs, CSV) and talking to its peer cost the
 * event loop that acknowledges webhooks most of its time under an alert storm otherwise. Each worker
 * builds a channel's notifier from its settings on its first attempt and keeps it (one SMTP
 * connection pool per channel and thread). An attempt still makes one try and says how it went;
 * retries stay the dispatcher's. A worker that dies fails its attempts in flight, which the
 * dispatcher retries like any other failure.
 */

/** One attempt as a delivery worker receives it. */
export interface DeliveryTask {
  channel: ChannelBaseConfig;
  /** The channel's context without its clock: a worker has its own. */
  context: Omit<ChannelContext, 'now'>;
  message: OutgoingMessage;
}

/** How the attempt went, with what the dispatcher's retry decision needs of a failure. */
export type DeliveryOutcome =
  | { ok: true; receipt: DeliveryReceipt }
  | { ok: false; error: string; permanent: boolean; retryAfterMs?: number };

export class DeliveryPool {
  private readonly pool: WorkerPool<DeliveryTask, DeliveryOutcome>;

  /**
   * `attemptsPerThread`: as many as the dispatcher runs at once (retry.concurrency), so an attempt
   * never waits here for another that waits on its peer. `file`: the worker (tests give their own).
   */
  constructor(
    threads: number,
    attemptsPerThread: number,
    // Beside this file: delivery-worker.js when built, delivery-worker.ts when run from source.
    file = path.join(__dirname, `delivery-worker${path.extname(__filename)}`),
  ) {
    this.pool = new WorkerPool(file, threads, 'delivery worker', { tasksPerThread: attemptsPerThread });
  }

  /** A channel's notifier that makes each attempt in a worker. */
  notifier(channel: ChannelBaseConfig, { now: _clock, ...context }: ChannelContext): Notifier {
    return {
      send: (message, signal) => this.send({ channel, context, message }, signal),
    };
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /**
   * On shutdown the attempt is given up at once, as an in-process notifier gives up its request: the
   * delivery stays pending, and the worker ends with the pool.
   */
  private async send(task: DeliveryTask, signal: AbortSignal): Promise<DeliveryReceipt> {
    signal.throwIfAborted();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new DeliveryError(`attempt abandoned: ${String(signal.reason)}`));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const outcome = await Promise.race([this.pool.run(task), aborted]);
      if (!outcome.ok) throw new DeliveryError(outcome.error, outcome.permanent, outcome.retryAfterMs);
      return outcome.receipt;
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }
}

/** Each channel's notifier in this worker thread, built on its first attempt here. */
const notifiers = new Map<string, Notifier>();
/** Never aborted: the pool gives up an attempt on shutdown, and the worker ends with it. */
const running = new AbortController().signal;

/** The worker's side (delivery-worker.ts): one attempt with the channel's own notifier. */
export async function attemptDelivery({ channel, context, message }: DeliveryTask): Promise<DeliveryOutcome> {
  try {
    let notifier = notifiers.get(channel.name);
    if (notifier === undefined) {
      notifier = createNotifier(channel, context);
      notifiers.set(channel.name, notifier);
    }
    return { ok: true, receipt: await notifier.send(message, running) };
  } catch (err) {
    const failure = err instanceof DeliveryError ? err : undefined;
    return {
      ok: false,
      error: errorMessage(err),
      permanent: failure?.permanent ?? false,
      retryAfterMs: failure?.retryAfterMs,
    };
  }
}
