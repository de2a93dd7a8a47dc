import { mean, standardDeviation } from 'simple-statistics';
import { rollingZScore, type ZScoreOptions } from '../../src/detector/algorithms/zscore';
import { HOUR, MINUTE, noise, times } from './series';

const options = (robust: boolean): ZScoreOptions => ({
  windowMs: 6 * HOUR,
  robust,
  maxPoints: 6 * 60 + 2,
  buckets: 24,
  threshold: 4,
  minPoints: 30,
  floor: 0,
  relativeFloor: 0,
});

describe.each([false, true])('rolling z-score (robust: %s)', (robust) => {
  test('a spike scores far above the threshold, its neighbours do not', () => {
    const z = rollingZScore(options(robust));
    const rand = noise(1);
    const t = times(600, MINUTE);
    const scores = t.map((time, i) => z.update(time, 100 + rand() * 10 + (i === 500 ? 60 : 0))?.score ?? 0);
    expect(scores[500]).toBeGreaterThan(10);
    const others = scores.filter((_, i) => i !== 500 && i >= 30);
    expect(Math.max(...others.map(Math.abs))).toBeLessThan(4);
  });

  test('a window restored from its saved bytes scores on as the original does', () => {
    const original = rollingZScore(options(robust));
    const rand = noise(3);
    const t = times(900, MINUTE);
    const value = (i: number) => 100 + rand() * 10 + (i % 200 === 150 ? 50 : 0);
    t.slice(0, 500).forEach((time, i) => original.update(time, value(i)));
    const restored = rollingZScore(options(robust));
    restored.restore(original.save());
    // Past a gap of an hour (buckets to clear), then on.
    for (let i = 560; i < 900; i++) {
      const v = value(i);
      expect(restored.update(t[i], v)).toEqual(original.update(t[i], v));
    }
    expect(restored.save()).toEqual(original.save());
  });

  test('a level shift is flagged when it happens, then becomes the new normal', () => {
    const z = rollingZScore(options(robust));
    const rand = noise(2);
    const t = times(1200, MINUTE);
    const scores = t.map((time, i) => z.update(time, (i >= 400 ? 150 : 100) + rand() * 10)?.score ?? 0);
    expect(scores[400]).toBeGreaterThan(8);
    // Six hours (the window) later the shifted level is all the window holds.
    expect(Math.abs(scores[1150])).toBeLessThan(4);
  });

  test('the band is centred on the baseline and the spread comes from the window', () => {
    const z = rollingZScore(options(robust));
    const t = times(100, MINUTE);
    // Alternating 90/110: mean = median = 100, stddev = MAD = 10.
    t.forEach((time, i) => z.update(time, i % 2 ? 110 : 90));
    const result = z.update(t[99] + MINUTE, 100)!;
    expect(result.expected).toBeCloseTo(100, 6);
    expect(result.score).toBeCloseTo(0, 6);
    const sigma = robust ? 1.4826 * 10 : 10;
    expect(result.upper - result.expected).toBeCloseTo(4 * sigma, 4);
  });

  test('warming up: no score before min_points', () => {
    const z = rollingZScore(options(robust));
    const results = times(31, MINUTE).map((time) => z.update(time, 1));
    expect(results.slice(0, 30).every((r) => r === undefined)).toBe(true);
    expect(results[30]).toBeDefined();
  });
});

test('the robust window shrugs off an outlier that the mean/stddev one is blinded by', () => {
  const plain = rollingZScore(options(false));
  const robust = rollingZScore(options(true));
  const rand = noise(3);
  const t = times(300, MINUTE);
  let plainScore = 0;
  let robustScore = 0;
  t.forEach((time, i) => {
    // A huge outlier at 200 inflates the stddev; a moderate anomaly follows at 210.
    const value = 100 + rand() * 4 + (i === 200 ? 10_000 : 0) + (i === 210 ? 30 : 0);
    const p = plain.update(time, value);
    const r = robust.update(time, value);
    if (i === 210) {
      plainScore = p!.score;
      robustScore = r!.score;
    }
  });
  expect(robustScore).toBeGreaterThan(4);
  expect(plainScore).toBeLessThan(4);
});

test('bucketed mean/stddev equal simple-statistics over the points of the buckets in the window', () => {
  // 6 h window in 24 buckets of 15 min; points every 7 minutes so buckets hold 2 or 3 of them.
  const z = rollingZScore(options(false));
  const rand = noise(9);
  const points = times(200, 7 * MINUTE).map((t) => ({ t, v: 100 + rand() * 30 }));
  const span = (6 * HOUR) / 24;
  points.forEach(({ t, v }, i) => {
    const result = z.update(t, v);
    const bucket = Math.floor(t / span);
    // The window: the 23 closed buckets before this one, and this one's points so far.
    const window = points
      .slice(0, i)
      .filter((p) => Math.floor(p.t / span) > bucket - 24)
      .map((p) => p.v);
    if (window.length < 30) return;
    expect(result!.expected).toBeCloseTo(mean(window), 9);
    expect((result!.upper - result!.expected) / 4).toBeCloseTo(standardDeviation(window), 9);
  });
});
