import { probationLength } from './nab-score';

/**
 * The live decision read as a sysadmin reads it: the alerts `vigil_anomaly` would have raised
 * (each turn from 0 to 1 is one alert) with the configured thresholds, against the labelled
 * windows. Rows in NAB's probation (the first 15 %, at most 750) are left out, as NAB does: the
 * detector is still learning there.
 */

export interface LiveFile {
  name: string;
  timestamps: number[];
  /** The debounced state per row (`vigil_anomaly`). */
  anomalous: boolean[];
  windows: Array<[number, number]>;
}

export interface LiveSummary {
  files: number;
  windows: number;
  /** Windows with at least one alert raised inside them. */
  caught: number;
  /** Alerts raised outside every window. */
  falseAlerts: number;
  /** Hours of data scored (after probation). */
  hours: number;
  /** Median of (first alert in a window − the window's start), over caught windows; NaN if none. */
  medianDelayMs: number;
}

/** Alerts (the rows where the state turns anomalous) of one file, after probation. */
function alertRows(file: LiveFile): number[] {
  const rows: number[] = [];
  const first = probationLength(file.timestamps.length);
  for (let i = Math.max(1, first); i < file.anomalous.length; i++) {
    if (file.anomalous[i] && !file.anomalous[i - 1]) rows.push(i);
  }
  return rows;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function summariseLive(files: LiveFile[]): LiveSummary {
  let windows = 0;
  let caught = 0;
  let falseAlerts = 0;
  let hours = 0;
  const delays: number[] = [];
  for (const file of files) {
    const first = probationLength(file.timestamps.length);
    const scored = file.timestamps.slice(first);
    if (scored.length > 1) hours += (scored[scored.length - 1] - scored[0]) / 3_600_000;
    const firstScored = scored[0] ?? Infinity;
    // Windows that end inside probation cannot be caught by a scored alert: NAB leaves them out too.
    const open = file.windows.filter(([, end]) => end >= firstScored);
    windows += open.length;
    const alerts = alertRows(file).map((i) => file.timestamps[i]);
    for (const [start, end] of open) {
      const inside = alerts.filter((t) => t >= start && t <= end);
      if (inside.length > 0) {
        caught++;
        delays.push(inside[0] - start);
      }
    }
    falseAlerts += alerts.filter((t) => !open.some(([start, end]) => t >= start && t <= end)).length;
  }
  return { files: files.length, windows, caught, falseAlerts, hours, medianDelayMs: median(delays) };
}
