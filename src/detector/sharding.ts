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
