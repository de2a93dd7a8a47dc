/** Generated series with known answers, shared by the detector tests. */
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const START = Date.UTC(2024, 0, 1);

/** Deterministic noise (mulberry32), so tests never flake. */
export function noise(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

/**
 * A server's daily CPU curve: busy by day (~60 %), a deep dip at night (~5 % from 0:00 to
 * 6:00), with a little noise. The dip is the normal pattern.
 */
export function dailyLoad(timeMs: number, rand: () => number): number {
  const hour = ((timeMs - START) % DAY) / HOUR;
  const base =
    hour < 6 ? 5 : hour < 8 ? 5 + ((hour - 6) / 2) * 55 : hour < 22 ? 60 : 60 - ((hour - 22) / 2) * 55;
  return base + rand() * 2;
}

export function times(count: number, stepMs: number, start = START): number[] {
  return Array.from({ length: count }, (_, i) => start + i * stepMs);
}
