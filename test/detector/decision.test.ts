import { Decision } from '../../src/detector/algorithms/decision';
import type { Estimate } from '../../src/detector/algorithms/estimate';

const est = (score: number): Estimate => ({ score, expected: 0, lower: -4, upper: 4 });

describe('decision', () => {
  test('debounce: for_points consecutive anomalous points; hysteresis: clear_points normal ones', () => {
    const d = new Decision({
      direction: 'both',
      combine: 'all',
      forPoints: 3,
      clearPoints: 2,
      refractoryMs: 0,
    });
    const states = [5, 5, 0, 5, 5, 5, 0, 5, 0, 0, 5].map((s, i) => d.update(i * 1000, s).anomalous);
    expect(states).toEqual([false, false, false, false, false, true, true, true, true, false, false]);
  });

  test('direction: high ignores drops, low ignores rises', () => {
    const high = new Decision({
      direction: 'high',
      combine: 'all',
      forPoints: 1,
      clearPoints: 1,
      refractoryMs: 0,
    });
    const low = new Decision({
      direction: 'low',
      combine: 'all',
      forPoints: 1,
      clearPoints: 1,
      refractoryMs: 0,
    });
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
      new Decision({
        direction: 'both',
        combine: 'all',
        forPoints: 1,
        clearPoints: 1,
        refractoryMs: 0,
      }).combinedStrength(opinions),
    ).toBe(0.5);
    expect(
      new Decision({
        direction: 'both',
        combine: 'any',
        forPoints: 1,
        clearPoints: 1,
        refractoryMs: 0,
      }).combinedStrength(opinions),
    ).toBe(2);
    const alone = [
      { estimate: est(8), threshold: 4 },
      { estimate: undefined, threshold: 4 },
    ];
    expect(
      new Decision({
        direction: 'both',
        combine: 'all',
        forPoints: 1,
        clearPoints: 1,
        refractoryMs: 0,
      }).combinedStrength(alone),
    ).toBe(2);
  });

  test('refractory: an alert starts only at a point stronger than every point of the period', () => {
    const d = new Decision({
      direction: 'both',
      combine: 'all',
      forPoints: 1,
      clearPoints: 1,
      refractoryMs: 24 * 60_000,
    });
    const minute = 60_000;
    // A first wave, a weaker second one 5 minutes later, a stronger third, then one a day later.
    const strengths = [0, 2, 0, 1.5, 0, 3, 0];
    const times = [0, 1, 2, 5, 6, 8, 9].map((m) => m * minute);
    const outcomes = strengths.map((s, i) => d.update(times[i], s));
    expect(outcomes.map((o) => o.anomalous)).toEqual([false, true, false, false, false, true, false]);
    expect(outcomes.map((o) => o.onset)).toEqual([0, 2 / 3, 0, 0, 0, 0.75, 0]);
    const later = d.update(2 * 24 * 60 * minute, 1.5);
    expect(later).toEqual({ anomalous: true, onset: 0.6 });
  });

  test('the onset score reaches 0.5 exactly where the state turns anomalous (for_points 1)', () => {
    const d = new Decision({
      direction: 'both',
      combine: 'all',
      forPoints: 1,
      clearPoints: 3,
      refractoryMs: 3_600_000,
    });
    let t = 0;
    let raised = 0;
    for (const s of [0.2, 0.9, 0.95, 1, 1.2, 0.3, 0.1, 0.2, 0.4, 0.9, 4]) {
      const before = d.anomalous;
      const { anomalous, onset } = d.update((t += 60_000), s);
      if (!before) expect(anomalous).toBe(onset >= 0.5);
      if (!before && anomalous) raised++;
    }
    // At 1 (the first point at the threshold) and at 4 (stronger than the hour before).
    expect(raised).toBe(2);
  });

  test('save and restore carry the refractory period over', () => {
    const options = {
      direction: 'both',
      combine: 'all',
      forPoints: 1,
      clearPoints: 1,
      refractoryMs: 3_600_000,
    } as const;
    const a = new Decision(options);
    a.update(0, 3);
    a.update(60_000, 0);
    const b = new Decision(options);
    b.restore(a.save());
    // A state saved without a refractory period is not taken for one with it.
    expect(() => new Decision({ ...options, refractoryMs: 0 }).restore(a.save())).toThrow(RangeError);
    // Weaker than the earlier 3 within the hour: no new alert, in both.
    expect(b.update(120_000, 2)).toEqual({ anomalous: false, onset: 0 });
    expect(a.update(120_000, 2)).toEqual({ anomalous: false, onset: 0 });
  });
});
