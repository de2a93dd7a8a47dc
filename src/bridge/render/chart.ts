import { newTextPen, type TextPen, type TextStyle } from './text';
import { formatClock, formatDateTime, timeTicks } from './time';
import { formatValue, niceTicks, type Unit } from './units';

/** A line chart of an alert's data, as a self-contained SVG string: pure, no I/O, no DOM. */

export interface ChartSeries {
  name: string;
  /** Unix ms, ascending. */
  timestamps: number[];
  values: number[];
}

/** The detector's normal band (lower..upper) and its expected value, drawn behind the series. */
export interface ChartBand {
  timestamps: number[];
  lower: number[];
  upper: number[];
  expected?: number[];
}

export interface ChartSpec {
  title: string;
  series: ChartSeries[];
  band?: ChartBand;
  /** A static threshold taken from the alert expression (`expr > 0.9`), drawn as a dashed line. */
  threshold?: number;
  startMs: number;
  endMs: number;
  alertStartMs?: number;
  alertEndMs?: number | null;
  unit: Unit;
  timeZone: string;
  width?: number;
  maxSeries?: number;
}

export const PALETTE = [
  '#3b75af',
  '#ef8636',
  '#519e3e',
  '#c53a32',
  '#8d69b8',
  '#84584e',
  '#d57dbf',
  '#7f7f7f',
  '#bcbc35',
  '#42b7c9',
];

export const DEFAULT_MAX_SERIES = 8;
const PLOT_HEIGHT = 220;
const TOP = 48;
const LEFT = 70;
const RIGHT = 20;
const AXIS_HEIGHT = 40;
const LEGEND_ROW = 18;

