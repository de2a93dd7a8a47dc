import { SeriesModel } from '../../src/detector/algorithms/model';
import { ruleSettingsSchema } from '../../src/config/detector';
import { parseConfig } from '../../src/config/load';
import { modelSettings, resolveRule } from '../../src/detector/rules';
import { DAY, HOUR, MINUTE, START, dailyLoad, noise, times } from './series';

/** The shipped defaults, at a 5-minute step. */
const defaults = () => ({ ...modelSettings(ruleSettingsSchema.parse({})), stepMs: 5 * MINUTE });

describe('series model (defaults)', () => {
  test('daily cycle (the shipped cpu_busy rule): the night dip never raises vigil_anomaly, a 3 am burst does', () => {
    const detector = parseConfig({}).detector;
    const cpuBusy = resolveRule(
      detector.rules.find((r) => r.name === 'cpu_busy')!,
      detector.defaults,
    );
    const model = new SeriesModel({ ...modelSettings(cpuBusy), stepMs: 5 * MINUTE });
    const rand = noise(21);
    const burstStart = START + 9 * DAY + 3 * HOUR;
    const flagged: number[] = [];
    for (const time of times((10 * DAY) / (5 * MINUTE), 5 * MINUTE)) {
      const burst = time >= burstStart && time < burstStart + 45 * MINUTE;
      const verdict = model.update(time, dailyLoad(time, rand) + (burst ? 35 : 0));
      if (verdict?.anomalous) flagged.push(time);
    }
    // Warm-up (no backfill here): the first morning is judged against one night of history only,
    // and the second day's patterns against one day's.
    const afterWarmUp = flagged.filter((t) => t >= START + 2 * DAY);
    expect(afterWarmUp.length).toBeGreaterThan(0);
    // Every later flagged point is in the burst (plus the clear_points tail of the hysteresis).
    expect(afterWarmUp.every((t) => t >= burstStart && t < burstStart + 75 * MINUTE)).toBe(true);
  });

  test('combine: all needs both detectors: against a week of 60 % days, 40 % at 3 am is no z-score outlier', () => {
    const model = new SeriesModel({ ...defaults(), combine: 'all' });
    const rand = noise(21);
    const burstStart = START + 9 * DAY + 3 * HOUR;
    let burst;
    for (const time of times((10 * DAY) / (5 * MINUTE), 5 * MINUTE)) {
      const inBurst = time >= burstStart && time < burstStart + 45 * MINUTE;
      const verdict = model.update(time, dailyLoad(time, rand) + (inBurst ? 35 : 0));
      if (time === burstStart + 10 * MINUTE) burst = verdict;
    }
    expect(burst!.seasonal!.score).toBeGreaterThan(4);
    expect(Math.abs(burst!.zscore!.score)).toBeLessThan(4);
    expect(burst!.strength).toBeLessThan(1);
  });

  test('gaps and NaN: skipped without disturbing the state; repeated timestamps are ignored', () => {
    const model = new SeriesModel(defaults());
    const rand = noise(4);
    const t = times(2000, 5 * MINUTE);
    let lastScore = NaN;
    t.forEach((time, i) => {
      if (i >= 1000 && i < 1040) return; // a 200-minute gap: no points at all
      const value = i % 97 === 0 ? NaN : 50 + rand();
      const verdict = model.update(time, value);
      if (Number.isNaN(value)) expect(verdict).toBeUndefined();
      else lastScore = verdict?.zscore?.score ?? lastScore;
      expect(model.update(time, 1e9)).toBeUndefined(); // same timestamp again
    });
    expect(model.update(t[1999] + 5 * MINUTE, Infinity)).toBeUndefined();
    expect(Math.abs(lastScore)).toBeLessThan(4);
    const spike = model.update(t[1999] + 10 * MINUTE, 80)!;
    expect(spike.zscore!.score).toBeGreaterThan(4);
  });

  test('a flat series: the floor keeps tiny changes from looking infinite', () => {
    const model = new SeriesModel({ ...defaults(), floor: 0.5, relativeFloor: 0 });
    const t = times(500, 5 * MINUTE);
    t.forEach((time) => model.update(time, 45));
    const wiggle = model.update(t[499] + 5 * MINUTE, 45.1)!;
    expect(wiggle.zscore!.score).toBeCloseTo(0.2, 6);
    expect(wiggle.anomalous).toBe(false);
    const jump = model.update(t[499] + 10 * MINUTE, 50)!;
    expect(jump.zscore!.score).toBeCloseTo(10, 2);
  });
});

describe('series model state in one block', () => {
  test('models after the first of their settings share nothing, give the same verdicts and save the same bytes', () => {
    const settings = { ...defaults(), refractoryMs: 6 * HOUR };
    const [first, second, third] = [0, 1, 2].map(() => new SeriesModel(settings));
    const rand = noise(5);
    for (const time of times((9 * DAY) / (5 * MINUTE), 5 * MINUTE)) {
      const value = dailyLoad(time, rand) + (time % (3 * DAY) < 20 * MINUTE ? 40 : 0);
      const want = first.update(time, value);
      expect(second.update(time, value)).toEqual(want);
      // The third model only listens: a view shared with the second would change with it.
    }
    expect(second.save()).toEqual(first.save());
    expect(third.save()).toEqual(new SeriesModel(settings).save());
    expect(third.save()).not.toEqual(first.save());
  });

  test("a released model's block goes to the next model as new: its verdicts are a fresh model's", () => {
    const settings = { ...defaults(), refractoryMs: 6 * HOUR };
    const measuring = new SeriesModel(settings);
    const fresh = new SeriesModel(settings);
    const used = new SeriesModel(settings);
    const rand = noise(7);
    const t = times((9 * DAY) / (5 * MINUTE), 5 * MINUTE);
    for (const time of t) used.update(time, dailyLoad(time, rand) + (time % DAY < HOUR ? 50 : 0));
    used.release();
    // The next model takes the released block: whatever the old one left there must not show.
    const reused = new SeriesModel(settings);
    expect(reused.save()).toEqual(fresh.save());
    const again = noise(9);
    for (const time of t) {
      const value = dailyLoad(time, again);
      expect(reused.update(time, value)).toEqual(fresh.update(time, value));
    }
    expect(reused.save()).toEqual(fresh.save());
    // The first model of the settings keeps arrays of its own: releasing it gives nothing back.
    measuring.release();
    expect(new SeriesModel(settings).save()).toEqual(new SeriesModel(settings).save());
  });
});
