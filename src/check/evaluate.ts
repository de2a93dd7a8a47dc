import { breaches, type ThresholdRange } from './thresholds';

export const STATUS_NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
/** The plugin exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export type Status = 0 | 1 | 2 | 3;

export interface CheckSample {
  labels: Record<string, string>;
  value: number;
}

export interface CheckOptions {
  warning?: ThresholdRange;
  critical?: ThresholdRange;
  /** Status when the query returns no series. */
  emptyStatus: Status;
  /** What the text calls the measured thing, e.g. the query. */
  subject: string;
}

export interface CheckResult {
  status: Status;
  /** `STATUS - text | perfdata`, the one line Nagios and Icinga read. */
  line: string;
}

/** A series' name in text and perfdata: its labels without __name__, or the subject when it has none. */
function seriesName(labels: Record<string, string>, subject: string): string {
  const parts = Object.entries(labels)
    .filter(([key]) => key !== '__name__')
    .map(([key, value]) => `${key}=${value}`);
  // `|` starts the perfdata and a newline ends the first line: neither may come from a label.
  return (parts.length > 0 ? parts.join(',') : subject).replace(/[|\r\n]/g, '_');
}

function perfLabel(name: string): string {
  // Perfdata labels are quoted with single quotes; a quote inside is doubled.
  return `'${name.replace(/'/g, "''")}'`;
}

function statusOf(value: number, options: CheckOptions): Status {
  if (Number.isNaN(value)) return 3;
  if (options.critical && breaches(options.critical, value)) return 2;
  if (options.warning && breaches(options.warning, value)) return 1;
  return 0;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

/** Turns query results into the plugin's verdict: the worst series decides. */
export function evaluate(samples: CheckSample[], options: CheckOptions): CheckResult {
  if (samples.length === 0) {
    const status = options.emptyStatus;
    return { status, line: `${STATUS_NAMES[status]} - ${options.subject}: no data` };
  }
  const judged = samples
    .map((sample) => ({
      name: seriesName(sample.labels, options.subject),
      value: sample.value,
      status: statusOf(sample.value, options),
    }))
    // Worst first (CRITICAL, WARNING, UNKNOWN, OK), then by name for a stable text.
    .sort((a, b) => rank(b.status) - rank(a.status) || a.name.localeCompare(b.name));
  const worst = judged[0].status;
  const shown = judged.filter((item) => item.status === worst).slice(0, 5);
  const hidden = judged.filter((item) => item.status === worst).length - shown.length;
  const text = shown.map((item) => `${item.name} = ${formatNumber(item.value)}`).join(', ');
  const more = hidden > 0 ? ` (+${hidden} more)` : '';
  const summary = worst === 0 && judged.length > 1 ? `${judged.length} series OK` : `${text}${more}`;
  const perf = judged
    .map(
      (item) =>
        `${perfLabel(item.name)}=${formatNumber(item.value)};${options.warning?.text ?? ''};${options.critical?.text ?? ''}`,
    )
    .join(' ');
  return { status: worst, line: `${STATUS_NAMES[worst]} - ${summary} | ${perf}` };
}

function rank(status: Status): number {
  return status === 3 ? 0.5 : status;
}
