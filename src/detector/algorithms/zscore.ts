import { estimate, flooredSpread, type Estimate } from './estimate';
import { OrderStatisticTree } from './order-statistics';
import { bytesOf, float64s, StateArrays } from './state-bytes';

export interface ZScoreOptions {
  /** Points older than this (relative to the newest) leave the window. */
  windowMs: number;
  /**
   * Robust (median and MAD over every point of the window) instead of mean and standard
   * deviation (kept per time bucket, so a week-long window costs a few hundred bytes).
   */
  robust: boolean;
  /** Robust mode: upper bound of points kept (window / step, plus slack). */
  maxPoints: number;
  /** Mean/stddev mode: number of time buckets the window is divided into. */
  buckets: number;
  threshold: number;
  /** Points needed in the window before scoring starts. */
  minPoints: number;
  floor: number;
  relativeFloor: number;
}

/** Scale factor making the MAD a consistent estimator of σ for normal data. */
const MAD_TO_SIGMA = 1.4826;

/**
 * Rolling z-score over a sliding time window. Each point is scored against the window as it was
 * before the point arrived (a spike does not dilute its own score), then joins it.
 */
export interface RollingZScore {
  update(timeMs: number, value: number): Estimate | undefined;
  /** The state as bytes, for the snapshot file; `restore` takes them back (same options). */
  save(): Uint8Array;
  restore(bytes: Uint8Array): void;
}

export function rollingZScore(options: ZScoreOptions, arrays = new StateArrays()): RollingZScore {
  return options.robust ? new RobustWindow(options, arrays) : new BucketedMeanWindow(options, arrays);
}

/** BucketedMeanWindow's state: where its numbers are in its Float64Array. */
const CURRENT = 0;
const CLOSED_COUNT = 1;
const CLOSED_MEAN = 2;
const CLOSED_M2 = 3;
const SLOTS_AT = 4;

/**
 * Mean and standard deviation over a window divided into time buckets (count, mean, M2 each,
 * merged with Chan's formula): O(1) per point, O(buckets) once per bucket, O(buckets) memory
 * whatever the step. The window slides a bucket at a time. Slot i holds the bucket whose
 * number is ≡ i (mod buckets); slots skipped over by a gap are cleared when time moves on.
 */
class BucketedMeanWindow implements RollingZScore {
  private readonly spanMs: number;
  /**
   * The whole state in one buffer (numbers in an object's fields would each be a heap object of
   * their own): the current bucket (NaN before the first point), the merged count, mean and M2
   * of the closed buckets still in the window, then [count, mean, M2] per slot.
   */
  private readonly stats: Float64Array;

  constructor(
    private readonly options: ZScoreOptions,
    arrays: StateArrays,
  ) {
    this.spanMs = options.windowMs / options.buckets;
    this.stats = arrays.float64(SLOTS_AT + 3 * options.buckets);
    this.stats[CURRENT] = NaN;
  }

  update(timeMs: number, value: number): Estimate | undefined {
    const stats = this.stats;
    const bucket = Math.floor(timeMs / this.spanMs);
    if (bucket !== stats[CURRENT]) this.advance(bucket);
    const at = SLOTS_AT + 3 * (bucket % this.options.buckets);
    // Window statistics: closed buckets merged with the one in progress (Chan et al.).
    const closedCount = stats[CLOSED_COUNT];
    const openCount = stats[at];
    const n = closedCount + openCount;
    let mean = stats[CLOSED_MEAN];
    let m2 = stats[CLOSED_M2];
    if (openCount > 0) {
      const delta = stats[at + 1] - mean;
      mean += (delta * openCount) / n;
      m2 += stats[at + 2] + (delta * delta * closedCount * openCount) / n;
    }
    let result: Estimate | undefined;
    if (n >= this.options.minPoints) {
      const { threshold, floor, relativeFloor } = this.options;
      const spread = flooredSpread(Math.sqrt(Math.max(m2, 0) / n), mean, floor, relativeFloor);
      result = estimate(value, mean, spread, threshold);
    }
    const count = ++stats[at];
    const delta = value - stats[at + 1];
    stats[at + 1] += delta / count;
    stats[at + 2] += delta * (value - stats[at + 1]);
    return result;
  }