/** `pen` draws the text: glyph outlines by default; tests pass plain <text> to read the labels back. */
export function renderChartSvg(spec: ChartSpec, pen: TextPen = newTextPen()): string {
  const width = spec.width ?? 800;
  const shown = pickSeries(spec.series, spec.maxSeries ?? DEFAULT_MAX_SERIES);
  const hidden = spec.series.length - shown.length;
  const legendRows =
    shown.length + (hidden > 0 ? 1 : 0) + (spec.band ? 1 : 0) + (spec.threshold !== undefined ? 1 : 0);
  const height = TOP + PLOT_HEIGHT + AXIS_HEIGHT + Math.max(legendRows, 1) * LEGEND_ROW + 12;
  const plotWidth = width - LEFT - RIGHT;

  const [lo, hi] = valueDomain(shown, spec.band, spec.threshold);
  const yTicks = niceTicks(lo, hi, 5, spec.unit);
  const yMin = Math.min(lo, yTicks[0]);
  const yMax = Math.max(hi, yTicks[yTicks.length - 1]);
  const span = Math.max(spec.endMs - spec.startMs, 1);
  const x = (ms: number): number => LEFT + ((ms - spec.startMs) / span) * plotWidth;
  const y = (v: number): number => TOP + PLOT_HEIGHT - ((v - yMin) / (yMax - yMin || 1)) * PLOT_HEIGHT;
  const clampY = (v: number): number => Math.min(TOP + PLOT_HEIGHT, Math.max(TOP, y(v)));

  const text = (tx: number, ty: number, content: string, style: TextStyle): string =>
    pen.text(tx, ty, content, style);
  const out: string[] = [];
  out.push(
    `<rect width='${width}' height='${height}' fill='#ffffff'/>`,
    text(LEFT, 24, clip(spec.title, 80), { size: 15, color: '#222', bold: true }),
  );

  // Alert period: shaded from start to end (or to the right edge while still firing).
  if (spec.alertStartMs !== undefined && spec.alertStartMs <= spec.endMs) {
    const from = x(Math.max(spec.alertStartMs, spec.startMs));
    const to = x(Math.min(spec.alertEndMs ?? spec.endMs, spec.endMs));
    out.push(
      `<rect x='${f(from)}' y='${TOP}' width='${f(Math.max(to - from, 1))}' height='${PLOT_HEIGHT}' fill='#d62728' fill-opacity='0.07'/>`,
    );
  }

  // Grid and value axis.
  for (const tick of yTicks) {
    if (tick < yMin || tick > yMax) continue;
    const ty = y(tick);
    out.push(
      `<line x1='${LEFT}' x2='${LEFT + plotWidth}' y1='${f(ty)}' y2='${f(ty)}' stroke='#e6e6e6' stroke-width='1'/>`,
      text(LEFT - 8, ty + 4, formatValue(tick, spec.unit), { size: 11, color: '#555', anchor: 'end' }),
    );
  }
  // Time axis.
  const ticks = timeTicks(spec.startMs, spec.endMs, Math.max(3, Math.floor(plotWidth / 90)), spec.timeZone);
  const axisY = TOP + PLOT_HEIGHT;
  for (const tick of ticks) {
    const tx = x(tick.ms);
    out.push(
      `<line x1='${f(tx)}' x2='${f(tx)}' y1='${TOP}' y2='${axisY}' stroke='#f0f0f0' stroke-width='1'/>`,
      `<line x1='${f(tx)}' x2='${f(tx)}' y1='${axisY}' y2='${axisY + 4}' stroke='#888' stroke-width='1'/>`,
      text(tx, axisY + 16, tick.label, { size: 11, color: '#555', anchor: 'middle' }),
    );
    if (tick.day !== undefined) {
      out.push(text(tx, axisY + 29, tick.day, { size: 10, color: '#888', anchor: 'middle' }));
    }
  }
  out.push(
    `<line x1='${LEFT}' x2='${LEFT + plotWidth}' y1='${axisY}' y2='${axisY}' stroke='#888' stroke-width='1'/>`,
  );

  // No clipPath (it costs resvg more than all the lines): values are clamped into the plot instead.
  if (spec.band) {
    const area = bandPath(spec.band, x, clampY);
    if (area) out.push(`<path d='${area}' fill='#6b9bd1' fill-opacity='0.22' stroke='none'/>`);
    if (spec.band.expected) {
      const line = linePath(spec.band.timestamps, spec.band.expected, x, clampY);
      if (line)
        out.push(
          `<path d='${line}' fill='none' stroke='#4a6fa5' stroke-width='1.2' stroke-dasharray='5 3' stroke-opacity='0.8'/>`,
        );
    }
  }
  if (spec.threshold !== undefined && spec.threshold >= yMin && spec.threshold <= yMax) {
    const ty = f(y(spec.threshold));
    out.push(
      `<line x1='${LEFT}' x2='${LEFT + plotWidth}' y1='${ty}' y2='${ty}' stroke='#c53a32' stroke-width='1.2' stroke-dasharray='6 4'/>`,
    );
  }
  shown.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const line = linePath(s.timestamps, s.values, x, clampY);
    if (line)
      out.push(
        `<path d='${line}' fill='none' stroke='${color}' stroke-width='1.8' stroke-linejoin='round' stroke-linecap='round'/>`,
      );
  });

  // Alert start and end markers; their labels sit above the plot and merge when they would collide.
  const markers: { ms: number; color: string; label: string }[] = [];
  if (spec.alertStartMs !== undefined)
    markers.push({ ms: spec.alertStartMs, color: '#c53a32', label: 'firing' });
  if (spec.alertEndMs !== undefined && spec.alertEndMs !== null)
    markers.push({ ms: spec.alertEndMs, color: '#2e8b3e', label: 'resolved' });
  const visible = markers.filter((m) => m.ms >= spec.startMs && m.ms <= spec.endMs);
  for (const m of visible) {
    const mx = f(x(m.ms));
    out.push(
      `<line x1='${mx}' x2='${mx}' y1='${TOP - 6}' y2='${axisY}' stroke='${m.color}' stroke-width='1.5' stroke-dasharray='4 3'/>`,
    );
  }
  const labels = visible.map((m) => ({ ...m, text: `${m.label} ${formatClock(m.ms, spec.timeZone)}` }));
  if (labels.length === 2 && x(labels[1].ms) - x(labels[0].ms) < 130) {
    labels.splice(0, 2, { ...labels[1], text: `${labels[0].text}, ${labels[1].text}` });
  }
  for (const m of labels) {
    const mx = x(m.ms);
    const room = width - RIGHT - mx;
    const anchorEnd = room < 7 * m.text.length;
    out.push(
      text(anchorEnd ? mx - 4 : mx + 4, TOP - 9, m.text, {
        size: 10.5,
        color: m.color,
        anchor: anchorEnd ? 'end' : 'start',
      }),
    );
  }

  // Legend.
  let ly = axisY + AXIS_HEIGHT;
  const legendRow = (swatch: string, label: string, color = '#333'): void => {
    out.push(swatch.replace(/\{y\}/g, f(ly - 4)));
    out.push(text(LEFT + 22, ly, clip(label, 110), { size: 11, color }));
    ly += LEGEND_ROW;
  };
  shown.forEach((s, i) =>
    legendRow(
      `<line x1='${LEFT}' x2='${LEFT + 16}' y1='{y}' y2='{y}' stroke='${PALETTE[i % PALETTE.length]}' stroke-width='3'/>`,
      s.name,
    ),
  );
  if (spec.band)
    legendRow(
      `<rect x='${LEFT}' y='${f(ly - 9)}' width='16' height='10' fill='#6b9bd1' fill-opacity='0.35'/>`,
      'normal band (dashed: expected)',
    );
  if (spec.threshold !== undefined)
    legendRow(
      `<line x1='${LEFT}' x2='${LEFT + 16}' y1='{y}' y2='{y}' stroke='#c53a32' stroke-width='1.5' stroke-dasharray='4 2'/>`,
      `threshold ${formatValue(spec.threshold, spec.unit)}`,
    );
  if (hidden > 0) legendRow('', `${hidden} more series not shown`, '#888');
  if (shown.length === 0 && !spec.band)
    out.push(
      text(LEFT + plotWidth / 2, TOP + PLOT_HEIGHT / 2, 'no data in this range', {
        size: 13,
        color: '#888',
        anchor: 'middle',
      }),
    );
  out.push(
    text(
      width - RIGHT,
      height - 6,
      `${formatDateTime(spec.startMs, spec.timeZone)} to ${formatDateTime(spec.endMs, spec.timeZone)} (${spec.timeZone})`,
      { size: 9, color: '#999', anchor: 'end' },
    ),
  );
  return [
    `<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink' width='${width}' height='${height}' viewBox='0 0 ${width} ${height}'>`,
    pen.defs(),
    ...out,
    '</svg>',
  ].join('');
}

