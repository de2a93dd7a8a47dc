import { newTextPen, type TextPen, type TextStyle } from './text';
import { formatClock, formatDateTime, timeTicks } from './time';
import { formatTicks, formatValue, niceTicks, type Unit } from './units';

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

/** Where everything sits: computed once from the spec, read by every drawing step. */
interface Layout {
  spec: ChartSpec;
  width: number;
  height: number;
  plotWidth: number;
  axisY: number;
  /** The time range drawn: the spec's, started at the data when the data starts later. */
  startMs: number;
  endMs: number;
  shown: ChartSeries[];
  hidden: number;
  yTicks: number[];
  yMin: number;
  yMax: number;
  /** The threshold when it lies outside the value axis: marked at the edge instead of drawn. */
  thresholdOffScale?: 'above' | 'below';
  x(ms: number): number;
  y(v: number): number;
  /** y clamped into the plot; ±Inf land on its edges. */
  clampY(v: number): number;
  text(x: number, y: number, content: string, style: TextStyle): string;
}

/** `pen` draws the text: glyph outlines by default; tests pass plain <text> to read the labels back. */
export function renderChartSvg(spec: ChartSpec, pen: TextPen = newTextPen()): string {
  const layout = layOut(spec, pen);
  const out = [
    `<rect width='${layout.width}' height='${layout.height}' fill='#ffffff'/>`,
    layout.text(LEFT, 24, clip(spec.title, 80), { size: 15, color: '#222', bold: true }),
    ...drawAlertPeriod(layout),
    ...drawValueAxis(layout),
    ...drawTimeAxis(layout),
    ...drawBand(layout),
    ...drawThreshold(layout),
    ...drawSeries(layout),
    ...drawMarkers(layout),
    ...drawLegend(layout),
    layout.text(
      layout.width - RIGHT,
      layout.height - 6,
      `${formatDateTime(layout.startMs, spec.timeZone)} to ${formatDateTime(layout.endMs, spec.timeZone)} (${spec.timeZone})`,
      { size: 9, color: '#999', anchor: 'end' },
    ),
  ];
  return [
    `<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink' width='${layout.width}' height='${layout.height}' viewBox='0 0 ${layout.width} ${layout.height}'>`,
    pen.defs(),
    ...out,
    '</svg>',
  ].join('');
}

function layOut(spec: ChartSpec, pen: TextPen): Layout {
  const width = spec.width ?? 800;
  const shown = pickSeries(spec.series, spec.maxSeries ?? DEFAULT_MAX_SERIES);
  const hidden = spec.series.length - shown.length;
  const offScale = hasInfinite(shown);
  const legendRows =
    shown.length +
    (hidden > 0 ? 1 : 0) +
    (spec.band ? 1 : 0) +
    (spec.threshold !== undefined ? 1 : 0) +
    (offScale ? 1 : 0);
  const height = TOP + PLOT_HEIGHT + AXIS_HEIGHT + Math.max(legendRows, 1) * LEGEND_ROW + 12;
  const plotWidth = width - LEFT - RIGHT;
  const { lo, hi, thresholdOffScale } = valueDomain(shown, spec.band, spec.threshold);
  const yTicks = niceTicks(lo, hi, 5, spec.unit);
  const yMin = Math.min(lo, yTicks[0]);
  const yMax = Math.max(hi, yTicks[yTicks.length - 1]);
  const startMs = dataStart(spec, shown);
  const span = Math.max(spec.endMs - startMs, 1);
  const y = (v: number): number => TOP + PLOT_HEIGHT - ((v - yMin) / (yMax - yMin || 1)) * PLOT_HEIGHT;
  return {
    spec,
    width,
    height,
    plotWidth,
    axisY: TOP + PLOT_HEIGHT,
    startMs,
    endMs: spec.endMs,
    shown,
    hidden,
    yTicks,
    yMin,
    yMax,
    thresholdOffScale,
    x: (ms) => LEFT + ((ms - startMs) / span) * plotWidth,
    y,
    clampY: (v) => Math.min(TOP + PLOT_HEIGHT, Math.max(TOP, y(v))),
    text: (tx, ty, content, style) => pen.text(tx, ty, content, style),
  };
}

