export interface SoftnetCpu {
  readonly processed: number;
  readonly dropped: number;
  readonly timeSqueezed: number;
}

/** /proc/net/softnet_stat: one line of hexadecimal counters per CPU; the first three are these. */
export function parseSoftnetStat(text: string): SoftnetCpu[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const columns = line.trim().split(/\s+/);
      if (columns.length < 3)
        throw new Error(`softnet_stat: expected at least 3 columns, got ${columns.length}`);
      const [processed, dropped, timeSqueezed] = columns.map((column) => parseInt(column, 16));
      return { processed, dropped, timeSqueezed };
    });
}
