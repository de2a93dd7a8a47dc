import { strength, type Direction, type Estimate } from './estimate';

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
  /** [bucket number, maximum strength] per slot: the strengths of the refractory period. */
  private readonly recent = new Float64Array(2 * REFRACTORY_BUCKETS).fill(NaN);

  constructor(private readonly options: DecisionOptions) {}

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

  save(): number[] {
    return [this.anomalousRun, this.normalRun, this.state ? 1 : 0, this.runHasOnset ? 1 : 0, ...this.recent];
  }

  /** Takes back what `save` gave (the same number of values). */
  restore(saved: ArrayLike<number>): void {
    this.anomalousRun = saved[0];
    this.normalRun = saved[1];
    this.state = saved[2] === 1;
    this.runHasOnset = saved[3] === 1;
    for (let i = 0; i < this.recent.length; i++) this.recent[i] = saved[4 + i];
  }

  /** How many numbers `save` gives. */
  static get savedLength(): number {
    return 4 + 2 * REFRACTORY_BUCKETS;
  }

  /** Feeds one point's combined strength (NaN: no opinion); returns the state and onset score. */
  update(timeMs: number, combined: number): Outcome {
    const strength = Number.isNaN(combined) ? 0 : combined;
    const onset = strength > this.recentMaximum(timeMs) ? strength / (1 + strength) : 0;
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
    this.remember(timeMs, strength);
    return { anomalous: this.state, onset };
  }

  /** The strongest point of the refractory period before `timeMs` (0 when off or none). */
  private recentMaximum(timeMs: number): number {
    const { refractoryMs } = this.options;
    if (refractoryMs <= 0) return 0;
    const bucket = Math.floor(timeMs / (refractoryMs / REFRACTORY_BUCKETS));
    let maximum = 0;
    for (let at = 0; at < this.recent.length; at += 2) {
      const number = this.recent[at];
      if (number > bucket - REFRACTORY_BUCKETS && number <= bucket && this.recent[at + 1] > maximum)
        maximum = this.recent[at + 1];
    }
    return maximum;
  }

  private remember(timeMs: number, strength: number): void {
    const { refractoryMs } = this.options;
    if (refractoryMs <= 0) return;
    const bucket = Math.floor(timeMs / (refractoryMs / REFRACTORY_BUCKETS));
    const at = 2 * (((bucket % REFRACTORY_BUCKETS) + REFRACTORY_BUCKETS) % REFRACTORY_BUCKETS);
    if (this.recent[at] !== bucket) {
      this.recent[at] = bucket;
      this.recent[at + 1] = strength;
    } else if (strength > this.recent[at + 1]) this.recent[at + 1] = strength;
  }
}
