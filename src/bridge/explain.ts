import { formatValue, type Unit } from './render/units';

/** The sentence that says what makes an anomaly unusual, in the alert: nobody else puts it there. */

export interface AnomalyPoint {
  /** The observed value; undefined when the source series is unknown (no `query`, no rule info). */
  value?: number;
  /** The band quoted, and its detector's score, at the point. */
  expected: number;
  lower: number;
  upper: number;
  score: number;
  /** The detector that decided. */
  detector: string;
  /** Whose band it is, when not the deciding detector's own (novelty and shift have none). */
  band?: string;
}

/** When each detector's band says a value is normal. */
const NORMAL: Record<string, string> = { seasonal: 'at this hour', zscore: 'lately' };
const NAMES: Record<string, string> = { zscore: 'z-score' };

/**
 * The bands that may stand for a detector's, best first: its own, or for the novelty and shift
 * detectors (which have none) the seasonal one, else the z-score one.
 */
export function bandsFor(detector: string): string[] {
  return detector === 'novelty' || detector === 'shift' ? ['seasonal', 'zscore'] : [detector];
}

/**
 * "0.92 where 0.15 ± 0.05 is normal at this hour; 15 deviations, seasonal detector", or for the
 * range detector "97% where 38% to 42% is the range seen over the past weeks; 55% above it, range
 * detector"; novelty says "a pattern not seen before" and shift "a sustained rise above its usual level".
 */
export function explainAnomaly(point: AnomalyPoint, unit: Unit): string {
  const band = point.band ?? point.detector;
  const format = (value: number): string => formatValue(value, unit);
  const normal =
    band === 'range'
      ? `${format(point.lower)} to ${format(point.upper)} is the range seen over the past weeks`
      : `${format(point.expected)} ± ${format(Math.abs(point.upper - point.lower) / 2)} is normal ${NORMAL[band] ?? 'lately'}`;
  const what = point.value === undefined ? normal : `${format(point.value)} where ${normal}`;
  return `${what}; ${why(point, format)}, ${NAMES[point.detector] ?? point.detector} detector`;
}

/** What the deciding detector saw, in its own terms. */
function why(point: AnomalyPoint, format: (value: number) => string): string {
  const { value, score } = point;
  const above = value === undefined ? score > 0 : value > point.expected;
  switch (point.detector) {
    case 'novelty':
      return 'a pattern not seen before';
    case 'shift':
      return `a sustained ${above ? 'rise above' : 'fall below'} its usual level`;
    case 'range': {
      // How far outside the range quoted; in widths of it (the detector's score) without the value.
      if (value !== undefined && value > point.upper) return `${format(value - point.upper)} above it`;
      if (value !== undefined && value < point.lower) return `${format(point.lower - value)} below it`;
      return `${count(Math.abs(score))}× its width ${score > 0 ? 'above' : 'below'} it`;
    }
    default: {
      const deviations = Math.abs(score);
      return `${count(deviations)} deviation${deviations === 1 ? '' : 's'}`;
    }
  }
}

/** 15 or 4.3: whole numbers from 10 on, one decimal below. */
function count(n: number): number {
  return n >= 10 ? Math.round(n) : Number(n.toFixed(1));
}
