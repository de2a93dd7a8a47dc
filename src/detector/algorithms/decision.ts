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
}

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

  save(): [number, number, number] {
    return [this.anomalousRun, this.normalRun, this.state ? 1 : 0];
  }

  restore([anomalousRun, normalRun, state]: readonly number[]): void {
    this.anomalousRun = anomalousRun;
    this.normalRun = normalRun;
    this.state = state === 1;
  }

  /** Feeds one point's combined strength; returns the debounced state. */
  update(combined: number): boolean {
    if (combined >= 1) {
      this.anomalousRun++;
      this.normalRun = 0;
      if (this.anomalousRun >= this.options.forPoints) this.state = true;
    } else {
      this.normalRun++;
      this.anomalousRun = 0;
      if (this.normalRun >= this.options.clearPoints) this.state = false;
    }
    return this.state;
  }
}
