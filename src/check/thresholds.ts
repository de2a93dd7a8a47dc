import { UserError } from '../common/errors';

/**
 * A Nagios threshold range, as the Monitoring Plugins guidelines define it: `10` alerts outside
 * 0..10, `10:` below 10, `~:10` above 10, `10:20` outside 10..20, `@10:20` inside 10..20.
 */
export interface ThresholdRange {
  start: number;
  end: number;
  /** `@`: alert when the value is inside the range instead of outside. */
  inside: boolean;
  text: string;
}

export function parseRange(text: string): ThresholdRange {
  const inside = text.startsWith('@');
  const body = inside ? text.slice(1) : text;
  const [low, high, extra] = body.split(':');
  const bad = () =>
    new UserError(`invalid threshold "${text}": expected N, N:, ~:N, N:M or @N:M (Nagios range)`);
  if (extra !== undefined || body === '') throw bad();
  const toNumber = (part: string, fallback: number) => {
    if (part === '') return fallback;
    if (part === '~') return -Infinity;
    const value = Number(part);
    if (!Number.isFinite(value)) throw bad();
    return value;
  };
  const start = high === undefined ? 0 : toNumber(low, 0);
  const end = high === undefined ? toNumber(low, NaN) : toNumber(high, Infinity);
  if (Number.isNaN(end) || start > end) throw bad();
  return { start, end, inside, text };
}

/** True when the value should raise the alert this range stands for. */
export function breaches(range: ThresholdRange, value: number): boolean {
  const within = value >= range.start && value <= range.end;
  return range.inside ? within : !within;
}
