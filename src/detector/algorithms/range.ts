import { flooredSpread, type Estimate } from './estimate';
import { SlidingMaximum } from './sliding-maximum';
import { bytesOf, concatBytes, float64s, StateArrays } from './state-bytes';

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
 * highest value of the past 21 days scores 0.02. This is the "never seen like this" test a
 * person applies to a graph first: most real incidents take a series where it has not been.
 *
 * The window's minimum and maximum are sliding maxima (of the values and of their negatives) kept
 * per time bucket: O(1) per point, O(buckets) once per bucket, 8 × buckets bytes whatever the
 * step. The point is scored against the window as it was before the point arrived, then joins it.
 */
export class RangeWindow {
  private readonly highs: SlidingMaximum;
  /** Maxima of the negated values: the window's minimum, negated. */
  private readonly lows: SlidingMaximum;
  /** Time of the first point since the window was last empty. */
  private firstTimeMs = NaN;

  constructor(
    private readonly options: RangeOptions,
    arrays = new StateArrays(),
  ) {
    this.highs = new SlidingMaximum(options.windowMs, options.buckets, arrays);
    this.lows = new SlidingMaximum(options.windowMs, options.buckets, arrays);
  }

  update(timeMs: number, value: number): Estimate | undefined {
    const [low, high] = this.boundsAt(timeMs);
    // After a gap longer than the window nothing is left: the series starts over.
    if (Number.isNaN(this.firstTimeMs) || !(high >= low)) this.firstTimeMs = timeMs;
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
    this.highs.add(timeMs, value);
    this.lows.add(timeMs, -value);
    return result;
  }

  save(): Uint8Array {
    return concatBytes([bytesOf(Float64Array.of(this.firstTimeMs)), this.highs.save(), this.lows.save()]);
  }

  restore(bytes: Uint8Array): void {
    const part = SlidingMaximum.savedBytes(this.options.buckets);
    if (bytes.byteLength !== 8 + 2 * part) throw new RangeError('saved state does not match');
    [this.firstTimeMs] = float64s(bytes, 0, 1);
    this.highs.restore(bytes.subarray(8, 8 + part));
    this.lows.restore(bytes.subarray(8 + part));
  }

  /**
   * The lowest and highest values of the window that ends at `timeMs` (±Infinity while it is
   * empty); `timeMs` is not before the latest point's.
   */
  boundsAt(timeMs: number): [number, number] {
    return [-this.lows.maximum(timeMs), this.highs.maximum(timeMs)];
  }
}
