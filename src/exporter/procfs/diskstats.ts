/** One line of /proc/diskstats (Documentation/admin-guide/iostats.rst); times in ms as read. */
export interface DiskStats {
  readonly major: string;
  readonly minor: string;
  readonly device: string;
  readonly readsCompleted: number;
  readonly readsMerged: number;
  readonly sectorsRead: number;
  readonly readTimeMs: number;
  readonly writesCompleted: number;
  readonly writesMerged: number;
  readonly sectorsWritten: number;
  readonly writeTimeMs: number;
  readonly ioInProgress: number;
  readonly ioTimeMs: number;
  readonly weightedIoTimeMs: number;
  /** Kernel 4.18+. */
  readonly discards?: {
    readonly completed: number;
    readonly merged: number;
    readonly sectors: number;
    readonly timeMs: number;
  };
  /** Kernel 5.5+. */
  readonly flushes?: { readonly completed: number; readonly timeMs: number };
}

export function parseDiskstats(text: string): DiskStats[] {
  const disks: DiskStats[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const n = (i: number): number => Number(f[i]);
    disks.push({
      major: f[0],
      minor: f[1],
      device: f[2],
      readsCompleted: n(3),
      readsMerged: n(4),
      sectorsRead: n(5),
      readTimeMs: n(6),
      writesCompleted: n(7),
      writesMerged: n(8),
      sectorsWritten: n(9),
      writeTimeMs: n(10),
      ioInProgress: n(11),
      ioTimeMs: n(12),
      weightedIoTimeMs: n(13),
      discards:
        f.length >= 18 ? { completed: n(14), merged: n(15), sectors: n(16), timeMs: n(17) } : undefined,
      flushes: f.length >= 20 ? { completed: n(18), timeMs: n(19) } : undefined,
    });
  }
  return disks;
}
