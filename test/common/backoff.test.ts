import { backoffDelay } from '../../src/common/backoff';

describe('backoffDelay', () => {
  it('doubles from the initial wait, between half and all of it', () => {
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, 100, 10_000, () => 0))).toEqual([
      50, 100, 200, 400,
    ]);
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, 100, 10_000, () => 1))).toEqual([
      100, 200, 400, 800,
    ]);
  });

  it('never waits longer than the maximum, however many attempts failed', () => {
    expect(backoffDelay(10, 100, 1_000, () => 1)).toBe(1_000);
    expect(backoffDelay(5_000, 100, 1_000, () => 0.5)).toBe(750);
  });
});
