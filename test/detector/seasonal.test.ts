import { SeasonalBaseline, type SeasonalOptions } from '../../src/detector/algorithms/seasonal';
import { DAY, HOUR, MINUTE, START, dailyLoad, noise, times } from './series';

const options: SeasonalOptions = {
  periodMs: DAY,
  seasons: 7,
  resolutionMs: 15 * MINUTE,
  minSeasons: 2,
  threshold: 4,
  levelHalfLifeMs: HOUR,
  floor: 1,
  relativeFloor: 0,
};

const burstStart = START + 8 * DAY + 3 * HOUR;
const inBurst = (t: number) => t >= burstStart && t < burstStart + 30 * MINUTE;

describe('seasonal baseline', () => {
  const rand = noise(11);
  const t = times((9 * DAY) / (5 * MINUTE), 5 * MINUTE);
  const seasonal = new SeasonalBaseline(options);
  const results = t.map((time) => {
    // On day 8 the host is busy (40 %) at 3 am, where it is always idle.
    const value = dailyLoad(time, rand) + (inBurst(time) ? 35 : 0);
    return { time, value, estimate: seasonal.update(time, value) };
  });

  test('has no opinion until min_seasons days of history exist (the z-score decides alone)', () => {
    expect(results.filter((r) => r.time < START + 2 * DAY).every((r) => r.estimate === undefined)).toBe(true);
    expect(results.filter((r) => r.time >= START + 2 * DAY).every((r) => r.estimate !== undefined)).toBe(
      true,
    );
  });

  test('the normal night dip and the ramps around it are not flagged', () => {
    const normal = results.filter((r) => r.time >= START + 2 * DAY && !inBurst(r.time));
    const worst = Math.max(...normal.map((r) => Math.abs(r.estimate!.score)));
    expect(worst).toBeLessThan(options.threshold);
    // The baseline follows the dip: at 3 am it expects the idle level, not the daytime one.
    const night = results.find((r) => r.time === START + 7 * DAY + 3 * HOUR)!;
    expect(night.estimate!.expected).toBeGreaterThan(3);
    expect(night.estimate!.expected).toBeLessThan(7);
  });

  test('the 3 am burst is flagged from its first point', () => {
    const burst = results.filter((r) => inBurst(r.time));
    expect(burst[0].estimate!.score).toBeGreaterThan(options.threshold);
    expect(burst.every((r) => r.estimate!.score > options.threshold)).toBe(true);
    expect(burst[0].value).toBeGreaterThan(burst[0].estimate!.upper);
  });

  test('follows a level change slowly (shape, not level), so a busier week is not all anomalous', () => {
    const s = new SeasonalBaseline(options);
    const r = noise(5);
    let last;
    for (const time of times((6 * DAY) / (5 * MINUTE), 5 * MINUTE)) {
      // From day 4 on everything is 10 points busier.
      last = s.update(time, dailyLoad(time, r) + (time >= START + 4 * DAY ? 10 : 0));
    }
    expect(Math.abs(last!.score)).toBeLessThan(options.threshold);
  });
});
