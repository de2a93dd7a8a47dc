export interface LoadAverage {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
}

/** Parses /proc/loadavg. */
export function parseLoadavg(text: string): LoadAverage {
  const [load1, load5, load15] = text.trim().split(/\s+/).map(Number);
  if ([load1, load5, load15].some((v) => v === undefined || Number.isNaN(v))) {
    throw new Error(`unexpected loadavg content: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { load1, load5, load15 };
}
