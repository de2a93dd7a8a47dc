import { backoffDelay } from '../common/backoff';

/** How a failed delivery is retried: the same for every channel. */
export interface RetryPolicy {
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** A delivery still failing this long after its notification arrived is dead-lettered. */
  maxAgeMs: number;
  /** Deliveries in flight at once. */
  concurrency: number;
}

export interface FailedAttempt {
  /** Attempts made so far, the failed one included. */
  attempts: number;
  /** When the notification arrived (Unix ms). */
  receivedAt: number;
  now: number;
  /** The peer refused for good (a 5xx reply to the recipient, a 400 from an API). */
  permanent: boolean;
  /** The peer asked to wait at least this long (HTTP 429 Retry-After). */
  retryAfterMs?: number;
}

export type RetryDecision = { retry: true; at: number } | { retry: false; reason: 'permanent' | 'expired' };

/** What follows a failed attempt: another one (and when), or dead-lettering (and why). */
export function nextAttempt(
  policy: RetryPolicy,
  failed: FailedAttempt,
  random: () => number = Math.random,
): RetryDecision {
  if (failed.permanent) return { retry: false, reason: 'permanent' };
  const expiresAt = failed.receivedAt + policy.maxAgeMs;
  if (failed.now >= expiresAt) return { retry: false, reason: 'expired' };
  const wait = Math.max(
    backoffDelay(failed.attempts - 1, policy.initialBackoffMs, policy.maxBackoffMs, random),
    failed.retryAfterMs ?? 0,
  );
  // The last attempt happens at expiry rather than never.
  return { retry: true, at: Math.min(failed.now + wait, expiresAt) };
}
