import { UserError } from './errors';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/y;

/**
 * Parses a duration as Prometheus writes them (`1h30m`, `5m`, `1d`, `1w`, `250ms`) into
 * milliseconds. A bare number is taken as seconds, as YAML users tend to write `timeout: 30`.
 */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new UserError(`invalid duration ${text}`);
    return text * 1000;
  }
  const input = text.trim();
  if (/^\d+(\.\d+)?$/.test(input)) return Number(input) * 1000;
  if (input === '') throw new UserError('invalid duration "": empty');
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < input.length) {
    const start = PART.lastIndex;
    const match = PART.exec(input);
    if (!match || match.index !== start) {
      throw new UserError(`invalid duration "${text}": expected e.g. 30s, 5m, 1h30m, 1d`);
    }
    total += Number(match[1]) * UNIT_MS[match[2]];
  }
  return total;
}

/** The shortest Prometheus-style text for a duration: 90000 -> "1m30s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const unit of ['w', 'd', 'h', 'm', 's', 'ms']) {
    const size = UNIT_MS[unit];
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}
