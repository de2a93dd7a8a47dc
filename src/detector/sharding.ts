import type { Shard } from '../config/detector';

/** The source labels that identify a series: all but `__name__`, in a fixed order. */
export function seriesLabels(metric: Record<string, string>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const name of Object.keys(metric).sort()) if (name !== '__name__') labels[name] = metric[name];
  return labels;
}

/** A stable key for a series (labels sorted, as `seriesLabels` returns them). */
export function seriesKey(labels: Record<string, string>): string {
  let key = '';
  for (const name in labels) key += `${name}\u0000${labels[name]}\u0001`;
  return key;
}

/**
 * `seriesKey(seriesLabels(JSON.parse(metricText)))` for a `metric` object of a query_range answer,
 * read without building the object when the text is plain (no escapes, labels in order, as
 * Prometheus writes them): it runs for every series of every answer.
 */
export function seriesKeyOf(metricText: string): string {
  if (metricText.includes('\\')) return slowKey(metricText);
  let key = '';
  let previous = '';
  let at = 1;
  if (metricText.charCodeAt(0) !== 0x7b) return slowKey(metricText);
  if (metricText === '{}') return key;
  for (;;) {
    if (metricText.charCodeAt(at) !== 0x22) return slowKey(metricText);
    const nameEnd = metricText.indexOf('"', at + 1);
    const name = metricText.slice(at + 1, nameEnd);
    if (metricText.charCodeAt(nameEnd + 1) !== 0x3a || metricText.charCodeAt(nameEnd + 2) !== 0x22) {
      return slowKey(metricText);
    }
    const valueEnd = metricText.indexOf('"', nameEnd + 3);
    if (valueEnd < 0 || name <= previous) return slowKey(metricText);
    if (name !== '__name__') key += `${name}\u0000${metricText.slice(nameEnd + 3, valueEnd)}\u0001`;
    previous = name;
    const next = metricText.charCodeAt(valueEnd + 1);
    if (next === 0x7d && valueEnd + 2 === metricText.length) return key;
    if (next !== 0x2c) return slowKey(metricText);
    at = valueEnd + 2;
  }
}

function slowKey(metricText: string): string {
  return seriesKey(seriesLabels(JSON.parse(metricText) as Record<string, string>));
}

/** FNV-1a (32 bit): the same on every replica and every run, unlike a per-process hash. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function inShard(key: string, shard: Shard): boolean {
  return shard.count === 1 || stableHash(key) % shard.count === shard.index;
}