/**
 * A young Prometheus has data for only part of the lookback: the axis starts at the first point
 * (or the alert's start, if earlier) rather than drawing a sliver at the right edge.
 */
function dataStart(spec: ChartSpec, shown: ChartSeries[]): number {
  let first = Infinity;
  for (const s of shown) if (s.timestamps.length > 0) first = Math.min(first, s.timestamps[0]);
  if (spec.band && spec.band.timestamps.length > 0) first = Math.min(first, spec.band.timestamps[0]);
  if (spec.alertStartMs !== undefined) first = Math.min(first, spec.alertStartMs);
  return Number.isFinite(first) ? Math.min(Math.max(spec.startMs, first), spec.endMs - 1) : spec.startMs;
}

/** Shaded from the alert's start to its end (or to the right edge while it is still firing). */
function drawAlertPeriod(l: Layout): string[] {
  const { alertStartMs, alertEndMs } = l.spec;
  if (alertStartMs === undefined || alertStartMs > l.endMs) return [];
  const from = l.x(Math.max(alertStartMs, l.startMs));
  const to = l.x(Math.min(alertEndMs ?? l.endMs, l.endMs));
  return [
    `<rect x='${f(from)}' y='${TOP}' width='${f(Math.max(to - from, 1))}' height='${PLOT_HEIGHT}' fill='#d62728' fill-opacity='0.07'/>`,
  ];
}

/** Grid lines and value labels, with as many digits as it takes for neighbours to differ. */
function drawValueAxis(l: Layout): string[] {
  const ticks = l.yTicks.filter((tick) => tick >= l.yMin && tick <= l.yMax);
  const labels = formatTicks(ticks, l.spec.unit);
  return ticks.flatMap((tick, i) => {
    const ty = l.y(tick);
    return [
      `<line x1='${LEFT}' x2='${LEFT + l.plotWidth}' y1='${f(ty)}' y2='${f(ty)}' stroke='#e6e6e6' stroke-width='1'/>`,
      l.text(LEFT - 8, ty + 4, labels[i], { size: 11, color: '#555', anchor: 'end' }),
    ];
  });
}

function drawTimeAxis(l: Layout): string[] {
  const ticks = timeTicks(l.startMs, l.endMs, Math.max(3, Math.floor(l.plotWidth / 90)), l.spec.timeZone);
  const out: string[] = [];
  for (const tick of ticks) {
    const tx = l.x(tick.ms);
    out.push(
      `<line x1='${f(tx)}' x2='${f(tx)}' y1='${TOP}' y2='${l.axisY}' stroke='#f0f0f0' stroke-width='1'/>`,
      `<line x1='${f(tx)}' x2='${f(tx)}' y1='${l.axisY}' y2='${l.axisY + 4}' stroke='#888' stroke-width='1'/>`,
      l.text(tx, l.axisY + 16, tick.label, { size: 11, color: '#555', anchor: 'middle' }),
    );
    if (tick.day !== undefined) {
      out.push(l.text(tx, l.axisY + 29, tick.day, { size: 10, color: '#888', anchor: 'middle' }));
    }
  }
  out.push(
    `<line x1='${LEFT}' x2='${LEFT + l.plotWidth}' y1='${l.axisY}' y2='${l.axisY}' stroke='#888' stroke-width='1'/>`,
  );
  return out;
}

