/**
 * A token bucket per channel: `perSecond` messages a second on average, `burst` at once. A delivery
 * past the limit is not dropped: it reserves the next free slot and waits for it, so a burst of
 * notifications leaves in order at the rate the peer takes. A peer's own "slow down" (HTTP 429 with
 * Retry-After) holds every delivery of the channel until then.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private heldUntil = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /**
   * Reserves one message: 0 when it may go now, else the milliseconds until its slot. Reserved
   * slots are spread out, so n waiting deliveries get n distinct times.
   */
  reserve(now: number): number {
    const held = Math.max(0, this.heldUntil - now);
    if (this.perSecond <= 0) return held;
    this.refill(now);
    this.tokens -= 1;
    const wait = this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.perSecond) * 1000);
    return Math.max(wait, held);
  }

  /** The peer asked for a pause: nothing goes before `until`. */
  holdUntil(until: number): void {
    this.heldUntil = Math.max(this.heldUntil, until);
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.perSecond);
    this.updatedAt = now;
  }
}
