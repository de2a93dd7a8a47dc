/**
 * Times shown to people, in the recipient's configured time zone (IANA name, e.g. Europe/Berlin).
 * Intl formatters are costly to build, so they are cached per zone and pattern.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string, kind: 'parts' | 'clock' | 'day' | 'full'): Intl.DateTimeFormat {
  const key = `${timeZone}|${kind}`;
  let f = formatters.get(key);
  if (f === undefined) {
    const options: Record<typeof kind, Intl.DateTimeFormatOptions> = {
      parts: {
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      },
      clock: { hourCycle: 'h23', hour: '2-digit', minute: '2-digit' },
      day: { weekday: 'short', day: 'numeric', month: 'short' },
      full: {
        hourCycle: 'h23',
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        timeZoneName: 'short',
      },
    };
    f = new Intl.DateTimeFormat('en-GB', { timeZone, ...options[kind] });
    formatters.set(key, f);
  }
  return f;
}

/** Offset of the zone from UTC at instant `ms`, in ms (positive east of Greenwich). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone, 'parts').formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** "14:05" */
export function formatClock(ms: number, timeZone: string): string {
  return formatter(timeZone, 'clock').format(new Date(ms));
}

/** "Mon 23 Nov" */
export function formatDay(ms: number, timeZone: string): string {
  return formatter(timeZone, 'day').format(new Date(ms)).replace(',', '');
}

/** "23 Nov 2026, 14:05:09 CET" */
export function formatDateTime(ms: number, timeZone: string): string {
  return formatter(timeZone, 'full').format(new Date(ms));
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEPS = [
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
];

export interface TimeTick {
  ms: number;
  label: string;
  /** Set on the first tick and where the day changes, so the axis says which day it is. */
  day?: string;
}

/** Ticks at round local times (every 5 min, 1 h, ...) of the zone, about `count` of them. */
export function timeTicks(startMs: number, endMs: number, count: number, timeZone: string): TimeTick[] {
  const span = Math.max(endMs - startMs, MINUTE);
  const step = STEPS.find((s) => span / s <= count) ?? STEPS[STEPS.length - 1];
  const ticks: TimeTick[] = [];
  const offset = zoneOffsetMs(startMs, timeZone);
  let local = Math.ceil((startMs + offset) / step) * step;
  let previousDay = '';
  for (let guard = 0; guard < 100; guard++, local += step) {
    // Re-read the offset at each tick so ticks stay on round local times across a DST change.
    const ms = local - zoneOffsetMs(local - offset, timeZone);
    if (ms > endMs) break;
    if (ms < startMs) continue;
    const day = formatDay(ms, timeZone);
    ticks.push({
      ms,
      label: step >= DAY ? day : formatClock(ms, timeZone),
      day: step < DAY && day !== previousDay ? day : undefined,
    });
    previousDay = day;
  }
  return ticks;
}
