import type { CrossValidation } from './cross-validate';
import type { LiveSummary } from './live';
import { PROFILE_NAMES } from './nab-score';
import type { BacktestResult } from './run';

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

function table(header: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** False alerts per 1,000 hours of data. */
const perThousandHours = (live: LiveSummary) => (live.hours > 0 ? (1000 * live.falseAlerts) / live.hours : 0);
const delayMinutes = (live: LiveSummary) => live.medianDelayMs / 60_000;

function liveTable(result: BacktestResult): string {
  const { overall, categories } = result.live;
  const row = (name: string, live: LiveSummary) => [
    name,
    `${live.caught}/${live.windows}`,
    String(live.falseAlerts),
    perThousandHours(live).toFixed(1),
    Number.isNaN(live.medianDelayMs) ? '-' : delayMinutes(live).toFixed(0),
  ];
  return table(
    ['category', 'windows caught', 'false alerts', 'per 1,000 h', 'median delay (min)'],
    [...Object.entries(categories).map(([name, live]) => row(name, live)), row('all', overall)],
    [false, true, true, true, true],
  );
}

function crossValidationTable(cv: CrossValidation): string {
  return table(
    ['held-out category', 'in-sample', 'cross-validated', 'settings the other categories chose'],
    [
      ...cv.folds.map((f) => [f.category, f.inSample.toFixed(1), f.heldOut.toFixed(1), f.chosen]),
      ['all', cv.inSample.toFixed(1), cv.heldOut.toFixed(1), ''],
    ],
    [false, true, true, false],
  );
}

/**
 * Per-file table (at the standard profile's threshold), the NAB summary per profile, the live
 * decision's alerts, and the cross-validation when it was run.
 */
export function formatReport(result: BacktestResult, cv?: CrossValidation): string {
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
  const live = PROFILE_NAMES.map((name) => `${name} ${result.atLiveThreshold[name].normalized.toFixed(1)}`);
  return (
    `${files}\n\n` +
    `detector: ${result.detector}, ${result.files} files, ${result.windows} windows; ` +
    `NAB scores (null = 0, perfect = 100), threshold optimised per profile over all files:\n${summary}\n` +
    `at the live threshold (the alerts vigil_anomaly raises): ${live.join(', ')}\n\n` +
    `live decision with the configured thresholds (after each file's probation):\n${liveTable(result)}\n` +
    (cv
      ? `\nleave-one-category-out cross-validation (standard profile, live threshold; a category ` +
        `without windows scores 0 whatever it raises):\n${crossValidationTable(cv)}\n`
      : '')
  );
}

function liveJson(live: LiveSummary): object {
  return {
    windows: live.windows,
    caught: live.caught,
    false_alerts: live.falseAlerts,
    hours: round(live.hours, 1),
    false_alerts_per_1000h: round(perThousandHours(live)),
    median_delay_minutes: Number.isNaN(live.medianDelayMs) ? null : round(delayMinutes(live), 1),
  };
}

/** One JSON object for scripts. */
export function reportJson(result: BacktestResult, cv?: CrossValidation): object {
  return {
    detector: result.detector,
    files: result.files,
    windows: result.windows,
    nab: Object.fromEntries(PROFILE_NAMES.map((name) => [name, round(result.profiles[name].normalized)])),
    thresholds: Object.fromEntries(
      PROFILE_NAMES.map((name) => [name, round(result.profiles[name].threshold, 6)]),
    ),
    raw: Object.fromEntries(PROFILE_NAMES.map((name) => [name, round(result.profiles[name].raw, 4)])),
    nab_at_live_threshold: Object.fromEntries(
      PROFILE_NAMES.map((name) => [name, round(result.atLiveThreshold[name].normalized)]),
    ),
    live: {
      ...liveJson(result.live.overall),
      categories: Object.fromEntries(
        Object.entries(result.live.categories).map(([name, live]) => [name, liveJson(live)]),
      ),
    },
    ...(cv
      ? {
          cross_validation: {
            in_sample: round(cv.inSample),
            held_out: round(cv.heldOut),
            folds: cv.folds.map((f) => ({
              category: f.category,
              in_sample: round(f.inSample),
              held_out: round(f.heldOut),
              chosen: f.chosen,
            })),
          },
        }
      : {}),
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
