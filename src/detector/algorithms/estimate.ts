/** What one detector says about one point. */
export interface Estimate {
  /** Signed distance from the baseline in (robust) standard deviations; positive = above. */
  score: number;
  /** The baseline the point was compared with. */
  expected: number;
  /** The normal band: expected ∓ threshold × spread. */
  lower: number;
  upper: number;
}

export type Direction = 'both' | 'high' | 'low';

/**
 * Spread used to scale deviations: never below `floor` (absolute, for flat series such as a
 * constant 0 % CPU) nor below `relativeFloor` × |baseline| (a constant 45 must not make 45.1
 * look like an infinite number of standard deviations).
 */
export function flooredSpread(
  spread: number,
  baseline: number,
  floor: number,
  relativeFloor: number,
): number {
  const minimum = Math.max(floor, relativeFloor * Math.abs(baseline));
  return Number.isFinite(spread) && spread > minimum ? spread : minimum;
}

export function estimate(value: number, expected: number, spread: number, threshold: number): Estimate {
  const deviation = value - expected;
  const score = deviation === 0 ? 0 : spread > 0 ? deviation / spread : Math.sign(deviation) * Infinity;
  return { score, expected, lower: expected - threshold * spread, upper: expected + threshold * spread };
}

/** How far past its threshold a score is in the watched direction: >= 1 means anomalous. */
export function strength(score: number, threshold: number, direction: Direction): number {
  const directed =
    direction === 'high' ? Math.max(score, 0) : direction === 'low' ? Math.max(-score, 0) : Math.abs(score);
  return directed / threshold;
}
