import {
  PROFILES,
  probationLength,
  scaledSigmoid,
  scoreCorpus,
  type ScoredFile,
} from '../../src/detector/backtest/nab-score';

const MINUTE = 60_000;
const t0 = Date.UTC(2024, 0, 1);
const times = (n: number) => Array.from({ length: n }, (_, i) => t0 + i * 5 * MINUTE);

/**
 * 20 rows (probation: floor(0.15 × 20) = 3 rows), one window over rows 10..13 (width 4).
 * Detections: row 2 (probation, ignored), row 5 (before any window: -A_FP), row 12 (inside:
 * f(-(13 - 12 + 1)/4) / f(-1) = f(-0.5) / f(-1)), row 15 (after: f((15 - 13)/(4 - 1)) × A_FP).
 * Expected figures were computed by hand (Python) from NAB's formulas.
 */
function handFile(): ScoredFile {
  const timestamps = times(20);
  const scores = new Array<number>(20).fill(0);
  scores[2] = 1;
  scores[5] = 0.9;
  scores[12] = 0.8;
  scores[15] = 0.7;
  return { name: 'a/hand.csv', timestamps, scores, windows: [[timestamps[10], timestamps[13]]] };
}

describe('NAB scoring', () => {
  test('scaled sigmoid matches NAB at its landmarks', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(scaledSigmoid(3)).toBe(-1);
  });

  test('probation is min(floor(15 % of rows), 750)', () => {
    expect(probationLength(20)).toBe(3);
    expect(probationLength(4032)).toBe(604);
    expect(probationLength(10_000)).toBe(750);
  });

  test('standard profile: hand-computed optimum, raw score and normalisation', () => {
    const result = scoreCorpus([handFile()], PROFILES.standard);
    expect(result.threshold).toBe(0.8);
    expect(result.raw).toBeCloseTo(-0.11 + 0.8597925669097837, 10);
    expect(result.nullScore).toBe(-1);
    expect(result.perfectScore).toBe(1);
    expect(result.normalized).toBeCloseTo(87.4896283454892, 8);
    expect(result.files[0]).toMatchObject({ windows: 1, detectedWindows: 1, falsePositives: 1 });
  });

  test('reward_low_FP_rate and reward_low_FN_rate weights', () => {
    const lowFp = scoreCorpus([handFile()], PROFILES.reward_low_FP_rate);
    expect(lowFp.raw).toBeCloseTo(-0.22 + 0.8597925669097837, 10);
    expect(lowFp.normalized).toBeCloseTo(81.98962834548918, 8);
    const lowFn = scoreCorpus([handFile()], PROFILES.reward_low_FN_rate);
    expect(lowFn.nullScore).toBe(-2);
    expect(lowFn.normalized).toBeCloseTo(91.65975223032613, 8);
  });

  test('a detection after a window costs f((i - e)/(w - 1)) × A_FP', () => {
    const file = handFile();
    file.scores[5] = 0; // leave the window hit (0.8) and the post-window one (0.7)
    file.scores[15] = 0.85;
    const result = scoreCorpus([file], PROFILES.standard);
    // Both detected at 0.8: TP 0.85979 plus f(2/3) × 0.11 = -0.10242.
    expect(result.raw).toBeCloseTo(0.8597925669097837 - 0.10242205695343354, 10);
  });

  test('only the earliest detection in a window counts, at its position', () => {
    const file = handFile();
    file.scores.fill(0);
    file.scores[10] = 0.5; // the first row of the window: full credit
    file.scores[11] = 0.6;
    file.scores[12] = 0.7;
    const result = scoreCorpus([file], PROFILES.standard);
    expect(result.threshold).toBe(0.5);
    expect(result.raw).toBeCloseTo(1, 10);
    expect(result.normalized).toBeCloseTo(100, 10);
  });

  test('the threshold is optimised over all files at once', () => {
    // A second file where every row at 0.8 is a false positive far from any window: 17 scorable
    // rows × 0.11 outweigh the 1.86 that 0.8 earns in the first file, so detecting nothing wins.
    const noisy: ScoredFile = {
      name: 'b/noisy.csv',
      timestamps: times(20),
      scores: new Array(20).fill(0.8),
      windows: [],
    };
    const both = scoreCorpus([handFile(), noisy], PROFILES.standard);
    expect(both.raw).toBe(-1);
    expect(both.normalized).toBe(0);
    // With 15 of them it still pays: 0.7498 - 15 × 0.11 = -0.9002 > -1.
    noisy.scores.fill(0, 0, 5);
    const fewer = scoreCorpus([handFile(), noisy], PROFILES.standard);
    expect(fewer.threshold).toBe(0.8);
    expect(fewer.raw).toBeCloseTo(-0.11 + 0.8597925669097837 - 15 * 0.11, 10);
  });
});