/** Keeps the series that matter most when there are too many: the ones reaching the highest values. */
/** The series a chart draws: all when they fit, else the `max` with the highest peaks. */
export function pickSeries(series: ChartSeries[], max: number): ChartSeries[] {
  if (series.length <= max) return series;
  const peak = (s: ChartSeries): number =>
    s.values.reduce((m, v) => (Number.isFinite(v) && v > m ? v : m), -Infinity);
  return [...series].sort((a, b) => peak(b) - peak(a)).slice(0, max);
}

function valueDomain(
  series: ChartSeries[],
  band: ChartBand | undefined,
  threshold: number | undefined,
): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  const take = (values: number[]): void => {
    for (const v of values) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  };
  for (const s of series) take(s.values);
  if (band) {
    take(band.lower);
    take(band.upper);
  }
  if (threshold !== undefined) take([threshold]);
  if (lo === Infinity) return [0, 1];
  // Non-negative data reads best from zero unless it sits in a narrow band far above it.
  if (lo >= 0 && lo < (hi - lo) * 2) lo = 0;
  return [lo, hi];
}

/** A polyline broken at gaps (missing scrapes, NaN) so it never draws data that is not there. */
function linePath(ts: number[], vs: number[], x: (ms: number) => number, y: (v: number) => number): string {
  const gap = typicalStep(ts) * 2.5;
  const parts: string[] = [];
  let pen = false;
  for (let i = 0; i < ts.length; i++) {
    const v = vs[i];
    if (!Number.isFinite(v)) {
      pen = false;
      continue;
    }
    if (pen && ts[i] - ts[i - 1] > gap) pen = false;
    parts.push(`${pen ? 'L' : 'M'}${f(x(ts[i]))} ${f(y(v))}`);
    pen = true;
  }
  return parts.join('');
}

function bandPath(band: ChartBand, x: (ms: number) => number, y: (v: number) => number): string {
  const gap = typicalStep(band.timestamps) * 2.5;
  const out: string[] = [];
  let run: number[] = [];
  const flush = (): void => {
    if (run.length > 1) {
      const upper = run.map(
        (i, k) => `${k === 0 ? 'M' : 'L'}${f(x(band.timestamps[i]))} ${f(y(band.upper[i]))}`,
      );
      const lower = [...run].reverse().map((i) => `L${f(x(band.timestamps[i]))} ${f(y(band.lower[i]))}`);
      out.push(upper.join('') + lower.join('') + 'Z');
    }
    run = [];
  };
  for (let i = 0; i < band.timestamps.length; i++) {
    const ok = Number.isFinite(band.lower[i]) && Number.isFinite(band.upper[i]);
    if (!ok || (run.length > 0 && band.timestamps[i] - band.timestamps[run[run.length - 1]] > gap)) flush();
    if (ok) run.push(i);
  }
  flush();
  return out.join('');
}

function typicalStep(ts: number[]): number {
  let step = Infinity;
  for (let i = 1; i < ts.length; i++) step = Math.min(step, ts[i] - ts[i - 1]);
  return Number.isFinite(step) && step > 0 ? step : 60_000;
}

function f(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
