import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../common/errors';
import type { RuleSettings } from '../../config/detector';
import { modelSettings } from '../rules';
import { SeriesModel, type Verdict } from '../algorithms/model';
import { readSeriesCsv, readWindows, type Series } from './csv';
import { summariseLive, type LiveFile, type LiveSummary } from './live';
import {
  PROFILE_NAMES,
  PROFILES,
  scoreCorpus,
  type ProfileName,
  type ProfileResult,
  type ScoredFile,
} from './nab-score';

export const DETECTOR_CHOICES = ['combined', 'zscore', 'seasonal', 'range', 'novelty'] as const;
export type DetectorChoice = (typeof DETECTOR_CHOICES)[number];

export interface BacktestOptions {
  dataDir: string;
  labelsFile: string;
  resultsDir?: string;
  settings: RuleSettings;
  detector: DetectorChoice;
}

/** The live decision's figures, over the whole corpus and per category. */
export interface LiveReport {
  overall: LiveSummary;
  categories: Record<string, LiveSummary>;
}

export interface BacktestResult {
  detector: DetectorChoice;
  files: number;
  windows: number;
  /** NAB's scores, the threshold optimised per profile over all files. */
  profiles: Record<ProfileName, ProfileResult>;
  /** NAB's scores at the live threshold (onset 0.5 = strength 1): the alerts users get. */
  atLiveThreshold: Record<ProfileName, ProfileResult>;
  live: LiveReport;
}

/** A labelled file, read once and scored with as many settings as asked. */
export interface CorpusFile {
  name: string;
  category: string;
  series: Series;
  windows: Array<[number, number]>;
}

/** The onset score at which the live state turns anomalous (strength 1, see Decision). */
export const LIVE_THRESHOLD = 0.5;

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

/** The settings with every other detector switched off when only one is asked for. */
export function settingsFor(settings: RuleSettings, detector: DetectorChoice): RuleSettings {
  const on = (name: DetectorChoice, enabled: boolean) =>
    enabled && (detector === 'combined' || detector === name);
  return {
    ...settings,
    zscore: { ...settings.zscore, enabled: on('zscore', settings.zscore.enabled) },
    seasonal: { ...settings.seasonal, enabled: on('seasonal', settings.seasonal.enabled) },
    range: { ...settings.range, enabled: on('range', settings.range.enabled) },
    novelty: { ...settings.novelty, enabled: on('novelty', settings.novelty.enabled) },
    // The shift detector runs on the seasonal scores: it is part of `--detector seasonal`.
    shift: { ...settings.shift, enabled: on('seasonal', settings.shift.enabled) },
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

/** Each row's verdict, through the same per-series model (and decision) the live engine uses. */
export function verdicts(series: Series, settings: RuleSettings): Array<Verdict | undefined> {
  const model = new SeriesModel({
    ...modelSettings(settings),
    stepMs: typicalStep(series.timestamps, settings.step),
  });
  return series.timestamps.map((t, i) => model.update(t, series.values[i]));
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

/** Reads every CSV file of the data directory with its labelled windows. */
export function loadCorpus(dataDir: string, labelsFile: string): CorpusFile[] {
  const labels = readWindows(labelsFile);
  return listCsvFiles(dataDir).map((name) => {
    const windows = labels[name];
    if (!windows) throw new UserError(`${labelsFile}: no windows listed for ${name}`);
    return { name, category: name.split('/')[0], series: readSeriesCsv(path.join(dataDir, name)), windows };
  });
}

/** One run of the model over a file: NAB's per-row scores and the live states. */
export interface FileRun {
  scored: ScoredFile;
  live: LiveFile;
}

export function runFile(file: CorpusFile, settings: RuleSettings): FileRun {
  const rows = verdicts(file.series, settings);
  const { name, windows } = file;
  const { timestamps } = file.series;
  return {
    scored: { name, timestamps, windows, scores: rows.map((verdict) => verdict?.onset ?? 0) },
    live: { name, timestamps, windows, anomalous: rows.map((verdict) => verdict?.anomalous ?? false) },
  };
}

function scoreProfiles(files: ScoredFile[], threshold?: number): Record<ProfileName, ProfileResult> {
  return Object.fromEntries(
    PROFILE_NAMES.map((profile) => [profile, scoreCorpus(files, PROFILES[profile], threshold)]),
  ) as Record<ProfileName, ProfileResult>;
}

function liveReport(files: CorpusFile[], runs: FileRun[]): LiveReport {
  const categories: Record<string, LiveSummary> = {};
  for (const category of new Set(files.map((f) => f.category))) {
    categories[category] = summariseLive(
      runs.filter((_, i) => files[i].category === category).map((r) => r.live),
    );
  }
  return { overall: summariseLive(runs.map((r) => r.live)), categories };
}

export function runBacktest(options: BacktestOptions): BacktestResult {
  const settings = settingsFor(options.settings, options.detector);
  const files = loadCorpus(options.dataDir, options.labelsFile);
  const runs = files.map((file) => runFile(file, settings));
  if (options.resultsDir) {
    runs.forEach(({ scored }, i) =>
      writeResults(path.join(options.resultsDir!, scored.name), files[i].series, scored),
    );
  }
  const scored = runs.map((r) => r.scored);
  const profiles = scoreProfiles(scored);
  return {
    detector: options.detector,
    files: scored.length,
    windows: profiles.standard.perfectScore / PROFILES.standard.tp,
    profiles,
    atLiveThreshold: scoreProfiles(scored, LIVE_THRESHOLD),
    live: liveReport(files, runs),
  };
}
