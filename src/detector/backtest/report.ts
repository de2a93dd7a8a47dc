import { PROFILE_NAMES } from './nab-score';
import type { BacktestResult } from './run';

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

function table(header: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Per-file table (at the standard profile's threshold) and the NAB summary per profile. */
export function formatReport(result: BacktestResult): string {
  const standard = result.profiles.standard;
  const files = table(
    ['file', 'rows', 'windows', 'detected', 'false pos.', 'score (standard)'],
    standard.files.map((f) => [
      f.name,
      String(f.rows),
      String(f.windows),
      String(f.detectedWindows),
      String(f.falsePositives),
      f.score.toFixed(2),
    ]),
    [false, true, true, true, true, true],
  );
  const summary = table(
    ['profile', 'NAB score', 'threshold', 'raw', 'null', 'perfect'],
    PROFILE_NAMES.map((name) => {
      const p = result.profiles[name];
      return [
        name,
        p.normalized.toFixed(1),
        p.threshold.toFixed(4),
        p.raw.toFixed(2),
        p.nullScore.toFixed(2),
        p.perfectScore.toFixed(2),
      ];
    }),
    [false, true, true, true, true, true],
  );
  return (
    `${files}\n\n` +
    `detector: ${result.detector}, ${result.files} files, ${result.windows} windows; ` +
    `NAB scores (null = 0, perfect = 100), threshold optimised per profile over all files:\n${summary}\n`
  );
}

/** One JSON object for scripts. */
export function reportJson(result: BacktestResult): object {
  return {
    detector: result.detector,
    files: result.files,
    windows: result.windows,
    nab: Object.fromEntries(PROFILE_NAMES.map((name) => [name, round(result.profiles[name].normalized)])),
    thresholds: Object.fromEntries(
      PROFILE_NAMES.map((name) => [name, round(result.profiles[name].threshold, 6)]),
    ),
    raw: Object.fromEntries(PROFILE_NAMES.map((name) => [name, round(result.profiles[name].raw, 4)])),
    per_file: result.profiles.standard.files.map((f) => ({
      file: f.name,
      rows: f.rows,
      windows: f.windows,
      detected: f.detectedWindows,
      false_positives: f.falsePositives,
      score_standard: round(f.score, 4),
    })),
  };
}
