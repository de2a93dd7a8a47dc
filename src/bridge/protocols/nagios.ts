/**
 * Passive check results for Nagios and Icinga, as pure functions: the service state of an alert,
 * the plugin output with the alert's value as perfdata, the external command line, NRDP's request
 * and answer, and Icinga 2's process-check-result body.
 */

export enum ServiceState {
  OK = 0,
  WARNING = 1,
  CRITICAL = 2,
  UNKNOWN = 3,
}

export interface PassiveResult {
  host: string;
  service: string;
  state: ServiceState;
  /** First line of the plugin output (no `|`, no newline). */
  output: string;
  /** `label=value[UOM];warn;crit;min;max` entries, or none. */
  perfdata: string[];
  /** Unix seconds the result is about. */
  time: number;
}

/** resolved → OK; firing by severity: critical (and page, error) → CRITICAL, the rest → WARNING. */
export function serviceState(status: 'firing' | 'resolved', severity: string | undefined): ServiceState {
  if (status === 'resolved') return ServiceState.OK;
  const level = (severity ?? '').toLowerCase();
  if (level === 'critical' || level === 'page' || level === 'error' || level === 'emergency') {
    return ServiceState.CRITICAL;
  }
  return ServiceState.WARNING;
}

/** One perfdata entry; the label quoted when it has spaces or quotes, as the plugin guidelines say. */
export function perfdataEntry(label: string, value: number): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  const clean = label.replace(/[=']/g, '_');
  const quoted = /[\s]/.test(clean) ? `'${clean}'` : clean;
  return `${quoted}=${value}`;
}

/**
 * Text safe on one line of a command file or plugin output: newlines become spaces, `|` (the
 * perfdata separator) and `;` (the command field separator) are replaced.
 */
export function oneLine(text: string, max = 1000): string {
  const line = text
    .replace(/[\r\n]+/g, ' ')
    .replace(/\|/g, '/')
    .trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function field(text: string): string {
  return oneLine(text).replace(/;/g, ',');
}

/** `[time] PROCESS_SERVICE_CHECK_RESULT;host;service;state;output|perfdata` and a newline. */
export function commandLine(result: PassiveResult): string {
  const perf = result.perfdata.length > 0 ? `|${result.perfdata.join(' ')}` : '';
  return `[${result.time}] PROCESS_SERVICE_CHECK_RESULT;${field(result.host)};${field(result.service)};${result.state};${oneLine(result.output)}${perf}\n`;
}

/** The plugin output with perfdata, as NRDP and Nagios read it. */
export function pluginOutput(result: PassiveResult): string {
  const perf = result.perfdata.length > 0 ? `|${result.perfdata.join(' ')}` : '';
  return `${oneLine(result.output)}${perf}`;
}

/** NRDP's `cmd=submitcheck` form body with JSON data. */
export function nrdpRequest(results: readonly PassiveResult[], token: string): URLSearchParams {
  const checkresults = results.map((r) => ({
    checkresult: { type: 'service', checktype: '1' },
    hostname: r.host,
    servicename: r.service,
    state: String(r.state),
    output: pluginOutput(r),
  }));
  return new URLSearchParams({ token, cmd: 'submitcheck', JSONDATA: JSON.stringify({ checkresults }) });
}

/**
 * NRDP answers HTTP 200 to everything; its status is in the body: `{"result":{"status":0,...}}`
 * (XML `<status>0</status>` from older servers). Returns the message; throws with NRDP's own words
 * (`BAD TOKEN`, `NO DATA`, `BAD CHECK RESULTS DIR`) on status -1.
 */
export function parseNrdpResponse(body: string): string {
  let status: number | undefined;
  let message = '';
  try {
    const json = JSON.parse(body) as {
      result?: { status?: unknown; message?: unknown; meta?: { output?: unknown } };
    };
    status = json.result?.status === undefined ? undefined : Number(json.result.status);
    message = [json.result?.message, json.result?.meta?.output]
      .filter((m) => typeof m === 'string')
      .join(': ');
  } catch {
    const xmlStatus = /<status>\s*(-?\d+)\s*<\/status>/.exec(body);
    status = xmlStatus ? Number(xmlStatus[1]) : undefined;
    message = /<message>([^<]*)<\/message>/.exec(body)?.[1] ?? '';
  }
  if (status === undefined || Number.isNaN(status)) {
    throw new NrdpError(`NRDP answer without a status: ${body.replace(/\s+/g, ' ').slice(0, 200)}`);
  }
  if (status !== 0) throw new NrdpError(`NRDP refused the results: ${message || `status ${status}`}`);
  return message;
}

export class NrdpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NrdpError';
  }
}

/**
 * Icinga 2's `POST /v1/actions/process-check-result` body for one service, named `host!service`
 * (Icinga forbids `!` in object names): an object name, never a filter expression labels could
 * extend, and an unknown one is Icinga's 404 (a filter that matches nothing is a 500).
 */
export function icingaCheckResult(result: PassiveResult): string {
  return JSON.stringify({
    type: 'Service',
    service: `${result.host}!${result.service}`,
    exit_status: result.state,
    plugin_output: oneLine(result.output),
    performance_data: result.perfdata,
  });
}
