import { estimate, flooredSpread, type Estimate } from './estimate';
import { bytesOf, concatBytes, float32s, float64s, StateArrays } from './state-bytes';

export interface SeasonalOptions {
  /** Length of one season (1d, 1w). */
  periodMs: number;
  /** How many past seasons form the baseline. */
  seasons: number;
  /** Width of one phase bucket: points in a bucket are averaged, which bounds the state. */
  resolutionMs: number;
  /** Past seasons needed at a phase before this detector gives an opinion. */
  minSeasons: number;
  threshold: number;
  /** Half-life of the level correction (how fast the baseline follows a shifted level). */
  levelHalfLifeMs: number;
  floor: number;
  relativeFloor: number;
}

const MAD_TO_SIGMA = 1.4826;

/**
 * Work space for medians, shared by every instance: scoring is synchronous, and one buffer per
 * series would cost more memory than the history itself.
 */
let scratch = new Float64Array(64);
/** Mean absolute deviation to σ for normal data (√(π/2)). */
const MEAN_ABS_TO_SIGMA = 1.2533;

/** The scalar state, in the order the state file holds it. */
const SAVED_SCALARS = [
  'currentBucket',
  'center',
  'seasonalSpread',
  'bucketSum',
  'bucketCount',
  'level',
  'residualScale',
  'lastTimeMs',
] as const;

/**
 * Seasonal baseline: the value at the same phase in the past K seasons. The baseline is their
 * median, the spread the MAD of the past values at this phase and its two neighbouring phases
 * (so steep parts of the cycle, where a few minutes of jitter matter, get a wider band), and the
 * baseline is shifted by a slowly moving level correction so a series that is 10 % busier than
 * last week is judged by its shape, not its level. The spread is never below the typical size of
 * recent residuals: a handful of past seasons can agree by chance on a noisy series, and their
 * MAD alone would then make ordinary noise look anomalous.
 *
 * State: (seasons + 1) × buckets float32 values, the extra row for the season in progress.
 * Per point: O(seasons) work, independent of the window length.
 */
export class SeasonalBaseline {
  private readonly buckets: number;
  private readonly rows: number;
  private readonly history: Float32Array;
  /** The absolute season number each row holds (NaN = none). */
  private readonly rowSeason: Float64Array;
  private currentBucket = NaN;
  /** Baseline of the current bucket (NaN while history is short) and its seasonal spread. */
  private center = NaN;
  private seasonalSpread = NaN;
  private bucketSum = 0;
  private bucketCount = 0;
  private level = 0;
  /** Running mean of |residual| over about a season: the noise the phase history cannot show. */
  private residualScale = NaN;
  private lastTimeMs = NaN;

  constructor(
    private readonly options: SeasonalOptions,
    arrays = new StateArrays(),
  ) {
    this.buckets = Math.max(1, Math.round(options.periodMs / options.resolutionMs));
    this.rows = options.seasons + 1;
    this.history = arrays.float32(this.buckets * this.rows).fill(NaN);
    this.rowSeason = arrays.float64(this.rows).fill(NaN);
    if (scratch.length < options.seasons * 3) scratch = new Float64Array(options.seasons * 3);
  }

  /** Scores `value` against past seasons (undefined while history is short), then records it. */
  update(timeMs: number, value: number): Estimate | undefined {
    const bucket = Math.floor(timeMs / this.options.resolutionMs);
    if (bucket !== this.currentBucket) {
      this.closeBucket();
      this.currentBucket = bucket;
      this.baseline(bucket);
    }
    const result = this.score(value);
    this.bucketSum += value;
    this.bucketCount++;
    this.followLevel(timeMs, value, result);
    return result;
  }

  save(): Uint8Array {
    const scalars = Float64Array.from(SAVED_SCALARS, (field) => this[field]);
    return concatBytes([bytesOf(scalars), bytesOf(this.rowSeason), bytesOf(this.history)]);
  }

  restore(bytes: Uint8Array): void {
    const scalars = float64s(bytes, 0, SAVED_SCALARS.length);
    SAVED_SCALARS.forEach((field, i) => (this[field] = scalars[i]));
    const rowsAt = 8 * SAVED_SCALARS.length;
    this.rowSeason.set(float64s(bytes, rowsAt, this.rows));
    this.history.set(float32s(bytes, rowsAt + 8 * this.rows, this.history.length));
  }

