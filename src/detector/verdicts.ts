import { singlePrecision } from '../common/exposition-writer';
import type { Estimate } from './algorithms/estimate';
import { BANDED_DETECTORS, FIRING_DETECTORS, type FiringDetector, type Verdict } from './algorithms/model';
import { bytesOf, float64s } from './algorithms/state-bytes';

/**
 * The latest verdict of every series of a rule, packed as floats in one Float64Array, one slot
 * per series: what /metrics and the state snapshot read. A verdict object per series would be
 * replaced every cycle, and 100,000 of them surviving until the next cycle made the garbage
 * collector walk the whole heap again and again; a slot is overwritten in place.
 *
 * The estimates and the strength are kept in single precision (singlePrecision): what /metrics
 * shows, about 7 significant digits, written in at most 9 (a double's 17 digits cost three times
 * as much to write, and a band edge or baseline has no use for them).
 *
 * A slot, as the snapshot stores it: time, value, strength, anomalous, then per banded detector
 * (zscore, seasonal, range) present, score, expected, lower, upper, then novelty, the firing
 * detector's index and the onset. A slot whose time is NaN holds no verdict yet.
 */
export const VERDICT_FLOATS = 22;
const ESTIMATES_AT = 4;
const ESTIMATE_FLOATS = 5;
/** The firing detector's index in FIRING_DETECTORS (-1 for none), after the estimates and novelty. */
const DETECTOR_AT = ESTIMATES_AT + BANDED_DETECTORS.length * ESTIMATE_FLOATS + 1;
/** The fields of an estimate, at their offset after its `present` flag. */
export const ESTIMATE_FIELDS = { score: 1, expected: 2, lower: 3, upper: 4 } as const;

export class VerdictTable {
  private floats = new Float64Array(VERDICT_FLOATS * 64);
  private readonly released: number[] = [];
  private used = 0;

  /** A slot for a new series, holding no verdict. */
  allocate(): number {
    let slot = this.released.pop();
    if (slot === undefined) {
      slot = this.used++;
      if (this.used * VERDICT_FLOATS > this.floats.length) {
        const grown = new Float64Array(this.floats.length * 2);
        grown.set(this.floats);
        this.floats = grown;
      }
    }
    this.floats[slot * VERDICT_FLOATS] = NaN;
    return slot;
  }

  clear(): void {
    this.released.length = 0;
    this.used = 0;
  }

  release(slot: number): void {
    this.released.push(slot);
  }

  has(slot: number): boolean {
    return !Number.isNaN(this.floats[slot * VERDICT_FLOATS]);
  }

  anomalous(slot: number): boolean {
    return this.floats[slot * VERDICT_FLOATS + 3] === 1;
  }

  /** The combined strength of the latest verdict (1 = at the threshold; NaN while no detector has an opinion). */
  strength(slot: number): number {
    return this.floats[slot * VERDICT_FLOATS + 2];
  }

  /** The detector whose opinion the latest verdict's strength is, or undefined while none has one. */
  detector(slot: number): FiringDetector | undefined {
    return FIRING_DETECTORS[this.floats[slot * VERDICT_FLOATS + DETECTOR_AT]];
  }

  /** Where the estimate of banded detector `index` starts in the slot, or -1 when it has none. */
  estimateAt(slot: number, index: number): number {
    const at = slot * VERDICT_FLOATS + ESTIMATES_AT + index * ESTIMATE_FLOATS;
    return this.floats[at] === 1 ? at : -1;
  }

  /** The float at `at` (an estimateAt position plus an ESTIMATE_FIELDS offset). */
  float(at: number): number {
    return this.floats[at];
  }

  write(slot: number, verdict: Verdict): void {
    const f = this.floats;
    let at = slot * VERDICT_FLOATS;
    f[at++] = verdict.timeMs;
    f[at++] = verdict.value;
    f[at++] = singlePrecision(verdict.strength);
    f[at++] = verdict.anomalous ? 1 : 0;
    for (const detector of BANDED_DETECTORS) {
      const estimate: Estimate | undefined = verdict[detector];
      f[at++] = estimate ? 1 : 0;
      f[at++] = singlePrecision(estimate?.score ?? 0);
      f[at++] = singlePrecision(estimate?.expected ?? 0);
      f[at++] = singlePrecision(estimate?.lower ?? 0);
      f[at++] = singlePrecision(estimate?.upper ?? 0);
    }
    f[at++] = verdict.novelty ?? NaN;
    f[at++] = verdict.detector === undefined ? -1 : FIRING_DETECTORS.indexOf(verdict.detector);
    f[at] = verdict.onset;
  }

  /** The slot as the snapshot stores it: its floats, or no bytes while it holds no verdict. */
  save(slot: number): Uint8Array {
    if (!this.has(slot)) return new Uint8Array(0);
    return bytesOf(this.floats.slice(slot * VERDICT_FLOATS, (slot + 1) * VERDICT_FLOATS));
  }

  restore(slot: number, bytes: Uint8Array): void {
    if (bytes.byteLength === 0) this.floats[slot * VERDICT_FLOATS] = NaN;
    else this.floats.set(float64s(bytes, 0, VERDICT_FLOATS), slot * VERDICT_FLOATS);
  }

  /** The slot's verdict as an object (for tests and tools; the hot paths read floats). */
  verdict(slot: number): Verdict | undefined {
    if (!this.has(slot)) return undefined;
    const f = this.floats.subarray(slot * VERDICT_FLOATS, (slot + 1) * VERDICT_FLOATS);
    const estimate = (index: number): Estimate | undefined => {
      const at = ESTIMATES_AT + index * ESTIMATE_FLOATS;
      return f[at] === 1
        ? { score: f[at + 1], expected: f[at + 2], lower: f[at + 3], upper: f[at + 4] }
        : undefined;
    };
    return {
      timeMs: f[0],
      value: f[1],
      strength: f[2],
      anomalous: f[3] === 1,
      zscore: estimate(0),
      seasonal: estimate(1),
      range: estimate(2),
      novelty: Number.isNaN(f[DETECTOR_AT - 1]) ? undefined : f[DETECTOR_AT - 1],
      detector: FIRING_DETECTORS[f[DETECTOR_AT]],
      onset: f[DETECTOR_AT + 1],
    };
  }
}