/** No clipPath (it costs resvg more than all the lines): values are clamped into the plot instead. */
function drawBand(l: Layout): string[] {
  const band = l.spec.band;
  if (!band) return [];
  const out: string[] = [];
  const area = bandPath(band, l.x, l.clampY);
  if (area) out.push(`<path d='${area}' fill='#6b9bd1' fill-opacity='0.22' stroke='none'/>`);
  const line = band.expected ? linePath(band.timestamps, band.expected, l.x, l.clampY) : '';
  if (line)
    out.push(
      `<path d='${line}' fill='none' stroke='#4a6fa5' stroke-width='1.2' stroke-dasharray='5 3' stroke-opacity='0.8'/>`,
    );
  return out;
}

/** A dashed line at the threshold, or an arrow at the edge when it lies far off the data's scale. */
function drawThreshold(l: Layout): string[] {
  const threshold = l.spec.threshold;
  if (threshold === undefined) return [];
  if (l.thresholdOffScale !== undefined) {
    const above = l.thresholdOffScale === 'above';
    const edge = above ? TOP + 12 : l.axisY - 6;
    return [
      l.text(
        LEFT + l.plotWidth - 4,
        edge,
        `${above ? '▲' : '▼'} threshold ${formatValue(threshold, l.spec.unit)} off scale`,
        {
          size: 10.5,
          color: '#c53a32',
          anchor: 'end',
        },
      ),
    ];
  }
  const ty = f(l.y(threshold));
  return [
    `<line x1='${LEFT}' x2='${LEFT + l.plotWidth}' y1='${ty}' y2='${ty}' stroke='#c53a32' stroke-width='1.2' stroke-dasharray='6 4'/>`,
  ];
}

/** Each series' line; ±Inf points (which have no place on a scale) as triangles on the plot's edge. */
function drawSeries(l: Layout): string[] {
  return l.shown.flatMap((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    const out: string[] = [];
    const line = linePath(s.timestamps, s.values, l.x, l.clampY);
    if (line)
      out.push(
        `<path d='${line}' fill='none' stroke='${color}' stroke-width='1.8' stroke-linejoin='round' stroke-linecap='round'/>`,
      );
    s.values.forEach((v, k) => {
      if (v !== Infinity && v !== -Infinity) return;
      const px = l.x(s.timestamps[k]);
      const tip = v > 0 ? TOP : l.axisY;
      const base = v > 0 ? TOP + 7 : l.axisY - 7;
      out.push(
        `<path d='M${f(px - 4)} ${base}L${f(px + 4)} ${base}L${f(px)} ${tip}Z' fill='${color}' stroke='none'/>`,
      );
    });
    return out;
  });
}

/** Alert start and end markers; their labels sit above the plot and merge when they would collide. */
function drawMarkers(l: Layout): string[] {
  const { alertStartMs, alertEndMs, timeZone } = l.spec;
  const markers: { ms: number; color: string; label: string }[] = [];
  if (alertStartMs !== undefined) markers.push({ ms: alertStartMs, color: '#c53a32', label: 'firing' });
  if (alertEndMs !== undefined && alertEndMs !== null)
    markers.push({ ms: alertEndMs, color: '#2e8b3e', label: 'resolved' });
  const visible = markers.filter((m) => m.ms >= l.startMs && m.ms <= l.endMs);
  const out = visible.map((m) => {
    const mx = f(l.x(m.ms));
    return `<line x1='${mx}' x2='${mx}' y1='${TOP - 6}' y2='${l.axisY}' stroke='${m.color}' stroke-width='1.5' stroke-dasharray='4 3'/>`;
  });
  const labels = visible.map((m) => ({ ...m, text: `${m.label} ${formatClock(m.ms, timeZone)}` }));
  if (labels.length === 2 && l.x(labels[1].ms) - l.x(labels[0].ms) < 130) {
    labels.splice(0, 2, { ...labels[1], text: `${labels[0].text}, ${labels[1].text}` });
  }
  for (const m of labels) {
    const mx = l.x(m.ms);
    const anchorEnd = l.width - RIGHT - mx < 7 * m.text.length;
    out.push(
      l.text(anchorEnd ? mx - 4 : mx + 4, TOP - 9, m.text, {
        size: 10.5,
        color: m.color,
        anchor: anchorEnd ? 'end' : 'start',
      }),
    );
  }
  return out;
}

