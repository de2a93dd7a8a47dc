import type { z } from 'zod';
import { matchesAll } from '../../common/matchers';
import type { ChannelBaseConfig } from '../../config/bridge';
import type { EnrichedNotification } from '../evidence';
import { buildView, type MessageView, type ViewOptions } from '../render/message';
import type { Alert, Notification } from '../payload';
import { TokenBucket } from '../rate-limit';

/**
 * Where notifications go. Each channel type is one file exporting a ChannelDefinition (its type,
 * its configuration schema and how to build its Notifier), listed once in ./index.ts. A Notifier
 * makes one attempt and says how it went; what every channel shares (which alerts it receives,
 * send_resolved, the rate limit) is the Channel's below; retries, backoff, expiry, de-duplication
 * and the spool are the dispatcher's, in one place for every channel.
 */

export interface Notifier {
  /**
   * One delivery attempt. Resolves when the peer accepted it; throws DeliveryError otherwise.
   * `signal` is aborted when the bridge shuts down: a request still waiting for its peer may give up
   * (the delivery stays pending in the spool and is attempted again after the restart).
   */
  send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryReceipt>;
  close?(): Promise<void>;
}

export interface OutgoingMessage {
  /** The spool id: stable across retries and restarts (idempotency keys, Message-IDs). */
  id: string;
  route: string;
  receivedAt: number;
  /** Only the alerts this channel receives (matchers, send_resolved). */
  notification: EnrichedNotification;
}

export interface DeliveryReceipt {
  /** What the peer said (SMTP response, HTTP status), shown on the status page. */
  detail: string;
}

/** What a channel is built with besides its own configuration. */
export interface ChannelContext {
  /** Bridge time zone, unless the channel sets its own. */
  timeZone: string;
  /** Base URL of the bridge as people reach it (graph links, status page). */
  bridgeUrl?: string;
  /** Key path of this channel in the configuration, for errors found while building it. */
  where: string;
  now?: () => number;
}

export interface ChannelDefinition<S extends z.ZodType<ChannelBaseConfig> = z.ZodType<ChannelBaseConfig>> {
  type: string;
  schema: S;
  create(config: z.output<S>, context: ChannelContext): Notifier;
  /**
   * Its attempts run in a delivery worker thread when the bridge runs (delivery-pool.ts): for types
   * whose work per message is heavy (e-mail: templates, MIME, base64 graphs, CSV, the SMTP session),
   * so that the event loop acknowledging webhooks does not wait for it.
   */
  offThread?: boolean;
}

/** Typed by its schema, stored in a list of all types. */
export function defineChannel<S extends z.ZodType<ChannelBaseConfig>>(
  definition: ChannelDefinition<S>,
): ChannelDefinition {
  return definition as unknown as ChannelDefinition;
}

/** The view a channel's templates render: times in the channel's zone, else the bridge's. */
export function messageView(
  message: OutgoingMessage,
  config: ChannelBaseConfig,
  context: ChannelContext,
  extra: Pick<ViewOptions, 'cid' | 'attachCsv'> & { now?: number } = {},
): MessageView {
  return buildView(message.notification, {
    route: message.route,
    timeZone: config.timezone ?? context.timeZone,
    now: (context.now ?? Date.now)(),
    bridgeUrl: context.bridgeUrl,
    ...extra,
  });
}

/**
 * Why an attempt failed. `permanent` failures (a 5xx reply to the recipient, a 400 from an API) are
 * dead-lettered at once; the rest are retried with backoff, no sooner than `retryAfterMs` if the peer
 * asked (HTTP 429 Retry-After).
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** What the dispatcher delivers to. */
export interface Channel {
  readonly name: string;
  readonly type: string;
  /** Its token bucket: the dispatcher takes a slot before each attempt and holds it on a 429. */
  readonly rateLimit: Pick<TokenBucket, 'reserve' | 'holdUntil'>;
  /** Whether any alert of the notification is for this channel: a delivery is made only then. */
  wants(notification: Notification): boolean;
  /** The alerts of the notification for this channel; undefined when none. */
  select(enriched: EnrichedNotification): EnrichedNotification | undefined;
  send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryReceipt>;
  close(): Promise<void>;
}

/** A configured channel: its notifier behind the settings every channel type shares. */
export class ConfiguredChannel implements Channel {
  readonly name: string;
  readonly type: string;
  readonly rateLimit: TokenBucket;

  constructor(
    private readonly config: ChannelBaseConfig,
    private readonly notifier: Notifier,
    now = Date.now(),
  ) {
    this.name = config.name;
    this.type = config.type;
    this.rateLimit = new TokenBucket(config.rate_limit.per_second, config.rate_limit.burst, now);
  }

  wants(notification: Notification): boolean {
    return notification.alerts.some((alert) => this.receives(alert));
  }

  /**
   * The part of a notification this channel receives: the alerts its matchers select, without the
   * resolved ones when send_resolved is off; undefined when nothing is left.
   */
  select(enriched: EnrichedNotification): EnrichedNotification | undefined {
    const alerts = enriched.alerts.filter((evidence) => this.receives(evidence.alert));
    if (alerts.length === 0) return undefined;
    if (alerts.length === enriched.alerts.length) return enriched;
    const firing = alerts.some((evidence) => evidence.alert.status === 'firing');
    return {
      notification: {
        ...enriched.notification,
        status: firing ? 'firing' : 'resolved',
        alerts: alerts.map((evidence) => evidence.alert),
      },
      alerts,
    };
  }

  send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryReceipt> {
    return this.notifier.send(message, signal);
  }

  async close(): Promise<void> {
    await this.notifier.close?.();
  }

  private receives(alert: Alert): boolean {
    if (alert.status === 'resolved' && !this.config.send_resolved) return false;
    return matchesAll(this.config.matchers, alert.labels);
  }
}
