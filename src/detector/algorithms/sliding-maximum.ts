import { bytesOf, concatBytes, float32s, float64s, StateArrays } from './state-bytes';

/** The largest finite float32: where a value beyond float32's range is kept. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The nearest float32 at or above `value`, so a stored maximum is never below what it stands
 * for (a value equal to the window's maximum never lies beyond it).
 */
function float32AtLeast(value: number): number {
  const rounded = Math.fround(value);
  if (rounded >= value) return rounded;
  if (rounded === -Infinity) return -FLOAT32_MAX;
  // Two float32 steps up at most: the nearest float32 lies within half a step of the value.
  return Math.fround(rounded + Math.max(Math.abs(rounded) * 2 ** -22, 2 ** -149));
}

/**
 * The maximum of the values added in a sliding time window, kept as one maximum per time bucket:
 * O(1) per point, O(buckets) once per bucket, 4 × buckets bytes whatever the step. The window
 * slides a bucket at a time: it holds the current bucket and the `buckets − 1` before it. The
 * maxima are float32, rounded up. The range detector keeps two (of the values and of their
 * negatives), the decision one for its refractory period.
 */
export class SlidingMaximum {
  private readonly spanMs: number;
  /** Slot i holds the maximum of the window's bucket ≡ i (mod buckets); −Infinity = none. */
  private readonly maxima: Float32Array;
  /** The newest bucket (NaN before the first point). */
  private current = NaN;
  /** Maximum of the window's buckets before the current one. */
  private closed = -Infinity;

  constructor(windowMs: number, buckets: number, arrays = new StateArrays()) {
    this.spanMs = windowMs / buckets;
    this.maxima = arrays.float32(buckets).fill(-Infinity);
  }

  /** The maximum of the window that ends at `timeMs` (−Infinity when it holds nothing). */
  maximum(timeMs: number): number {
    this.advance(timeMs);
    return Math.max(this.closed, this.maxima[this.slotOf(this.current)]);
  }

  /** Adds a value at `timeMs` (not before the latest time seen). */
  add(timeMs: number, value: number): void {
    this.advance(timeMs);
    const at = this.slotOf(this.current);
    if (value > this.maxima[at]) this.maxima[at] = float32AtLeast(value);
  }

  save(): Uint8Array {
    return concatBytes([bytesOf(Float64Array.of(this.current, this.closed)), bytesOf(this.maxima)]);
  }

  restore(bytes: Uint8Array): void {
    if (bytes.byteLength !== SlidingMaximum.savedBytes(this.maxima.length))
      throw new RangeError('saved state does not match');
    [this.current, this.closed] = float64s(bytes, 0, 2);
    this.maxima.set(float32s(bytes, 16, this.maxima.length));
  }

  /** How many bytes `save` gives for this many buckets. */
  static savedBytes(buckets: number): number {
    return 16 + 4 * buckets;
  }

  private slotOf(bucket: number): number {
    const n = this.maxima.length;
    return ((bucket % n) + n) % n;
  }

  /** Moves the window to end at `timeMs`'s bucket: the buckets that leave it are emptied. */
  private advance(timeMs: number): void {
    const bucket = Math.floor(timeMs / this.spanMs);
    if (bucket <= this.current) return;
    const n = this.maxima.length;
    if (Number.isNaN(this.current) || bucket - this.current >= n) this.maxima.fill(-Infinity);
    else for (let b = this.current + 1; b <= bucket; b++) this.maxima[this.slotOf(b)] = -Infinity;
    this.current = bucket;
    const own = this.slotOf(bucket);
    let closed = -Infinity;
    for (let at = 0; at < n; at++) if (at !== own && this.maxima[at] > closed) closed = this.maxima[at];
    this.closed = closed;
  }
}
