import { SlidingMaximum } from '../../src/detector/algorithms/sliding-maximum';

const HOUR = 3_600_000;

describe('sliding maximum over time buckets', () => {
  test('holds the current bucket and the buckets − 1 before it', () => {
    // 4 hours in 4 buckets of an hour.
    const window = new SlidingMaximum(4 * HOUR, 4);
    expect(window.maximum(0)).toBe(-Infinity);
    window.add(0, 10);
    window.add(HOUR, 5);
    window.add(2 * HOUR + 1, 7);
    expect(window.maximum(3 * HOUR)).toBe(10);
    // At 4 h the bucket of 10 has left; 7 is the largest left.
    expect(window.maximum(4 * HOUR)).toBe(7);
    window.add(4 * HOUR, 6);
    expect(window.maximum(5 * HOUR)).toBe(7);
    expect(window.maximum(6 * HOUR)).toBe(6);
    expect(window.maximum(8 * HOUR)).toBe(-Infinity);
  });

  test('a gap longer than the window empties it', () => {
    const window = new SlidingMaximum(4 * HOUR, 4);
    window.add(0, 10);
    expect(window.maximum(10 * HOUR)).toBe(-Infinity);
    window.add(10 * HOUR, -3);
    expect(window.maximum(10 * HOUR + 1)).toBe(-3);
  });

  test('a stored maximum is never below the value added (float32, rounded up)', () => {
    const window = new SlidingMaximum(HOUR, 1);
    for (const value of [0.1, -0.1, 1e9 + 1, -(1e9 + 1), 123456.789, 1e-50, -1e40, 1e40]) {
      const fresh = new SlidingMaximum(HOUR, 1);
      fresh.add(0, value);
      expect(fresh.maximum(0)).toBeGreaterThanOrEqual(value);
      // Within a few parts in 10^7 of it.
      if (Math.abs(value) < 1e38 && Math.abs(value) > 1e-30)
        expect(Math.abs(fresh.maximum(0) - value)).toBeLessThan(Math.abs(value) * 1e-6);
      window.add(0, value);
    }
    expect(window.maximum(0)).toBe(Infinity);
  });

  test('save and restore give the same maxima', () => {
    const a = new SlidingMaximum(4 * HOUR, 4);
    for (let h = 0; h < 6; h++) a.add(h * HOUR, Math.sin(h));
    const b = new SlidingMaximum(4 * HOUR, 4);
    b.restore(a.save());
    expect(a.save()).toHaveLength(SlidingMaximum.savedBytes(4));
    for (let h = 6; h < 12; h++) {
      expect(b.maximum(h * HOUR)).toBe(a.maximum(h * HOUR));
      a.add(h * HOUR, h % 3);
      b.add(h * HOUR, h % 3);
    }
    expect(() => new SlidingMaximum(4 * HOUR, 5).restore(a.save())).toThrow(RangeError);
  });
});
