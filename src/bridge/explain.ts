import { formatValue, type Unit } from './render/units';

/** The sentence that says what makes an anomaly unusual, in the alert: nobody else puts it there. */

export interface AnomalyPoint {
  /** The observed value; undefined when the source series is unknown (no `query`, no rule info). */
  value?: number;
  expected: number;
  lower: number;
  upper: number;
  score: number;
  detector: string;
}

const DETECTORS: Record<string, { name: string; normal: string }> = {
  seasonal: { name: 'seasonal', normal: 'at this hour' },
  zscore: { name: 'z-score', normal: 'lately' },
  range: { name: 'range', normal: 'over the past weeks' },
};

/** "0.92 where 0.15 ± 0.05 is normal at this hour; 15 deviations, seasonal detector" */
export function explainAnomaly(point: AnomalyPoint, unit: Unit): string {
  const detector = DETECTORS[point.detector] ?? { name: point.detector, normal: 'lately' };
  const spread = Math.abs(point.upper - point.lower) / 2;
  const normal = `${formatValue(point.expected, unit)} ± ${formatValue(spread, unit)}`;
  const score = Math.abs(point.score);
  const deviations = `${score >= 10 ? Math.round(score) : Number(score.toFixed(1))} deviation${score === 1 ? '' : 's'}`;
  const what =
    point.value === undefined
      ? `${normal} is normal ${detector.normal}`
      : `${formatValue(point.value, unit)} where ${normal} is normal ${detector.normal}`;
  return `${what}; ${deviations}, ${detector.name} detector`;
}
