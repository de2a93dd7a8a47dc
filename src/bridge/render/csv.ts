/** The plotted data as CSV (timestamp, series, value): what a person opens in a spreadsheet. */

export interface CsvSeries {
  name: string;
  timestamps: number[];
  values: number[];
}

export function seriesToCsv(series: CsvSeries[]): string {
  const rows = ['timestamp,series,value'];
  for (const s of series) {
    const name = field(s.name);
    for (let i = 0; i < s.timestamps.length; i++) {
      rows.push(`${new Date(s.timestamps[i]).toISOString()},${name},${promValue(s.values[i])}`);
    }
  }
  return rows.join('\r\n') + '\r\n';
}

/** Prometheus' own spelling of sample values, so rows compare equal to its API output. */
export function promValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** RFC 4180 quoting; a leading formula character is neutralised so a spreadsheet never runs a label. */
function field(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
