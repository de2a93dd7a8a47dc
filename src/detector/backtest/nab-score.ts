/**
 * NAB's scoring method (Numenta Anomaly Benchmark v1.1, its sweeper and threshold optimiser),
 * re-implemented: windows reward the earliest detection by a scaled sigmoid of its position,
 * detections outside windows cost by their distance from the previous window, the first
 * min(15 % of rows, 750) rows of every file are probation, the threshold is chosen per profile
 * over the whole corpus, and the total is normalised so that detecting nothing scores 0 and
 * detecting every window at its first row scores 100.
 */

export interface CostProfile {
  tp: number;
  fp: number;
  fn: number;
}

export const PROFILES = {
  standard: { tp: 1, fp: 0.11, fn: 1 },
  reward_low_FP_rate: { tp: 1, fp: 0.22, fn: 1 },
  reward_low_FN_rate: { tp: 1, fp: 0.11, fn: 2 },
} as const satisfies Record<string, CostProfile>;

export type ProfileName = keyof typeof PROFILES;
export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

export interface ScoredFile {
  name: string;
  /** Unix ms, ascending. */
  timestamps: number[];
  /** Anomaly scores in [0, 1]. */
  scores: number[];
  /** Labelled windows [start, end] (Unix ms, inclusive). */
  windows: Array<[number, number]>;
}

/** f(y) = 2σ(-5y) - 1, and -1 from three widths past a window on. */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3) return -1;
  return 2 / (1 + Math.exp(5 * relativePosition)) - 1;
}

export function probationLength(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 0.15 * 5000);
}

/** One row's contribution if it were a detection. */
interface SweepRow {
  score: number;
  /** Index of the window the row lies in (global over the corpus), or -1 outside windows. */
  window: number;
  /** Weighted score of detecting this row: positive in a window, negative outside. */
  value: number;
  file: number;
}

interface Sweep {
  rows: SweepRow[];
  /** Global window index -> file index, for windows that have scorable rows. */
  windowFile: number[];
}

/** Row index ranges [first, last] of each window (rows with start <= t <= end). */
function windowRows(timestamps: number[], windows: Array<[number, number]>): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const [start, end] of [...windows].sort((a, b) => a[0] - b[0])) {
    const first = timestamps.findIndex((t) => t >= start);
    let last = -1;
    for (let i = timestamps.length - 1; i >= 0; i--) {
      if (timestamps[i] <= end) {
        last = i;
        break;
      }
    }
    if (first !== -1 && last >= first) ranges.push([first, last]);
  }
  return ranges;
}

function sweep(files: ScoredFile[], profile: CostProfile): Sweep {
  const rows: SweepRow[] = [];
  const windowFile: number[] = [];
  const maxTp = scaledSigmoid(-1);
  files.forEach((file, fileIndex) => {
    const ranges = windowRows(file.timestamps, file.windows);
    const probation = probationLength(file.timestamps.length);
    const windowIds = ranges.map(() => -1);
    let next = 0;
    let current = -1;
    let previous = -1;
    for (let i = 0; i < file.timestamps.length; i++) {
      if (current === -1 && next < ranges.length && i === ranges[next][0]) current = next++;
      let value: number;
      if (current !== -1) {
        const [first, last] = ranges[current];
        const width = last - first + 1;
        value = (scaledSigmoid(-(last - i + 1) / width) * profile.tp) / maxTp;
      } else if (previous === -1) {
        value = -profile.fp;
      } else {
        const [first, last] = ranges[previous];
        value = scaledSigmoid(Math.abs(last - i) / (last - first)) * profile.fp;
      }
      if (i >= probation) {
        let window = -1;
        if (current !== -1) {
          if (windowIds[current] === -1) {
            windowIds[current] = windowFile.length;
            windowFile.push(fileIndex);
          }
          window = windowIds[current];
        }
        rows.push({ score: file.scores[i], window, value, file: fileIndex });
      }
      if (current !== -1 && i === ranges[current][1]) {
        previous = current;
        current = -1;
      }
    }
  });
  return { rows, windowFile };
}

