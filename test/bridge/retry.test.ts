import { DeliveryQueue } from '../../src/bridge/delivery-queue';
import { nextAttempt, type RetryPolicy } from '../../src/bridge/retry';
import type { SpoolEntry } from '../../src/bridge/spool';

const POLICY: RetryPolicy = {
  initialBackoffMs: 1_000,
  maxBackoffMs: 8_000,
  maxAgeMs: 60_000,
  concurrency: 4,
};
const RECEIVED = 1_000_000;

describe('nextAttempt', () => {
  const failed = (
    attempts: number,
    now: number,
    extra: { permanent?: boolean; retryAfterMs?: number } = {},
  ) => nextAttempt(POLICY, { attempts, receivedAt: RECEIVED, now, permanent: false, ...extra }, () => 1);

  it('backs off exponentially from the initial wait up to the maximum', () => {
    expect([1, 2, 3, 4, 5].map((n) => failed(n, RECEIVED))).toEqual(
      [1_000, 2_000, 4_000, 8_000, 8_000].map((wait) => ({ retry: true, at: RECEIVED + wait })),
    );
  });

  it('waits at least as long as the peer asked', () => {
    expect(failed(1, RECEIVED, { retryAfterMs: 30_000 })).toEqual({ retry: true, at: RECEIVED + 30_000 });
  });

  it('makes the last attempt at expiry, and dead-letters after it', () => {
    expect(failed(4, RECEIVED + 55_000)).toEqual({ retry: true, at: RECEIVED + 60_000 });
    expect(failed(5, RECEIVED + 60_000)).toEqual({ retry: false, reason: 'expired' });
  });

  it('dead-letters a permanent failure at once', () => {
    expect(failed(1, RECEIVED, { permanent: true })).toEqual({ retry: false, reason: 'permanent' });
  });
});

describe('DeliveryQueue', () => {
  it('gives deliveries back earliest attempt first, whatever the order they came in', () => {
    const queue = new DeliveryQueue();
    const entry = {} as SpoolEntry;
    const times = [50, 10, 40, 10, 30, 20, 60, 0];
    for (const at of times) {
      queue.push({ entry, delivery: { channel: 'c', state: 'pending', attempts: 0, nextAttemptAt: at } });
    }
    const order: number[] = [];
    for (let item = queue.pop(); item !== undefined; item = queue.pop())
      order.push(item.delivery.nextAttemptAt);
    expect(order).toEqual([...times].sort((a, b) => a - b));
    expect(queue.peek()).toBeUndefined();
  });
});
