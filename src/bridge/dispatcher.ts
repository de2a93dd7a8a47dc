import { errorMessage } from '../common/errors';
import type { Logger } from '../common/logger';
import { DeliveryError, type Channel } from './channels/channel';
import type { EnrichedNotification } from './enrich';
import type { BridgeMetrics } from './metrics';
import { dedupKey, type Notification } from './payload';
import {
  isFinished,
  newEntryId,
  outcomeOf,
  type DeliveryRecord,
  type Spool,
  type SpoolContents,
  type SpoolEntry,
} from './spool';

/**
 * Accepts notifications into the spool and delivers them to their channels: the one place for
 * de-duplication, retries with exponential backoff and jitter, expiry and dead-lettering, for every
 * channel type. Each delivery (notification x channel) progresses on its own and is persisted after
 * each attempt, so a restart resumes where the last run stopped.
 */

export interface RetryPolicy {
  initialBackoffMs: number;
  maxBackoffMs: number;
  maxAgeMs: number;
  concurrency: number;
}

export interface DispatcherOptions {
  retry: RetryPolicy;
  dedupWindowMs: number;
  /** Finished notifications kept for the status page. */
  history: number;
}

export type AcceptResult = { status: 'accepted' | 'duplicate'; id: string };

type Enrich = (notification: Notification) => Promise<EnrichedNotification>;

