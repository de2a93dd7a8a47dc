import { ShiftDetector } from '../../src/detector/algorithms/shift';

const options = { allowance: 4, cap: 10, threshold: 50, direction: 'both' } as const;

describe('shift detector (CUSUM over seasonal scores)', () => {
  test('ordinary scores never accumulate; a sustained moderate departure does', () => {
    const shift = new ShiftDetector(options);
    for (let i = 0; i < 1000; i++) expect(shift.update(i % 2 ? 3.9 : -3.9)).toBe(0);
    // Scores of 6: 2 beyond the allowance per point, so 25 points reach the threshold.
    const strengths = Array.from({ length: 25 }, () => shift.update(6));
    expect(strengths[23]).toBeCloseTo(48 / 50);
    expect(strengths[24]).toBeCloseTo(1);
    // Back to normal: it falls by the allowance per point.
    expect(shift.update(0)).toBeCloseTo(46 / 50);
  });

  test('one spike counts only up to the cap: a single point is the seasonal detector’s job', () => {
    const shift = new ShiftDetector(options);
    expect(shift.update(1000)).toBeCloseTo((10 - 4) / 50);
    expect(shift.update(-Infinity)).toBeCloseTo((10 - 4) / 50);
  });

  test('direction: a downward shift counts only for low and both', () => {
    const low = new ShiftDetector({ ...options, direction: 'low' });
    const high = new ShiftDetector({ ...options, direction: 'high' });
    for (let i = 0; i < 30; i++) {
      low.update(-8);
      high.update(-8);
    }
    expect(low.update(-8)).toBeGreaterThan(1);
    expect(high.update(-8)).toBe(0);
  });

  test('save and restore carry the sums over', () => {
    const a = new ShiftDetector(options);
    for (let i = 0; i < 10; i++) a.update(7);
    const b = new ShiftDetector(options);
    b.restore(a.save());
    expect(b.update(5)).toBe(a.update(5));
    expect(() => b.restore(new Uint8Array(8))).toThrow(RangeError);
  });
});
