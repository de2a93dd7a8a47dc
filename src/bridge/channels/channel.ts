import type { EnrichedNotification } from '../enrich';

/**
 * A place notifications go: e-mail now; Slack, Teams, SMS, webhook, Zabbix and Nagios behind the
 * same interface. A channel does one attempt and says how it went; retries, backoff, expiry,
 * de-duplication and the spool are the dispatcher's, in one place for every channel.
 */
export interface Channel {
  readonly name: string;
  readonly type: string;
  /**
   * One delivery attempt. Resolves when the peer accepted it; throws DeliveryError otherwise.
   * `signal` is aborted when the bridge shuts down: a request still waiting for its peer may give up
   * (the delivery stays pending in the spool and is attempted again after the restart).
   */
  send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryReceipt>;
  close(): Promise<void>;
}

export interface OutgoingMessage {
  /** The spool id: stable across retries and restarts (idempotency keys, Message-IDs). */
  id: string;
  route: string;
  receivedAt: number;
  notification: EnrichedNotification;
}

export interface DeliveryReceipt {
  /** What the peer said (SMTP response, HTTP status), shown on the status page. */
  detail: string;
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
