/**
 * A circuit breaker for the graph queries to Prometheus: after `failures` outages in a row it opens
 * and lets no query through for `coolDownMs`; then it half-opens and lets one probe through, whose
 * outcome closes it again or reopens it for another cool-down. While it is open, a delivery goes out
 * at once without its graph instead of waiting for a Prometheus that is not there.
 * Pure state: the caller reports each query's outcome; time comes from `now`.
 */

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  /** Consecutive outages that open the circuit. */
  failures: number;
  /** How long it stays open before one probe goes through. */
  coolDownMs: number;
}

export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private consecutive = 0;
  private openedAt = 0;
  /** The outage that opened (or last kept open) the circuit, for the message of a skipped graph. */
  private reason = '';

  constructor(
    private readonly options: CircuitBreakerOptions,
    private readonly now: () => number = Date.now,
    private readonly onChange: (state: CircuitState) => void = () => {},
  ) {}

  get state(): CircuitState {
    return this.current;
  }

  /**
   * Whether a query may go out now. Open: no, until the cool-down has passed; then this call is
   * the probe (half-open) and every other call waits for its outcome.
   */
  tryAcquire(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.coolDownMs) {
      this.moveTo('half_open');
      return true;
    }
    return false;
  }

  /** Prometheus answered (even with an error about the query itself). */
  succeeded(): void {
    this.consecutive = 0;
    if (this.current !== 'closed') this.moveTo('closed');
  }

  /** Prometheus did not answer: unreachable, timed out, or a garbled answer. */
  failed(reason: string): void {
    this.consecutive++;
    this.reason = reason;
    if (
      this.current === 'half_open' ||
      (this.current === 'closed' && this.consecutive >= this.options.failures)
    ) {
      this.openedAt = this.now();
      this.moveTo('open');
    }
  }

  /**
   * The probe tryAcquire() let through was not sent after all (nothing to ask): open again as it was,
   * its cool-down over, so the next call is the probe.
   */
  abandon(): void {
    if (this.current === 'half_open') this.moveTo('open');
  }

  /** Why queries are not sent now, for people: when the circuit opened and the outage that did it. */
  describe(): string {
    const since = new Date(this.openedAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return `circuit open since ${since}, last error: ${this.reason}`;
  }

  private moveTo(state: CircuitState): void {
    this.current = state;
    this.onChange(state);
  }
}
