import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../common/errors';
import type { RuleSettings } from '../../config/detector';
import { modelSettings } from '../rules';
import { SeriesModel } from '../algorithms/model';
import { onsetScores } from './anomaly-score';
import { readSeriesCsv, readWindows, type Series } from './csv';
import {
  PROFILE_NAMES,
  PROFILES,
  scoreCorpus,
  type ProfileName,
  type ProfileResult,
  type ScoredFile,
} from './nab-score';

export type DetectorChoice = 'zscore' | 'seasonal' | 'combined';

export interface BacktestOptions {
  dataDir: string;
  labelsFile: string;
  resultsDir?: string;
  settings: RuleSettings;
  detector: DetectorChoice;
  refractoryMs: number;
}

export interface BacktestResult {
  detector: DetectorChoice;
  files: number;
  windows: number;
  profiles: Record<ProfileName, ProfileResult>;
}

/** `<category>/<name>.csv` paths under the data directory, sorted, with `/` separators. */
export function listCsvFiles(dataDir: string): string[] {
  if (!fs.existsSync(dataDir) || !fs.statSync(dataDir).isDirectory()) {
    throw new UserError(`${dataDir}: not a directory`);
  }
  const found: string[] = [];
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dataDir, relative), { withFileTypes: true })) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.csv')) found.push(child);
    }
  };
  walk('');
  if (found.length === 0) throw new UserError(`${dataDir}: no .csv files found`);
  return found.sort();
}

/** The settings with one detector switched off when only the other is asked for. */
export function settingsFor(settings: RuleSettings, detector: DetectorChoice): RuleSettings {
  return {
    ...settings,
    zscore: { ...settings.zscore, enabled: detector !== 'seasonal' && settings.zscore.enabled },
    seasonal: { ...settings.seasonal, enabled: detector !== 'zscore' && settings.seasonal.enabled },
  };
}

/** Typical spacing of a file's rows (the median gap), which sizes the robust window. */
function typicalStep(timestamps: number[], fallback: number): number {
  const gaps = timestamps
    .slice(1)
    .map((t, i) => t - timestamps[i])
    .filter((gap) => gap > 0)
    .sort((a, b) => a - b);
  return gaps.length > 0 ? gaps[gaps.length >> 1] : fallback;
}

/** Combined strength per row, through the same per-series model the live engine uses. */
export function strengths(series: Series, settings: RuleSettings): number[] {
  const model = new SeriesModel({
    ...modelSettings(settings),
    stepMs: typicalStep(series.timestamps, settings.step),
  });
  return series.timestamps.map((t, i) => model.update(t, series.values[i])?.strength ?? NaN);
}

function formatTimestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '');
}

function writeResults(file: string, series: Series, scored: ScoredFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const lines = ['timestamp,value,anomaly_score,label'];
  for (let i = 0; i < series.timestamps.length; i++) {
    const t = series.timestamps[i];
    const label = scored.windows.some(([start, end]) => t >= start && t <= end) ? 1 : 0;
    lines.push(`${formatTimestamp(t)},${series.values[i]},${scored.scores[i]},${label}`);
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

export function runBacktest(options: BacktestOptions): BacktestResult {
  const labels = readWindows(options.labelsFile);
  const settings = settingsFor(options.settings, options.detector);
  const scored: ScoredFile[] = [];
  for (const name of listCsvFiles(options.dataDir)) {
    const windows = labels[name];
    if (!windows) throw new UserError(`${options.labelsFile}: no windows listed for ${name}`);
    const series = readSeriesCsv(path.join(options.dataDir, name));
    const scores = onsetScores(series.timestamps, strengths(series, settings), options.refractoryMs);
    const file = { name, timestamps: series.timestamps, scores, windows };
    scored.push(file);
    if (options.resultsDir) writeResults(path.join(options.resultsDir, name), series, file);
  }
  const profiles = Object.fromEntries(
    PROFILE_NAMES.map((profile) => [profile, scoreCorpus(scored, PROFILES[profile])]),
  ) as Record<ProfileName, ProfileResult>;
  return {
    detector: options.detector,
    files: scored.length,
    windows: profiles.standard.perfectScore / PROFILES.standard.tp,
    profiles,
  };
}
