import { RangeWindow } from '../../src/detector/algorithms/range';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const options = {
  windowMs: 10 * DAY,
  buckets: 10,
  threshold: 0.02,
  minHistoryMs: DAY,
  floor: 0,
  relativeFloor: 0,
};

describe('range detector', () => {
  test('scores 0 inside the seen range and the distance beyond it in range widths', () => {
    const range = new RangeWindow(options);
    // Two days oscillating between 10 and 20, hourly.
    for (let h = 0; h < 48; h++) range.update(h * HOUR, h % 2 === 0 ? 10 : 20);
    const inside = range.update(48 * HOUR, 17)!;
    expect(inside.score).toBe(0);
    expect(inside.expected).toBe(15);
    expect(inside.lower).toBeCloseTo(10 - 0.02 * 10);
    expect(inside.upper).toBeCloseTo(20 + 0.02 * 10);
    expect(range.update(49 * HOUR, 25)!.score).toBeCloseTo(0.5);
    // 25 has joined the range: 24 is inside now; below the minimum is negative.
    expect(range.update(50 * HOUR, 24)!.score).toBe(0);
    expect(range.update(51 * HOUR, 5)!.score).toBeCloseTo(-5 / 15);
  });

  test('no opinion before min_history; points older than the window leave it', () => {
    const range = new RangeWindow(options);
    expect(range.update(0, 100)).toBeUndefined();
    expect(range.update(12 * HOUR, 1)).toBeUndefined();
    expect(range.update(DAY, 50)).toBeDefined();
    // Eleven days of values 40..60: the 100 and the 1 of day 0 have left the window.
    for (let h = 25; h < 11 * 24; h++) range.update(h * HOUR, 40 + (h % 21));
    expect(range.boundsAt((11 * 24 - 1) * HOUR)).toEqual([40, 60]);
    expect(range.update(11 * 24 * HOUR, 90)!.score).toBeCloseTo(1.5);
  });

  test('save and restore give the same scores', () => {
    const a = new RangeWindow(options);
    for (let h = 0; h < 60; h++) a.update(h * HOUR, Math.sin(h / 3) * 10);
    const b = new RangeWindow(options);
    b.restore(a.save());
    for (let h = 60; h < 90; h++) {
      const v = h === 80 ? 30 : Math.sin(h / 3) * 10;
      expect(b.update(h * HOUR, v)).toEqual(a.update(h * HOUR, v));
    }
  });
});
