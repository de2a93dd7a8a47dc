import type { Direction } from './estimate';
import { bytesOf, float64s } from './state-bytes';

export interface ShiftOptions {
  /** Seasonal scores up to this size are noise: only the excess accumulates. */
  allowance: number;
  /** Larger seasonal scores count as this much (one spike is the seasonal detector's job). */
  cap: number;
  /** Accumulated excess at the threshold. */
  threshold: number;
  direction: Direction;
}

/**
 * Shift detector: a CUSUM (Page's cumulative sum) over the seasonal detector's scores. Each point
 * adds its score beyond ±`allowance` (capped at `cap`) to a running sum upwards and one downwards,
 * which fall back towards 0 by `allowance` per ordinary point. It finds a sustained moderate
 * departure from the daily shape that no single point makes anomalous: a daily peak that does not
 * come, a day at a lower level, a flat stretch where the series always moves. O(1) per point,
 * two numbers of state.
 */
export class ShiftDetector {
  private up = 0;
  private down = 0;

  constructor(private readonly options: ShiftOptions) {}

  /** Feeds one seasonal score; returns the strength (1 = at the threshold) in the watched direction. */
  update(score: number): number {
    const { allowance, cap, threshold, direction } = this.options;
    const capped = Math.max(-cap, Math.min(cap, score));
    this.up = Math.max(0, this.up + capped - allowance);
    this.down = Math.max(0, this.down - capped - allowance);
    const sum =
      direction === 'high' ? this.up : direction === 'low' ? this.down : Math.max(this.up, this.down);
    return sum / threshold;
  }

  save(): Uint8Array {
    return bytesOf(Float64Array.of(this.up, this.down));
  }

  restore(bytes: Uint8Array): void {
    if (bytes.byteLength !== 16) throw new RangeError('saved state does not match');
    [this.up, this.down] = float64s(bytes, 0, 2);
  }
}
