import { TokenBucket } from '../../src/bridge/rate-limit';

describe('channel rate limit (token bucket)', () => {
  it('lets a burst through, then spaces the rest at the rate instead of dropping them', () => {
    const bucket = new TokenBucket(2, 3, 0);
    const waits = Array.from({ length: 7 }, () => bucket.reserve(0));
    expect(waits).toEqual([0, 0, 0, 500, 1000, 1500, 2000]);
  });

  it('refills with time, never above the burst', () => {
    const bucket = new TokenBucket(1, 2, 0);
    expect([bucket.reserve(0), bucket.reserve(0), bucket.reserve(0)]).toEqual([0, 0, 1000]);
    // By 10 s the debt is paid and the bucket is full again: two go at once, the third waits.
    expect([bucket.reserve(10_000), bucket.reserve(10_000), bucket.reserve(10_000)]).toEqual([0, 0, 1000]);
  });

  it("holds every message until the peer's Retry-After has passed", () => {
    const bucket = new TokenBucket(10, 10, 0);
    bucket.holdUntil(30_000);
    expect(bucket.reserve(1_000)).toBe(29_000);
    expect(bucket.reserve(30_000)).toBe(0);
  });

  it('with no rate set, only a hold delays', () => {
    const bucket = new TokenBucket(0, 1, 0);
    expect(Array.from({ length: 100 }, () => bucket.reserve(0)).every((w) => w === 0)).toBe(true);
    bucket.holdUntil(5_000);
    expect(bucket.reserve(0)).toBe(5_000);
  });
});
