import { errorMessage } from '../common/errors';
import type { Logger } from '../common/logger';
import { DeliveryError, type Channel } from './channels/channel';
import { DeliveryQueue, type ScheduledDelivery } from './delivery-queue';
import type { EvidenceSource } from './enrich';
import { StatusHistory } from './history';
import type { BridgeMetrics } from './metrics';
import { dedupKey, type Notification } from './payload';
import { nextAttempt, type RetryPolicy } from './retry';
import {
  isFinished,
  newEntryId,
  type DeliveryRecord,
  type Spool,
  type SpoolContents,
  type SpoolEntry,
} from './spool';

/**
 * Accepts notifications into the spool and delivers them to their channels: the one place for
 * de-duplication, retries (policy in retry.ts), expiry and dead-lettering, for every channel type.
 * Each delivery (notification x channel) progresses on its own and is persisted after each attempt,
 * so a restart resumes where the last run stopped.
 *
 * Deliveries of one alert group to one channel keep their order, as Alertmanager's own are: each
 * notification carries the group's whole state, so a newer one supersedes an older one still
 * pending, and never starts while the older one's attempt is in flight. Otherwise a FIRING retried
 * after its RESOLVED got through would leave a Zabbix or Nagios problem open with nothing to close it.
 */

export type { RetryPolicy } from './retry';

export interface DispatcherOptions {
  retry: RetryPolicy;
  dedupWindowMs: number;
  /** Finished notifications kept for the status page. */
  history: number;
}

export type AcceptResult = { status: 'accepted' | 'duplicate'; id: string };

export class Dispatcher {
  private readonly pending = new Map<string, SpoolEntry>();
  private readonly history: StatusHistory;
  /** De-duplication keys; `stored` is the write still in flight, which a duplicate waits for. */
  private readonly seen = new Map<string, SeenKey>();
  private readonly queue = new DeliveryQueue();
  /** The newest delivery of each alert group to each channel (see groupChannelKey). */
  private readonly newest = new Map<string, ScheduledDelivery>();
  /** Attempts in flight by group and channel; a newer delivery of the same pair waits in `held`. */
  private readonly inFlight = new Map<string, DeliveryRecord>();
  private readonly held = new Map<string, ScheduledDelivery>();
  /** Deliveries not finished: queued or in flight (vigil_bridge_queue_depth). */
  private unfinished = 0;
  private readonly writes = new Map<string, Promise<void>>();
  /** State writes that failed, waiting for their next try. */
  private readonly writeRetries = new Map<string, { failures: number; timer: NodeJS.Timeout }>();
  private active = 0;
  /** Aborted on stop: channels give up their attempt in flight, which stays pending in the spool. */
  private readonly shutdown = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private idle: (() => void) | undefined;

  constructor(
    private readonly spool: Spool,
    private readonly channels: ReadonlyMap<string, Channel>,
    private readonly evidence: EvidenceSource,
    private readonly options: DispatcherOptions,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.history = new StatusHistory(options.history);
    // Pending entries are kept in arrival order: the first one is the oldest.
    metrics.oldestPendingSince = () => this.pending.values().next().value?.receivedAt;
  }

  /** Resumes what the spool holds from a previous run. */
  load(contents: SpoolContents): void {
    this.history.load(contents.finished);
    for (const entry of contents.finished) this.rememberKey(entry);
    for (const entry of contents.pending) {
      this.pending.set(entry.id, entry);
      this.rememberKey(entry);
      this.schedule(entry);
    }
    this.metrics.deadLetters.set(this.history.deadLetters());
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
    // A channel none of whose alerts match (matchers, send_resolved) gets no delivery at all.
    const targets = channelNames.filter((name) => this.channels.get(name)?.wants(notification) ?? true);
    const entry = newEntry(now, key, route, notification, targets);
    await this.store(entry);
    this.metrics.received.inc({ route });
    if (isFinished(entry)) {
      this.finish(entry, false);
    } else {
      this.pending.set(entry.id, entry);
      this.schedule(entry);
      this.pump();
    }
    return { status: 'accepted', id: entry.id };
  }