export interface ThresholdResult {
  threshold: number;
  /** Raw total over the corpus at this threshold. */
  score: number;
}

/**
 * Every distinct score as a threshold (detection = score >= threshold), highest first, and the
 * raw corpus total for each; the first entry is "detect nothing".
 */
function scoresByThreshold(sweepResult: Sweep, profile: CostProfile): ThresholdResult[] {
  const rows = [...sweepResult.rows].sort((a, b) => b.score - a.score);
  const best = new Float64Array(sweepResult.windowFile.length).fill(-profile.fn);
  let total = -profile.fn * sweepResult.windowFile.length;
  const results: ThresholdResult[] = [{ threshold: Infinity, score: total }];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (row.window === -1) total += row.value;
    else if (row.value > best[row.window]) {
      total += row.value - best[row.window];
      best[row.window] = row.value;
    }
    if (i === rows.length - 1 || rows[i + 1].score !== row.score)
      results.push({ threshold: row.score, score: total });
  }
  return results;
}

export interface FileResult {
  name: string;
  rows: number;
  windows: number;
  detectedWindows: number;
  /** Detections outside every window (after probation). */
  falsePositives: number;
  score: number;
}

export interface ProfileResult {
  threshold: number;
  /** Raw corpus total at the optimal threshold, and the reference totals. */
  raw: number;
  nullScore: number;
  perfectScore: number;
  /** 100 × (raw − null) / (perfect − null). */
  normalized: number;
  files: FileResult[];
}

/**
 * Scores a corpus for one profile: at the optimal threshold over all files at once (NAB's way), or
 * at the given one (a threshold chosen elsewhere, as cross-validation and live alerts use), then
 * normalised.
 */
export function scoreCorpus(files: ScoredFile[], profile: CostProfile, threshold?: number): ProfileResult {
  const swept = sweep(files, profile);
  const byThreshold = scoresByThreshold(swept, profile);
  let optimum = byThreshold[0];
  if (threshold === undefined) {
    for (const candidate of byThreshold) if (candidate.score > optimum.score) optimum = candidate;
  } else {
    // The last entry whose threshold is still at or above the given one: the same detections.
    for (const candidate of byThreshold) if (candidate.threshold >= threshold) optimum = candidate;
    optimum = { threshold, score: optimum.score };
  }
  const windowCount = swept.windowFile.length;
  const nullScore = -profile.fn * windowCount;
  const perfectScore = profile.tp * windowCount;
  const perFile = files.map((file) => ({
    name: file.name,
    rows: file.timestamps.length,
    windows: 0,
    detectedWindows: 0,
    falsePositives: 0,
    score: 0,
  }));
  for (const fileIndex of swept.windowFile) {
    perFile[fileIndex].windows++;
    perFile[fileIndex].score -= profile.fn;
  }
  const best = new Float64Array(windowCount).fill(NaN);
  for (const row of swept.rows) {
    if (row.score < optimum.threshold) continue;
    if (row.window === -1) {
      perFile[row.file].falsePositives++;
      perFile[row.file].score += row.value;
    } else if (Number.isNaN(best[row.window]) || row.value > best[row.window]) {
      best[row.window] = row.value;
    }
  }
  best.forEach((value, window) => {
    if (Number.isNaN(value)) return;
    const file = perFile[swept.windowFile[window]];
    file.detectedWindows++;
    file.score += value + profile.fn;
  });
  const normalized =
    perfectScore === nullScore ? 0 : (100 * (optimum.score - nullScore)) / (perfectScore - nullScore);
  return {
    threshold: optimum.threshold,
    raw: optimum.score,
    nullScore,
    perfectScore,
    normalized,
    files: perFile,
  };
}
