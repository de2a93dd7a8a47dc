import { CircuitBreaker, type CircuitState } from '../../src/bridge/circuit-breaker';

describe('circuit breaker of graph queries', () => {
  let now: number;
  let changes: CircuitState[];
  let breaker: CircuitBreaker;

  beforeEach(() => {
    now = Date.UTC(2026, 11, 2, 3, 0, 0);
    changes = [];
    breaker = new CircuitBreaker(
      { failures: 3, coolDownMs: 30_000 },
      () => now,
      (state) => changes.push(state),
    );
  });

  const failTimes = (n: number): void => {
    for (let i = 0; i < n; i++) {
      expect(breaker.tryAcquire()).toBe(true);
      breaker.failed('http://127.0.0.1:9/api/v1/query_range: ECONNREFUSED');
    }
  };

  it('stays closed below the threshold, and a success resets the count', () => {
    failTimes(2);
    breaker.succeeded();
    failTimes(2);
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    expect(changes).toEqual([]);
  });

  it('opens after N consecutive failures and lets nothing through during the cool-down', () => {
    failTimes(3);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open']);
    expect(breaker.tryAcquire()).toBe(false);
    now += 29_999;
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.describe()).toBe(
      'circuit open since 2026-12-02T03:00:00Z, last error: http://127.0.0.1:9/api/v1/query_range: ECONNREFUSED',
    );
  });

  it('half-opens after the cool-down with exactly one probe, and closes when it succeeds', () => {
    failTimes(3);
    now += 30_000;
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.state).toBe('half_open');
    // Others wait for the probe's outcome.
    expect(breaker.tryAcquire()).toBe(false);
    breaker.succeeded();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    expect(changes).toEqual(['open', 'half_open', 'closed']);
    // Closed means the count starts again: two failures do not reopen it.
    failTimes(2);
    expect(breaker.state).toBe('closed');
  });

  it('reopens for a whole new cool-down when the probe fails', () => {
    failTimes(3);
    now += 45_000;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failed('timed out after 5000 ms');
    expect(breaker.state).toBe('open');
    expect(breaker.describe()).toBe(
      'circuit open since 2026-12-02T03:00:45Z, last error: timed out after 5000 ms',
    );
    now += 29_000;
    expect(breaker.tryAcquire()).toBe(false);
    now += 1_000;
    expect(breaker.tryAcquire()).toBe(true);
    expect(changes).toEqual(['open', 'half_open', 'open', 'half_open']);
  });

  it('an abandoned probe reopens the circuit without a new cool-down: the next call probes', () => {
    failTimes(3);
    now += 30_000;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.abandon();
    expect(breaker.state).toBe('open');
    expect(breaker.describe()).toBe(
      'circuit open since 2026-12-02T03:00:00Z, last error: http://127.0.0.1:9/api/v1/query_range: ECONNREFUSED',
    );
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.state).toBe('half_open');
    // Abandoning when no probe is out changes nothing.
    breaker.succeeded();
    breaker.abandon();
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });

  it('a late failure of a query sent before the circuit opened does not extend the cool-down', () => {
    failTimes(3);
    now += 20_000;
    breaker.failed('ECONNREFUSED');
    now += 10_000;
    expect(breaker.tryAcquire()).toBe(true);
  });
});
