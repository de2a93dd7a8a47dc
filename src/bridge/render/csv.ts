import { formatValue } from '../../common/exposition';

/**
 * The plotted data as CSV (timestamp, series, value): what a person opens in a spreadsheet. Values
 * are spelled as Prometheus spells them, so rows compare equal to its API output.
 */

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
      rows.push(`${new Date(s.timestamps[i]).toISOString()},${name},${formatValue(s.values[i])}`);
    }
  }
  return rows.join('\r\n') + '\r\n';
}

/** RFC 4180 quoting; a leading formula character is neutralised so a spreadsheet never runs a label. */
function field(text: string): string {
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
