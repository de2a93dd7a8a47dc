import { errorMessage, UserError } from '../../common/errors';
import { readUserFile } from '../../common/files';

export interface Series {
  /**
   * Unix milliseconds, in file order. Not necessarily ascending: NAB's files keep rows with
   * repeated timestamps around a daylight-saving change, and scoring goes by row.
   */
  timestamps: number[];
  values: number[];
}

/**
 * A timestamp as NAB writes it (`2014-04-01 00:00:00`, optionally with fractional seconds),
 * ISO 8601, or Unix seconds. Times without a zone are UTC, as in NAB.
 */
export function parseTimestamp(text: string): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const nab = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(trimmed);
  if (!nab) return NaN;
  // Date.parse keeps milliseconds only; NAB's microseconds are always zero.
  const fraction = nab[3] ? nab[3].slice(0, 4) : '';
  return Date.parse(`${nab[1]}T${nab[2]}${fraction}${nab[4] ?? 'Z'}`);
}

/** Parses `timestamp,value` CSV text (header optional); errors name the file and line. */
export function parseSeriesCsv(text: string, file: string): Series {
  const timestamps: number[] = [];
  const values: number[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const where = `${file}:${i + 1}`;
    const fields = line.split(',');
    if (i === 0 && fields[0].trim().toLowerCase() === 'timestamp') continue;
    if (fields.length < 2)
      throw new UserError(`${where}: expected "timestamp,value", got ${JSON.stringify(line)}`);
    const time = parseTimestamp(fields[0]);
    if (Number.isNaN(time)) throw new UserError(`${where}: invalid timestamp ${JSON.stringify(fields[0])}`);
    const field = fields[1].trim();
    // An empty or NaN value is a gap; anything else must be a number.
    const value = field === '' || field.toLowerCase() === 'nan' ? NaN : Number(field);
    if (Number.isNaN(value) && field !== '' && field.toLowerCase() !== 'nan') {
      throw new UserError(`${where}: invalid value ${JSON.stringify(fields[1])}`);
    }
    timestamps.push(time);
    values.push(value);
  }
  if (timestamps.length === 0) throw new UserError(`${file}: no data rows`);
  return { timestamps, values };
}

export function readSeriesCsv(file: string): Series {
  return parseSeriesCsv(readUserFile(file), file);
}

/** NAB's labels file: `{ "<category>/<file>.csv": [[start, end], ...] }`. */
export type Windows = Record<string, Array<[number, number]>>;

export function parseWindows(text: string, file: string): Windows {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: invalid JSON: ${errorMessage(err)}`);
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new UserError(`${file}: expected an object of "<category>/<file>.csv": [[start, end], ...]`);
  }
  const windows: Windows = {};
  for (const [name, list] of Object.entries(document)) {
    if (!Array.isArray(list)) throw new UserError(`${file}: ${name}: expected a list of [start, end] pairs`);
    windows[name] = list.map((pair: unknown, i) => {
      const [start, end] = Array.isArray(pair) ? pair.map((t) => parseTimestamp(String(t))) : [NaN, NaN];
      if (
        !Array.isArray(pair) ||
        pair.length !== 2 ||
        Number.isNaN(start) ||
        Number.isNaN(end) ||
        end < start
      ) {
        throw new UserError(
          `${file}: ${name}[${i}]: expected [start, end] timestamps, got ${JSON.stringify(pair)}`,
        );
      }
      return [start, end] as [number, number];
    });
  }
  return windows;
}

export function readWindows(file: string): Windows {
  return parseWindows(readUserFile(file), file);
}
