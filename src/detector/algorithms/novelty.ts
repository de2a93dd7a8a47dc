import { bytesOf, concatBytes, float64s, StateArrays } from './state-bytes';

export interface NoveltyOptions {
  /** Levels the seen range is divided into. */
  levels: number;
  /** Longest run of recent levels compared (runs of 1..order points). */
  order: number;
  /** Size of each of the two "seen" sets, in bits (a power of two). */
  bits: number;
  /** Points after which the older set is forgotten: a pattern counts as seen for 1–2× this. */
  rotatePoints: number;
}

/**
 * Pattern novelty: the share of the recent runs of levels (the last 1, 2, …, `order` points,
 * each value reduced to one of `levels` levels of the seen range) that the series has not shown
 * in the past `rotatePoints`–2×`rotatePoints` points. 0: everything recent has been seen before;
 * 1: even the latest level on its own is new. It catches what neither the z-score nor the range
 * does: a series that stays inside its range but moves in a way it never has (a flat line where
 * it always oscillates, a daily peak that does not come, a new rhythm of spikes).
 *
 * The runs are hashed into two bit sets of `bits` bits (a Bloom-like filter with one hash):
 * O(order) per point and 2 × bits / 8 bytes whatever the history. Runs are recorded in the newer
 * set; when it has taken `rotatePoints` points it becomes the older one and the oldest is dropped,
 * so the sets never fill up and old patterns are forgotten.
 */
export class PatternNovelty {
  private newer: Uint8Array;
  private older: Uint8Array;
  /** The last `order` levels, newest last (−1 = none yet). */
  private readonly recent: Float64Array;
  private pointsInNewer = 0;

  constructor(
    private readonly options: NoveltyOptions,
    arrays = new StateArrays(),
  ) {
    if (!Number.isInteger(Math.log2(options.bits))) throw new RangeError('bits must be a power of two');
    this.newer = arrays.uint8(options.bits / 8);
    this.older = arrays.uint8(options.bits / 8);
    this.recent = arrays.float64(options.order).fill(-1);
  }

  /** The novelty of `value` given the seen range [low, high]; NaN while that range is empty. */
  update(value: number, low: number, high: number): number {
    if (!(high >= low)) return NaN;
    const { levels, order } = this.options;
    const level =
      high > low ? Math.min(levels - 1, Math.max(0, Math.floor(((value - low) / (high - low)) * levels))) : 0;
    this.recent.copyWithin(0, 1);
    this.recent[order - 1] = level;
    let unseen = 0;
    let runs = 0;
    let hash = 2166136261;
    for (let k = 1; k <= order; k++) {
      const previous = this.recent[order - k];
      if (previous < 0) break;
      // FNV-1a over the run's levels, newest first, then mixed with its length.
      hash = Math.imul(hash ^ (previous + 1), 16777619) >>> 0;
      const bit = Math.imul(hash ^ k, 2654435761) & (this.options.bits - 1);
      const mask = 1 << (bit & 7);
      const byte = bit >>> 3;
      if (((this.newer[byte] | this.older[byte]) & mask) === 0) unseen++;
      this.newer[byte] |= mask;
      runs++;
    }
    if (++this.pointsInNewer >= this.options.rotatePoints) {
      [this.older, this.newer] = [this.newer, this.older];
      this.newer.fill(0);
      this.pointsInNewer = 0;
    }
    return unseen / runs;
  }

  save(): Uint8Array {
    const header = Float64Array.of(this.pointsInNewer, ...this.recent);
    return concatBytes([bytesOf(header), this.newer, this.older]);
  }

  restore(bytes: Uint8Array): void {
    const { order, bits } = this.options;
    const header = float64s(bytes, 0, 1 + order);
    if (bytes.byteLength !== header.byteLength + bits / 4) throw new RangeError('saved state does not match');
    this.pointsInNewer = header[0];
    this.recent.set(header.subarray(1));
    this.newer.set(bytes.subarray(header.byteLength, header.byteLength + bits / 8));
    this.older.set(bytes.subarray(header.byteLength + bits / 8));
  }
}