export class Dispatcher {
  private readonly pending = new Map<string, SpoolEntry>();
  /** The last `history` finished entries, for the status page; older ones are not kept in memory. */
  private readonly finished: SpoolEntry[] = [];
  /** Delivered entries still in done/, oldest first, until their dedup window has passed. */
  private readonly done: Array<{ id: string; receivedAt: number }> = [];
  /** De-duplication keys; `stored` is the write still in flight, which a duplicate waits for. */
  private readonly seen = new Map<string, SeenKey>();
  /** Pending deliveries not in flight, earliest attempt first. */
  private readonly queue = new DeliveryQueue();
  private queued = 0;
  /**
   * Evidence of entries with a delivery in flight, shared by their channels; dropped when the last
   * one ends, so entries waiting for a retry hold no PNGs or CSVs (a long outage must not grow memory).
   */
  private readonly enriched = new Map<string, { evidence: Promise<EnrichedNotification>; users: number }>();
  private readonly writes = new Map<string, Promise<void>>();
  private active = 0;
  /** Entries in dead/: all of them, not only those still in `finished`. */
  private deadLetterCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly spool: Spool,
    private readonly channels: ReadonlyMap<string, Channel>,
    private readonly enrich: Enrich,
    private readonly options: DispatcherOptions,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    // Pending entries are kept in arrival order: the first one is the oldest.
    metrics.oldestPendingSince = () => this.pending.values().next().value?.receivedAt;
  }

  /** Resumes what the spool holds from a previous run. */
  load(contents: SpoolContents): void {
    for (const entry of contents.finished) this.remember(entry);
    for (const entry of contents.pending) {
      this.pending.set(entry.id, entry);
      this.seen.set(entry.dedupKey, { id: entry.id, at: entry.receivedAt });
      this.schedule(entry);
    }
    this.deadLetterCount = contents.finished.filter((e) => outcomeOf(e) === 'dead').length;
    this.metrics.deadLetters.set(this.deadLetterCount);
    if (contents.pending.length > 0)
      this.log.info({ pending: contents.pending.length }, 'resuming spooled notifications');
    this.pump();
  }

  /**
   * Stores the notification durably (resolves only after the fsync) and schedules its deliveries.
   * Throws when it cannot be stored: the caller answers 5xx so Alertmanager retries.
   */
  async accept(route: string, notification: Notification, channelNames: string[]): Promise<AcceptResult> {
    const now = this.now();
    const key = dedupKey(route, notification);
    const previous = this.seen.get(key);
    if (previous && now - previous.at < this.options.dedupWindowMs) {
      // Only a stored original makes a duplicate safe to acknowledge: if its write fails, so does this.
      await previous.stored;
      this.metrics.duplicates.inc();
      return { status: 'duplicate', id: previous.id };
    }
    const entry: SpoolEntry = {
      id: newEntryId(now, key),
      dedupKey: key,
      receivedAt: now,
      route,
      notification,
      deliveries: channelNames.map((channel) => ({
        channel,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: now,
      })),
    };
    // Claimed before the write, so a copy arriving during the fsync waits for it and shares its outcome.
    const stored = this.spool.add(entry);
    const claim: SeenKey = { id: entry.id, at: now, stored };
    this.seen.set(key, claim);
    try {
      await stored;
    } catch (err) {
      if (this.seen.get(key) === claim) this.seen.delete(key);
      throw err;
    } finally {
      delete claim.stored;
    }
    this.metrics.received.inc({ route });
    if (isFinished(entry)) {
      this.remember(entry);
    } else {
      this.pending.set(entry.id, entry);
      this.schedule(entry);
      this.pump();
    }
    return { status: 'accepted', id: entry.id };
  }

  /** Pending first (newest first), then the recently finished: what the status page shows. */
  recent(): SpoolEntry[] {
    return [...[...this.pending.values()].reverse(), ...[...this.finished].reverse()];
  }

  /** Notifications in dead/, as the vigil_bridge_dead_letters gauge shows. */
  deadLetters(): number {
    return this.deadLetterCount;
  }

  /** Stops starting attempts and waits (bounded) for the ones in flight to record their outcome. */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.active === 0) return;
    await Promise.race([
      new Promise<void>((resolve) => (this.idle = resolve)),
      new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
  }

  /** Drops de-duplication keys and the done/ files past their window. */
  async prune(): Promise<void> {
    const now = this.now();
    for (const [key, seen] of this.seen) {
      if (now - seen.at >= this.options.dedupWindowMs) this.seen.delete(key);
    }
    // The newest `history` stay on disk too, so the status page has them after a restart.
    const expired = this.done.length - this.options.history;
    let count = 0;
    while (count < expired && now - this.done[count].receivedAt >= this.options.dedupWindowMs) count++;
    if (count === 0) return;
    await this.spool.prune(this.done.splice(0, count).map((e) => e.id));
  }

  private schedule(entry: SpoolEntry): void {
    for (const delivery of entry.deliveries) {
      if (delivery.state === 'pending') this.enqueue(entry, delivery);
    }
  }

  private enqueue(entry: SpoolEntry, delivery: DeliveryRecord): void {
    this.queue.push({ entry, delivery });
    this.metrics.queueDepth.set(++this.queued);
  }

  /** Starts what is due, up to the concurrency limit, and sets a timer for what is due next. */
  private pump(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    while (this.active < this.options.retry.concurrency) {
      const next = this.queue.peek();
      if (next === undefined || next.delivery.nextAttemptAt > now) break;
      this.queue.pop();
      void this.attempt(next.entry, next.delivery);
    }
    const next = this.queue.peek();
    if (next !== undefined && this.active < this.options.retry.concurrency) {
      this.timer = setTimeout(() => this.pump(), Math.max(0, next.delivery.nextAttemptAt - now));
      this.timer.unref();
    }
  }

  private async attempt(entry: SpoolEntry, delivery: DeliveryRecord): Promise<void> {
    this.active++;
    const started = performance.now();
    const channel = this.channels.get(delivery.channel);
    let holdsEvidence = false;
    try {
      if (channel === undefined)
        throw new DeliveryError(`channel "${delivery.channel}" is no longer configured`, true);
      holdsEvidence = true;
      const notification = await this.enrichedFor(entry);
      const receipt = await channel.send({
        id: entry.id,
        route: entry.route,
        receivedAt: entry.receivedAt,
        notification,
      });
      delivery.attempts++;
      delivery.state = 'delivered';
      delivery.detail = receipt.detail;
      delivery.lastError = undefined;
      delivery.finishedAt = this.now();
      this.metrics.deliveries.inc({ channel: delivery.channel, outcome: 'delivered' });
      this.log.info({ id: entry.id, channel: delivery.channel, attempts: delivery.attempts }, 'delivered');
    } catch (err) {
      this.failed(entry, delivery, err);
    } finally {
      if (holdsEvidence) this.releaseEnriched(entry.id);
      this.metrics.deliveryDuration.observe(
        { channel: delivery.channel },
        (performance.now() - started) / 1000,
      );
    }
    await this.persist(entry);
    this.active--;
    if (delivery.state === 'pending') this.queue.push({ entry, delivery });
    else this.metrics.queueDepth.set(--this.queued);
    if (this.stopped && this.active === 0) this.idle?.();
    this.pump();
  }

  private failed(entry: SpoolEntry, delivery: DeliveryRecord, err: unknown): void {
    const now = this.now();
    const { initialBackoffMs, maxBackoffMs, maxAgeMs } = this.options.retry;
    delivery.attempts++;
    delivery.lastError = errorMessage(err);
    const permanent = err instanceof DeliveryError && err.permanent;
    const expiresAt = entry.receivedAt + maxAgeMs;
    if (permanent || now >= expiresAt) {
      delivery.state = 'dead';
      delivery.finishedAt = now;
      this.metrics.deliveries.inc({ channel: delivery.channel, outcome: 'dead' });
      this.log.error(
        { id: entry.id, channel: delivery.channel, attempts: delivery.attempts, err: delivery.lastError },
        permanent ? 'delivery failed permanently: dead-lettered' : 'delivery expired: dead-lettered',
      );
      return;
    }
    // Exponential backoff with jitter (half fixed, half random): replicas and channels spread out.
    const backoff = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(delivery.attempts - 1, 30));
    const wait = Math.max(
      backoff / 2 + Math.random() * (backoff / 2),
      (err as DeliveryError).retryAfterMs ?? 0,
    );
    // The last attempt happens at expiry rather than never.
    delivery.nextAttemptAt = Math.min(now + wait, expiresAt);
    this.metrics.deliveries.inc({ channel: delivery.channel, outcome: 'retry' });
    this.log.warn(
      {
        id: entry.id,
        channel: delivery.channel,
        attempts: delivery.attempts,
        retryInMs: Math.round(delivery.nextAttemptAt - now),
        err: delivery.lastError,
      },
      'delivery failed, will retry',
    );
  }

  /**
   * Evidence is gathered once for the deliveries of a notification in flight together, and again for
   * a retry (Prometheus may answer by then). Each call is paired with a releaseEnriched().
   */
  private enrichedFor(entry: SpoolEntry): Promise<EnrichedNotification> {
    const shared = this.enriched.get(entry.id);
    if (shared !== undefined) {
      shared.users++;
      return shared.evidence;
    }
    const evidence = this.enrich(entry.notification).catch((err: unknown) => {
      this.metrics.graphErrors.inc(entry.notification.alerts.length);
      return {
        notification: entry.notification,
        alerts: entry.notification.alerts.map((alert) => ({
          alert,
          unit: 'short' as const,
          graphError: `graph unavailable: ${errorMessage(err)}`,
        })),
      };
    });
    this.enriched.set(entry.id, { evidence, users: 1 });
    return evidence;
  }

  private releaseEnriched(id: string): void {
    const shared = this.enriched.get(id);
    if (shared !== undefined && --shared.users === 0) this.enriched.delete(id);
  }

  /** Writes of one entry are serialised: two channels finishing together must not race on its file. */
  private persist(entry: SpoolEntry): Promise<void> {
    const previous = this.writes.get(entry.id) ?? Promise.resolve();
    const next = previous.then(async () => {
      try {
        if (isFinished(entry) && this.pending.has(entry.id)) {
          this.pending.delete(entry.id);
          const outcome = await this.spool.finish(entry);
          if (outcome === 'dead') this.metrics.deadLetters.set(++this.deadLetterCount);
          this.remember(entry);
        } else if (this.pending.has(entry.id)) {
          await this.spool.save(entry);
        }
      } catch (err) {
        // Delivery state lives on in memory; after a restart the delivery may be repeated (at least once).
        this.log.error({ id: entry.id, err: errorMessage(err) }, 'cannot write delivery state to the spool');
      }
    });
    this.writes.set(entry.id, next);
    void next.then(() => {
      if (this.writes.get(entry.id) === next) this.writes.delete(entry.id);
    });
    return next;
  }

  private remember(entry: SpoolEntry): void {
    this.finished.push(entry);
    if (this.finished.length > this.options.history) this.finished.shift();
    if (entry.deliveries.every((d) => d.state === 'delivered')) {
      this.done.push({ id: entry.id, receivedAt: entry.receivedAt });
    }
    this.seen.set(entry.dedupKey, { id: entry.id, at: entry.receivedAt });
  }
}

interface SeenKey {
  id: string;
  at: number;
  stored?: Promise<void>;
}

interface Scheduled {
  entry: SpoolEntry;
  delivery: DeliveryRecord;
}

/** A binary min-heap on nextAttemptAt: thousands of queued deliveries cost log n per step, not n. */
class DeliveryQueue {
  private readonly heap: Scheduled[] = [];

  peek(): Scheduled | undefined {
    return this.heap[0];
  }

  push(item: Scheduled): void {
    const heap = this.heap;
    heap.push(item);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (at(heap[parent]) <= at(heap[i])) break;
      [heap[parent], heap[i]] = [heap[i], heap[parent]];
      i = parent;
    }
  }

  pop(): Scheduled | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      for (let i = 0; ;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && at(heap[left]) < at(heap[smallest])) smallest = left;
        if (right < heap.length && at(heap[right]) < at(heap[smallest])) smallest = right;
        if (smallest === i) break;
        [heap[smallest], heap[i]] = [heap[i], heap[smallest]];
        i = smallest;
      }
    }
    return top;
  }
}

function at(item: Scheduled): number {
  return item.delivery.nextAttemptAt;
}
