import { strength, type Direction, type Estimate } from './estimate';
import { SlidingMaximum } from './sliding-maximum';
import { bytesOf, concatBytes, float64s, StateArrays } from './state-bytes';

export interface DecisionOptions {
  direction: Direction;
  /**
   * `all`: every detector that has an opinion must agree; `any`: one is enough; `last`: the
   * last detector with an opinion decides (the seasonal one once it has history, the z-score
   * one before).
   */
  combine: 'all' | 'any' | 'last';
  /** Consecutive anomalous points before the state turns anomalous (debounce). */
  forPoints: number;
  /** Consecutive normal points before it turns back (hysteresis). */
  clearPoints: number;
  /**
   * An episode starts (the state turns anomalous) only at a point stronger than every point of
   * this past period: one alert per incident, not one per wave of the same incident. 0 = off.
   */
  refractoryMs: number;
}

/** What the decision says about one point. */
export interface Outcome {
  /** Debounced state: what `vigil_anomaly` shows. */
  anomalous: boolean;
  /**
   * Onset score in [0, 1): s / (1 + s) for a point whose strength s beats every strength of the
   * refractory period, else 0. The state turns anomalous exactly where this reaches 0.5 (s ≥ 1;
   * with for_points 1), so `vigil backtest` scores the very points that raise live alerts.
   */
  onset: number;
}

/** The refractory period is tracked as the maxima of this many time buckets (bounded state). */
const REFRACTORY_BUCKETS = 24;

export interface Opinion {
  estimate: Estimate | undefined;
  threshold: number;
}

/**
 * Combined decision. Each detector's score is divided by its own threshold, so 1 means "at the
 * threshold" whatever the detector; the combined strength is the minimum (all), the maximum
 * (any) or the last one (last) over the detectors that have an opinion (the seasonal one has none until enough seasons are
 * seen, and the z-score one then decides alone).
 */
export class Decision {
  private anomalousRun = 0;
  private normalRun = 0;
  private state = false;
  /** The current run of strong points contains an onset (so it may raise the state). */
  private runHasOnset = false;
  /** The strongest points of the refractory period (none when it is off). */
  private readonly recent: SlidingMaximum | undefined;

  constructor(
    private readonly options: DecisionOptions,
    arrays = new StateArrays(),
  ) {
    if (options.refractoryMs > 0)
      this.recent = new SlidingMaximum(options.refractoryMs, REFRACTORY_BUCKETS, arrays);
  }

  get anomalous(): boolean {
    return this.state;
  }

  /** Combined strength of the given opinions (NaN when none has one). */
  combinedStrength(opinions: readonly Opinion[]): number {
    let combined = NaN;
    for (const { estimate, threshold } of opinions) {
      if (!estimate) continue;
      const s = strength(estimate.score, threshold, this.options.direction);
      if (Number.isNaN(combined) || this.options.combine === 'last') combined = s;
      else combined = this.options.combine === 'all' ? Math.min(combined, s) : Math.max(combined, s);
    }
    return combined;
  }

  save(): Uint8Array {
    const flags = Float64Array.of(
      this.anomalousRun,
      this.normalRun,
      this.state ? 1 : 0,
      this.runHasOnset ? 1 : 0,
    );
    return concatBytes([bytesOf(flags), this.recent?.save() ?? new Uint8Array(0)]);
  }

  /** Takes back what `save` gave (with the same options). */
  restore(bytes: Uint8Array): void {
    const recentBytes = this.recent ? SlidingMaximum.savedBytes(REFRACTORY_BUCKETS) : 0;
    if (bytes.byteLength !== 32 + recentBytes) throw new RangeError('saved state does not match');
    const flags = float64s(bytes, 0, 4);
    // Kept as small integers: a float read from the bytes would make each a heap number of its own.
    this.anomalousRun = flags[0] | 0;
    this.normalRun = flags[1] | 0;
    this.state = flags[2] === 1;
    this.runHasOnset = flags[3] === 1;
    this.recent?.restore(bytes.subarray(32));
  }

  /** Feeds one point's combined strength (NaN: no opinion); returns the state and onset score. */
  update(timeMs: number, combined: number): Outcome {
    const strength = Number.isNaN(combined) ? 0 : combined;
    // The strongest point of the refractory period before this one (0 when off or none).
    const recentMaximum = Math.max(0, this.recent?.maximum(timeMs) ?? 0);
    const onset = strength > recentMaximum ? strength / (1 + strength) : 0;
    if (strength >= 1) {
      this.anomalousRun++;
      this.normalRun = 0;
      if (onset > 0) this.runHasOnset = true;
      if (this.anomalousRun >= this.options.forPoints && this.runHasOnset) this.state = true;
    } else {
      this.normalRun++;
      this.anomalousRun = 0;
      this.runHasOnset = false;
      if (this.normalRun >= this.options.clearPoints) this.state = false;
    }
    this.recent?.add(timeMs, strength);
    return { anomalous: this.state, onset };
  }
}
