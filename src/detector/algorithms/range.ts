import { flooredSpread, type Estimate } from './estimate';
import { bytesOf, float64s } from './state-bytes';

export interface RangeOptions {
  /** The lowest and highest values of this long a past are "seen before". */
  windowMs: number;
  /** Time buckets the window is divided into (it slides one bucket at a time). */
  buckets: number;
  /** Beyond the seen range by this fraction of its width = at the threshold. */
  threshold: number;
  /** The window must hold this much history before it scores (a new series sets new records). */
  minHistoryMs: number;
  floor: number;
  relativeFloor: number;
}

/**
 * Range detector: how far a point lies outside everything seen in the window, in units of the
 * window's range (max − min). A value inside the range scores 0, one 2 % of the range beyond the
 * highest value of the past 30 days scores 0.02. This is the "never seen like this" test a
 * person applies to a graph first: most real incidents take a series where it has not been.
 *
 * The window's minimum and maximum are kept per time bucket: O(1) per point, O(buckets) once per
 * bucket, O(buckets) memory whatever the step. The point is scored against the window as it was
 * before the point arrived, then joins it.
 */
export class RangeWindow {
  private readonly spanMs: number;
  /** [bucket number, min, max] per slot, in one buffer; slot i holds bucket ≡ i (mod buckets). */
  private readonly slots: Float64Array;
  private current = NaN;
  /** Minimum and maximum of the closed buckets still in the window. */
  private closedMin = Infinity;
  private closedMax = -Infinity;
  /** Time of the first point since the window was last empty. */
  private firstTimeMs = NaN;

  constructor(private readonly options: RangeOptions) {
    this.spanMs = options.windowMs / options.buckets;
    this.slots = new Float64Array(3 * options.buckets).fill(NaN);
  }

  /** The window's lowest and highest values so far (±Infinity while empty). */
  get bounds(): [number, number] {
    const at = this.slotOf(this.current);
    const open = Number.isNaN(this.current) || this.slots[at] !== this.current;
    return [
      open ? this.closedMin : Math.min(this.closedMin, this.slots[at + 1]),
      open ? this.closedMax : Math.max(this.closedMax, this.slots[at + 2]),
    ];
  }

  update(timeMs: number, value: number): Estimate | undefined {
    const bucket = Math.floor(timeMs / this.spanMs);
    if (bucket !== this.current) this.advance(bucket);
    const [low, high] = this.bounds;
    if (Number.isNaN(this.firstTimeMs)) this.firstTimeMs = timeMs;
    let result: Estimate | undefined;
    if (timeMs - this.firstTimeMs >= this.options.minHistoryMs) {
      const { threshold, floor, relativeFloor } = this.options;
      const middle = (low + high) / 2;
      // The floors bound the margin beyond the range (threshold × width), as they bound a z-score's
      // spread: on a flat series a wiggle of less than `floor` is no news.
      const width = flooredSpread(high - low, middle, floor / threshold, relativeFloor / threshold);
      const beyond = value > high ? value - high : value < low ? value - low : 0;
      // The band is the seen range widened by the threshold on each side; `expected` its middle.
      result = {
        score: beyond / width,
        expected: middle,
        lower: low - threshold * width,
        upper: high + threshold * width,
      };
    }
    const at = this.slotOf(bucket);
    if (this.slots[at] !== bucket) this.slots.set([bucket, value, value], at);
    else {
      if (value < this.slots[at + 1]) this.slots[at + 1] = value;
      if (value > this.slots[at + 2]) this.slots[at + 2] = value;
    }
    return result;
  }

  save(): Uint8Array {
    const state = new Float64Array(4 + this.slots.length);
    state.set([this.current, this.closedMin, this.closedMax, this.firstTimeMs]);
    state.set(this.slots, 4);
    return bytesOf(state);
  }

  restore(bytes: Uint8Array): void {
    const state = float64s(bytes, 0, 4 + this.slots.length);
    [this.current, this.closedMin, this.closedMax, this.firstTimeMs] = state;
    this.slots.set(state.subarray(4));
  }

  private slotOf(bucket: number): number {
    return 3 * (((bucket % this.options.buckets) + this.options.buckets) % this.options.buckets);
  }

  /** Moves to a new bucket: merges the buckets still inside the window into the closed summary. */
  private advance(bucket: number): void {
    const oldest = bucket - this.options.buckets + 1;
    let min = Infinity;
    let max = -Infinity;
    for (let at = 0; at < this.slots.length; at += 3) {
      const number = this.slots[at];
      if (!(number >= oldest && number < bucket)) continue;
      if (this.slots[at + 1] < min) min = this.slots[at + 1];
      if (this.slots[at + 2] > max) max = this.slots[at + 2];
    }
    this.current = bucket;
    this.closedMin = min;
    this.closedMax = max;
    // After a gap longer than the window nothing is left: the series starts over.
    if (min === Infinity) this.firstTimeMs = NaN;
  }
}
