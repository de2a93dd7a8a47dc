/**
 * Humanised values for axes, texts and tables. The unit comes from the alert's `unit` annotation when
 * set, else from the metric naming conventions in the query (`_bytes`, `_seconds`, `_ratio`).
 */

export type Unit = 'bytes' | 'seconds' | 'ratio' | 'percent' | 'short';

const UNITS: readonly Unit[] = ['bytes', 'seconds', 'ratio', 'percent', 'short'];

export function isUnit(text: string): text is Unit {
  return (UNITS as readonly string[]).includes(text);
}

export function unitFor(query: string, annotation?: string): Unit {
  if (annotation !== undefined && isUnit(annotation)) return annotation;
  // rate() of a seconds counter is seconds per second: a plain number, not a duration.
  if (/_seconds_total\b/.test(query)) return 'short';
  if (/[_:]bytes(_total)?\b/.test(query)) return 'bytes';
  if (/_seconds\b/.test(query)) return 'seconds';
  if (/[_:]ratio\b/.test(query)) return 'ratio';
  if (/[_:]percent(age)?\b/.test(query)) return 'percent';
  return 'short';
}

/**
 * Labels for axis ticks: as many significant digits as it takes for neighbours to differ, so a
 * narrow range reads 69.70% 69.72% 69.74%, never 69.7% 69.7% 69.7%.
 */
export function formatTicks(ticks: number[], unit: Unit): string[] {
  let labels = ticks.map((t) => formatValue(t, unit));
  for (let digits = 4; digits <= 12 && new Set(labels).size < labels.length; digits++) {
    labels = ticks.map((t) => formatValue(t, unit, digits));
  }
  return labels;
}

/** Formats one value in its unit, with about three (or `digits`) significant digits. */
export function formatValue(value: number, unit: Unit, digits = 3): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  switch (unit) {
    case 'bytes':
      return scaled(value, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'], ' ', digits);
    case 'ratio':
      return `${trim(value * 100, digits)}%`;
    case 'percent':
      return `${trim(value, digits)}%`;
    case 'seconds':
      return duration(value, digits);
    case 'short':
      return Math.abs(value) < 1000
        ? trim(value, digits)
        : scaled(value, 1000, ['', 'k', 'M', 'G', 'T', 'P', 'E'], '', digits);
  }
}

/** Tick positions: about `count` "nice" values (1, 2, 5 x 10^n; powers of 1024 for bytes) covering [min, max]. */
export function niceTicks(min: number, max: number, count: number, unit: Unit): number[] {
  if (!(max > min)) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    return niceTicks(min - pad, max + pad, count, unit);
  }
  const scale = unit === 'bytes' ? bytesScale(Math.max(Math.abs(min), Math.abs(max))) : 1;
  const step = niceStep((max - min) / scale / count) * scale;
  const first = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let v = first; v < max + step * 0.999; v += step) ticks.push(Math.round(v / step) * step);
  return ticks;
}

function niceStep(rough: number): number {
  const exponent = Math.floor(Math.log10(rough));
  const base = 10 ** exponent;
  const fraction = rough / base;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * base;
}

function bytesScale(magnitude: number): number {
  let scale = 1;
  while (magnitude >= scale * 1024 && scale < 1024 ** 6) scale *= 1024;
  return scale;
}

function scaled(value: number, base: number, suffixes: string[], sep: string, digits: number): string {
  let i = 0;
  let v = value;
  while (Math.abs(v) >= base && i < suffixes.length - 1) {
    v /= base;
    i++;
  }
  return `${trim(v, digits)}${suffixes[i] === '' ? '' : sep + suffixes[i]}`;
}

function duration(seconds: number, digits: number): string {
  const abs = Math.abs(seconds);
  const t = (v: number): string => trim(v, digits);
  if (abs === 0) return '0s';
  if (abs < 1e-6) return `${t(seconds * 1e9)}ns`;
  if (abs < 1e-3) return `${t(seconds * 1e6)}µs`;
  if (abs < 1) return `${t(seconds * 1e3)}ms`;
  if (abs < 60) return `${t(seconds)}s`;
  if (abs < 3600) return `${t(seconds / 60)}min`;
  if (abs < 86400) return `${t(seconds / 3600)}h`;
  return `${t(seconds / 86400)}d`;
}

/** `digits` significant digits, no trailing zeros, no exponent for everyday magnitudes. */
function trim(v: number, digits = 3): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 1e15 || abs < 1e-4) return v.toExponential(digits - 1).replace(/\.?0+e/, 'e');
  const decimals = Math.min(12, Math.max(0, digits - 1 - Math.floor(Math.log10(abs))));
  return String(Number(v.toFixed(decimals)));
}