  private score(value: number): Estimate | undefined {
    const { threshold, floor, relativeFloor } = this.options;
    if (Number.isNaN(this.center)) return undefined;
    const noiseSpread = Number.isNaN(this.residualScale) ? 0 : MEAN_ABS_TO_SIGMA * this.residualScale;
    const spread = Math.max(this.seasonalSpread, noiseSpread);
    const expected = this.center + this.level;
    return estimate(value, expected, flooredSpread(spread, expected, floor, relativeFloor), threshold);
  }

  /**
   * The median of the past seasons at this phase and the spread around it. History changes
   * only when a bucket closes, so this runs once per bucket, not per point.
   */
  private baseline(bucket: number): void {
    const { seasons, minSeasons } = this.options;
    let found = 0;
    for (let k = 1; k <= seasons; k++) {
      const past = this.lookup(bucket - k * this.buckets);
      if (!Number.isNaN(past)) scratch[found++] = past;
    }
    if (found < minSeasons) {
      this.center = NaN;
      return;
    }
    const center = medianOf(scratch, found);
    let deviationCount = 0;
    for (let k = 1; k <= seasons; k++) {
      for (let offset = -1; offset <= 1; offset++) {
        const past = this.lookup(bucket - k * this.buckets + offset);
        if (!Number.isNaN(past)) scratch[deviationCount++] = Math.abs(past - center);
      }
    }
    this.center = center;
    this.seasonalSpread = MAD_TO_SIGMA * medianOf(scratch, deviationCount);
  }

  /**
   * Moves the level correction toward the latest residual and updates the residual scale.
   * Residuals are clipped (at the band for the level, at three bands for the scale) so that an
   * anomaly drags the baseline only slowly toward itself and does not widen the band at once.
   */
  private followLevel(timeMs: number, value: number, result: Estimate | undefined): void {
    const elapsed = Number.isNaN(this.lastTimeMs) ? 0 : timeMs - this.lastTimeMs;
    this.lastTimeMs = timeMs;
    if (!result) {
      this.level = 0;
      this.residualScale = NaN;
      return;
    }
    const halfBand = (result.upper - result.lower) / 2;
    const residual = Math.min(Math.max(value - result.expected, -halfBand), halfBand);
    this.level += (1 - Math.pow(2, -elapsed / this.options.levelHalfLifeMs)) * residual;
    const size = Math.min(Math.abs(value - result.expected), 3 * halfBand);
    this.residualScale = Number.isNaN(this.residualScale)
      ? size
      : this.residualScale +
        (1 - Math.pow(2, -elapsed / this.options.periodMs)) * (size - this.residualScale);
  }

  private closeBucket(): void {
    if (this.bucketCount === 0) return;
    const season = Math.floor(this.currentBucket / this.buckets);
    const row = season % this.rows;
    if (this.rowSeason[row] !== season) {
      this.history.fill(NaN, row * this.buckets, (row + 1) * this.buckets);
      this.rowSeason[row] = season;
    }
    this.history[row * this.buckets + (this.currentBucket - season * this.buckets)] =
      this.bucketSum / this.bucketCount;
    this.bucketSum = 0;
    this.bucketCount = 0;
  }

  private lookup(bucket: number): number {
    const season = Math.floor(bucket / this.buckets);
    const row = season % this.rows;
    if (row < 0 || this.rowSeason[row] !== season) return NaN;
    return this.history[row * this.buckets + (bucket - season * this.buckets)];
  }
}

/** Median of the first n entries (insertion-sorts them in place: n is at most 3 × seasons). */
function medianOf(values: Float64Array, n: number): number {
  if (n === 0) return NaN;
  for (let i = 1; i < n; i++) {
    const x = values[i];
    let j = i - 1;
    while (j >= 0 && values[j] > x) {
      values[j + 1] = values[j];
      j--;
    }
    values[j + 1] = x;
  }
  const mid = n >> 1;
  return n % 2 === 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}