  save(): Uint8Array {
    return bytesOf(this.stats.slice());
  }

  restore(bytes: Uint8Array): void {
    this.stats.set(float64s(bytes, 0, this.stats.length));
  }

  private advance(bucket: number): void {
    const buckets = this.options.buckets;
    const stats = this.stats;
    const current = stats[CURRENT];
    // Clear the slots of the buckets skipped since the last point (all of them after a long gap).
    const skipped = Number.isNaN(current) ? buckets : Math.min(bucket - current, buckets);
    for (let i = 0; i < skipped; i++) {
      const at = SLOTS_AT + 3 * ((bucket - i) % buckets);
      stats.fill(0, at, at + 3);
    }
    stats[CURRENT] = bucket;
    let n = 0;
    let mean = 0;
    let m2 = 0;
    for (let at = SLOTS_AT; at < SLOTS_AT + 3 * buckets; at += 3) {
      const count = stats[at];
      if (count === 0) continue;
      const total = n + count;
      const delta = stats[at + 1] - mean;
      mean += (delta * count) / total;
      m2 += stats[at + 2] + (delta * delta * n * count) / total;
      n = total;
    }
    stats[CLOSED_COUNT] = n;
    stats[CLOSED_MEAN] = mean;
    stats[CLOSED_M2] = m2;
  }
}

/**
 * Median and MAD over every point of the window, kept in an order-statistic tree: O(log window)
 * for the median and O(log² window) for the MAD per point, memory O(window / step).
 */
class RobustWindow implements RollingZScore {
  private readonly times: Float64Array;
  private readonly values: Float64Array;
  private head = 0;
  private length = 0;
  private readonly sorted: OrderStatisticTree;

  constructor(
    private readonly options: ZScoreOptions,
    arrays: StateArrays,
  ) {
    this.times = arrays.float64(options.maxPoints);
    this.values = arrays.float64(options.maxPoints);
    this.sorted = new OrderStatisticTree(options.maxPoints, arrays);
  }

  update(timeMs: number, value: number): Estimate | undefined {
    const cutoff = timeMs - this.options.windowMs;
    while (this.length > 0 && this.times[this.head] <= cutoff) this.removeOldest();
    let result: Estimate | undefined;
    if (this.length >= this.options.minPoints) {
      const { threshold, floor, relativeFloor } = this.options;
      const center = this.sorted.median();
      const spread = MAD_TO_SIGMA * this.sorted.medianAbsoluteDeviation(center);
      result = estimate(value, center, flooredSpread(spread, center, floor, relativeFloor), threshold);
    }
    if (this.length === this.options.maxPoints) this.removeOldest();
    const tail = (this.head + this.length) % this.options.maxPoints;
    this.times[tail] = timeMs;
    this.values[tail] = value;
    this.length++;
    this.sorted.insert(value);
    return result;
  }

  save(): Uint8Array {
    const capacity = this.options.maxPoints;
    const state = new Float64Array(2 + 2 * capacity);
    state[0] = this.head;
    state[1] = this.length;
    state.set(this.times, 2);
    state.set(this.values, 2 + capacity);
    return bytesOf(state);
  }

  restore(bytes: Uint8Array): void {
    const capacity = this.options.maxPoints;
    const state = float64s(bytes, 0, 2 + 2 * capacity);
    while (this.length > 0) this.removeOldest();
    this.times.set(state.subarray(2, 2 + capacity));
    this.values.set(state.subarray(2 + capacity));
    this.head = state[0];
    this.length = state[1];
    for (let i = 0; i < this.length; i++) this.sorted.insert(this.values[(this.head + i) % capacity]);
  }

  private removeOldest(): void {
    this.sorted.remove(this.values[this.head]);
    this.head = (this.head + 1) % this.options.maxPoints;
    this.length--;
  }
}
