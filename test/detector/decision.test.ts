import { Decision } from '../../src/detector/algorithms/decision';
import type { Estimate } from '../../src/detector/algorithms/estimate';

const est = (score: number): Estimate => ({ score, expected: 0, lower: -4, upper: 4 });

describe('decision', () => {
  test('debounce: for_points consecutive anomalous points; hysteresis: clear_points normal ones', () => {
    const d = new Decision({ direction: 'both', combine: 'all', forPoints: 3, clearPoints: 2 });
    const states = [5, 5, 0, 5, 5, 5, 0, 5, 0, 0, 5].map((s) => d.update(s));
    expect(states).toEqual([false, false, false, false, false, true, true, true, true, false, false]);
  });

  test('direction: high ignores drops, low ignores rises', () => {
    const high = new Decision({ direction: 'high', combine: 'all', forPoints: 1, clearPoints: 1 });
    const low = new Decision({ direction: 'low', combine: 'all', forPoints: 1, clearPoints: 1 });
    const drop = [{ estimate: est(-8), threshold: 4 }];
    expect(high.combinedStrength(drop)).toBe(0);
    expect(low.combinedStrength(drop)).toBe(2);
  });

  test('combine all takes the weaker detector, any the stronger; a detector without opinion is skipped', () => {
    const opinions = [
      { estimate: est(8), threshold: 4 },
      { estimate: est(2), threshold: 4 },
    ];
    expect(
      new Decision({ direction: 'both', combine: 'all', forPoints: 1, clearPoints: 1 }).combinedStrength(
        opinions,
      ),
    ).toBe(0.5);
    expect(
      new Decision({ direction: 'both', combine: 'any', forPoints: 1, clearPoints: 1 }).combinedStrength(
        opinions,
      ),
    ).toBe(2);
    const alone = [
      { estimate: est(8), threshold: 4 },
      { estimate: undefined, threshold: 4 },
    ];
    expect(
      new Decision({ direction: 'both', combine: 'all', forPoints: 1, clearPoints: 1 }).combinedStrength(
        alone,
      ),
    ).toBe(2);
  });
});