function drawLegend(l: Layout): string[] {
  const { spec, shown, hidden } = l;
  const out: string[] = [];
  let ly = l.axisY + AXIS_HEIGHT;
  const row = (swatch: string, label: string, color = '#333'): void => {
    out.push(swatch.replace(/\{y\}/g, f(ly - 4)));
    out.push(l.text(LEFT + 22, ly, clip(label, 110), { size: 11, color }));
    ly += LEGEND_ROW;
  };
  shown.forEach((s, i) =>
    row(
      `<line x1='${LEFT}' x2='${LEFT + 16}' y1='{y}' y2='{y}' stroke='${PALETTE[i % PALETTE.length]}' stroke-width='3'/>`,
      s.name,
    ),
  );
  if (spec.band)
    row(
      `<rect x='${LEFT}' y='${f(ly - 9)}' width='16' height='10' fill='#6b9bd1' fill-opacity='0.35'/>`,
      'normal band (dashed: expected)',
    );
  if (spec.threshold !== undefined)
    row(
      `<line x1='${LEFT}' x2='${LEFT + 16}' y1='{y}' y2='{y}' stroke='#c53a32' stroke-width='1.5' stroke-dasharray='4 2'/>`,
      `threshold ${formatValue(spec.threshold, spec.unit)}`,
    );
  if (hasInfinite(shown))
    row(
      `<path d='M${LEFT + 4} {y}L${LEFT + 12} {y}L${LEFT + 8} ${f(ly - 11)}Z' fill='#555'/>`,
      '+Inf / -Inf: off the scale, marked on the top / bottom edge',
    );
  if (hidden > 0) row('', `${hidden} more series not shown`, '#888');
  if (shown.length === 0 && !spec.band)
    out.push(
      l.text(LEFT + l.plotWidth / 2, TOP + PLOT_HEIGHT / 2, 'no data in this range', {
        size: 13,
        color: '#888',
        anchor: 'middle',
      }),
    );
  return out;
}

function hasInfinite(series: ChartSeries[]): boolean {
  return series.some((s) => s.values.some((v) => v === Infinity || v === -Infinity));
}

/** Keeps the series that matter most when there are too many: the ones reaching the highest values. */
/** The series a chart draws: all when they fit, else the `max` with the highest peaks. */
export function pickSeries(series: ChartSeries[], max: number): ChartSeries[] {
  if (series.length <= max) return series;
  const peak = (s: ChartSeries): number =>
    s.values.reduce((m, v) => (Number.isFinite(v) && v > m ? v : m), -Infinity);
  return [...series].sort((a, b) => peak(b) - peak(a)).slice(0, max);
}

/**
 * The values the axis spans: the series and the band, and the threshold when it is near them (a
 * threshold far off would squash the data into a line; it is marked at the edge instead).
 */
function valueDomain(
  series: ChartSeries[],
  band: ChartBand | undefined,
  threshold: number | undefined,
): { lo: number; hi: number; thresholdOffScale?: 'above' | 'below' } {
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
  let thresholdOffScale: 'above' | 'below' | undefined;
  if (threshold !== undefined && Number.isFinite(threshold)) {
    const reach = Math.max(hi - lo, Math.abs(hi), Math.abs(lo)) * 3;
    if (lo === Infinity || (threshold <= hi + reach && threshold >= lo - reach)) take([threshold]);
    else thresholdOffScale = threshold > hi ? 'above' : 'below';
  }
  if (lo === Infinity) return { lo: 0, hi: 1 };
  // Non-negative data reads best from zero unless it sits in a narrow band far above it.
  if (lo >= 0 && lo < (hi - lo) * 2) lo = 0;
  return { lo, hi, thresholdOffScale };
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