  /** Pending first (newest first), then the recently finished: what the status page shows. */
  recent(): SpoolEntry[] {
    return [...[...this.pending.values()].reverse(), ...this.history.recent()];
  }

  /** Notifications in dead/, as the vigil_bridge_dead_letters gauge shows. */
  deadLetters(): number {
    return this.history.deadLetters();
  }

  /**
   * Stops starting attempts, aborts the ones in flight and waits (bounded) for them to record their
   * outcome.
   */
  async stop(timeoutMs = 5_000): Promise<void> {
    if (!this.shutdown.signal.aborted) this.shutdown.abort(new Error('the bridge is shutting down'));
    clearTimeout(this.timer);
    for (const { timer } of this.writeRetries.values()) clearTimeout(timer);
    if (this.active === 0) return;
    await Promise.race([
      new Promise<void>((resolve) => (this.idle = resolve)),
      new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
  }

  /** Drops de-duplication keys and the delivered entries in the spool past their window. */
  async prune(): Promise<void> {
    const now = this.now();
    for (const [key, seen] of this.seen) {
      if (now - seen.at >= this.options.dedupWindowMs) this.seen.delete(key);
    }
    const expired = this.history.takeExpiredDone(now, this.options.dedupWindowMs);
    if (expired.length > 0) await this.spool.prune(expired);
  }

  /** Writes a new entry; its key is claimed first, so a copy arriving during the fsync shares its outcome. */
  private async store(entry: SpoolEntry): Promise<void> {
    const stored = this.spool.add(entry);
    const claim: SeenKey = { id: entry.id, at: entry.receivedAt, stored };
    this.seen.set(entry.dedupKey, claim);
    try {
      await stored;
    } catch (err) {
      if (this.seen.get(entry.dedupKey) === claim) this.seen.delete(entry.dedupKey);
      throw err;
    } finally {
      delete claim.stored;
    }
  }

  private schedule(entry: SpoolEntry): void {
    const superseded = new Set<SpoolEntry>();
    for (const delivery of entry.deliveries) {
      if (delivery.state !== 'pending') continue;
      const scheduled = { entry, delivery };
      const key = groupChannelKey(entry, delivery);
      if (key !== undefined) {
        const older = this.newest.get(key);
        this.newest.set(key, scheduled);
        // One in flight is superseded when its attempt fails (attempt()), not under its feet.
        if (older !== undefined && this.inFlight.get(key) !== older.delivery && this.supersede(older, entry))
          superseded.add(older.entry);
      }
      this.queue.push(scheduled);
      this.metrics.queueDepth.set(++this.unfinished);
    }
    for (const older of superseded) void this.persist(older);
  }

  /** Finishes a pending delivery that a newer notification of its group replaces. */
  private supersede(older: ScheduledDelivery, newer: SpoolEntry): boolean {
    const delivery = older.delivery;
    if (delivery.state !== 'pending') return false;
    delivery.state = 'superseded';
    delivery.detail = `superseded by ${newer.id}`;
    delivery.finishedAt = this.now();
    this.metrics.deliveries.inc({ channel: delivery.channel, outcome: 'superseded' });
    this.metrics.queueDepth.set(--this.unfinished);
    this.log.info(
      { id: older.entry.id, channel: delivery.channel, by: newer.id },
      'superseded by a newer notification of its group',
    );
    return true;
  }

  /** Starts what is due, up to the concurrency limit, and sets a timer for what is due next. */
  private pump(): void {
    if (this.shutdown.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    while (this.active < this.options.retry.concurrency) {
      const next = this.queue.peek();
      if (next === undefined || next.delivery.nextAttemptAt > now) break;
      this.queue.pop();
      // Superseded while queued: its queue depth was given back then.
      if (next.delivery.state !== 'pending') continue;
      const key = groupChannelKey(next.entry, next.delivery);
      if (key !== undefined && this.inFlight.has(key)) {
        this.held.set(key, next);
        continue;
      }
      const wait = next.admitted
        ? 0
        : (this.channels.get(next.delivery.channel)?.rateLimit.reserve(now) ?? 0);
      if (wait > 0) {
        // Past the channel's rate: queued for the slot it reserved, never dropped.
        next.delivery.nextAttemptAt = now + wait;
        this.queue.push({ ...next, admitted: true });
        continue;
      }
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
    const key = groupChannelKey(entry, delivery);
    if (key !== undefined) this.inFlight.set(key, delivery);
    const started = performance.now();
    try {
      const receipt = await this.send(entry, delivery);
      this.delivered(entry, delivery, receipt.detail);
    } catch (err) {
      const newer = key === undefined ? undefined : this.newest.get(key);
      const permanent = err instanceof DeliveryError && err.permanent;
      // A retry would be stale; a permanent failure is still dead-lettered, for a person to see.
      if (newer !== undefined && newer.delivery !== delivery && !permanent) {
        delivery.attempts++;
        delivery.lastError = errorMessage(err);
        this.supersede({ entry, delivery }, newer.entry);
      } else {
        this.failed(entry, delivery, err);
      }
    } finally {
      this.metrics.deliveryDuration.observe(
        { channel: delivery.channel },
        (performance.now() - started) / 1000,
      );
    }
    await this.persist(entry);
    this.active--;
    if (key !== undefined) this.release(key, delivery);
    if (delivery.state === 'pending') this.queue.push({ entry, delivery });
    else if (delivery.state !== 'superseded') this.metrics.queueDepth.set(--this.unfinished);
    if (this.shutdown.signal.aborted && this.active === 0) this.idle?.();
    this.pump();
  }

  /** After an attempt: the newer delivery held back for it may go; a finished pair is forgotten. */
  private release(key: string, delivery: DeliveryRecord): void {
    this.inFlight.delete(key);
    const held = this.held.get(key);
    if (held !== undefined) {
      this.held.delete(key);
      this.queue.push(held);
    }
    if (delivery.state !== 'pending' && this.newest.get(key)?.delivery === delivery) this.newest.delete(key);
  }

  /** One attempt: the channel gets the evidence its notification's deliveries in flight share. */
  private async send(entry: SpoolEntry, delivery: DeliveryRecord): Promise<{ detail: string }> {
    const channel = this.channels.get(delivery.channel);
    if (channel === undefined)
      throw new DeliveryError(`channel "${delivery.channel}" is no longer configured`, true);
    try {
      const notification = channel.select(await this.evidence.acquire(entry.id, entry.notification));
      // Only when the channel's matchers changed since the notification was accepted.
      if (notification === undefined) return { detail: 'no alert of the notification is for this channel' };
      return await channel.send(
        { id: entry.id, route: entry.route, receivedAt: entry.receivedAt, notification },
        this.shutdown.signal,
      );
    } finally {
      this.evidence.release(entry.id);
    }
  }

  private delivered(entry: SpoolEntry, delivery: DeliveryRecord, detail: string): void {
    delivery.attempts++;
    delivery.state = 'delivered';
    delivery.detail = detail;
    delivery.lastError = undefined;
    delivery.finishedAt = this.now();
    this.metrics.deliveries.inc({ channel: delivery.channel, outcome: 'delivered' });
    this.log.info({ id: entry.id, channel: delivery.channel, attempts: delivery.attempts }, 'delivered');
  }

  private failed(entry: SpoolEntry, delivery: DeliveryRecord, err: unknown): void {
    const now = this.now();
    delivery.attempts++;
    delivery.lastError = errorMessage(err);
    const decision = nextAttempt(this.options.retry, {
      attempts: delivery.attempts,
      receivedAt: entry.receivedAt,
      now,
      permanent: err instanceof DeliveryError && err.permanent,
      retryAfterMs: err instanceof DeliveryError ? err.retryAfterMs : undefined,
    });
    const context = {
      id: entry.id,
      channel: delivery.channel,
      attempts: delivery.attempts,
      err: delivery.lastError,
    };
    if (!decision.retry) {
      delivery.state = 'dead';
      delivery.finishedAt = now;
      this.metrics.deliveries.inc({ channel: delivery.channel, outcome: 'dead' });
      this.log.error(
        context,
        decision.reason === 'permanent'
          ? 'delivery failed permanently: dead-lettered'
          : 'delivery expired: dead-lettered',
      );
      return;
    }
    delivery.nextAttemptAt = decision.at;
    // The peer's "slow down" is about the channel, not this delivery: its others wait too.
    if (err instanceof DeliveryError && err.retryAfterMs !== undefined)
      this.channels.get(delivery.channel)?.rateLimit.holdUntil(now + err.retryAfterMs);
    this.metrics.deliveries.inc({ channel: delivery.channel, outcome: 'retry' });
    this.log.warn({ ...context, retryInMs: Math.round(decision.at - now) }, 'delivery failed, will retry');
  }

  /** Writes of one entry are serialised: two channels finishing together must not race on its file. */
  private persist(entry: SpoolEntry): Promise<void> {
    const previous = this.writes.get(entry.id) ?? Promise.resolve();
    const next = previous.then(() => this.writeState(entry));
    this.writes.set(entry.id, next);
    void next.then(() => {
      if (this.writes.get(entry.id) === next) this.writes.delete(entry.id);
    });
    return next;
  }

  /**
   * A failed write (disk full) is retried with backoff until it passes: until then the entry stays
   * pending in memory and on the status page, and a restart would repeat only what is not recorded.
   */
  private async writeState(entry: SpoolEntry): Promise<void> {
    if (!this.pending.has(entry.id)) return;
    try {
      if (isFinished(entry)) {
        const outcome = await this.spool.finish(entry);
        this.pending.delete(entry.id);
        this.finish(entry, outcome === 'dead');
      } else {
        await this.spool.save(entry);
      }
      this.writeRetries.delete(entry.id);
    } catch (err) {
      const failures = (this.writeRetries.get(entry.id)?.failures ?? 0) + 1;
      const waitMs = Math.min(60_000, 1_000 * 2 ** Math.min(failures - 1, 6));
      this.metrics.spoolWriteErrors.inc();
      this.log.error(
        { id: entry.id, err: errorMessage(err), retryInMs: waitMs },
        'cannot write delivery state to the spool: will retry',
      );
      if (this.shutdown.signal.aborted) return;
      const timer = setTimeout(() => void this.persist(entry), waitMs);
      timer.unref();
      this.writeRetries.set(entry.id, { failures, timer });
    }
  }

  private finish(entry: SpoolEntry, deadLettered: boolean): void {
    this.history.record(entry, deadLettered);
    if (deadLettered) this.metrics.deadLetters.set(this.history.deadLetters());
    this.rememberKey(entry);
  }

  private rememberKey(entry: SpoolEntry): void {
    this.seen.set(entry.dedupKey, { id: entry.id, at: entry.receivedAt });
  }
}

/**
 * Deliveries that must keep their order: the same route, alert group and channel. Without a
 * groupKey (not from Alertmanager) nothing says two notifications are about the same thing.
 */
function groupChannelKey(entry: SpoolEntry, delivery: DeliveryRecord): string | undefined {
  const group = entry.notification.groupKey;
  return group === '' ? undefined : `${entry.route}\u0000${group}\u0000${delivery.channel}`;
}

interface SeenKey {
  id: string;
  at: number;
  stored?: Promise<void>;
}

function newEntry(
  now: number,
  key: string,
  route: string,
  notification: Notification,
  channelNames: string[],
): SpoolEntry {
  return {
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
}
