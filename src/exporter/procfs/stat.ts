/** One line `cpuN ...` of /proc/stat, in seconds (USER_HZ is 100 on every Linux architecture). */
export interface CpuTimes {
  readonly cpu: string;
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly irq: number;
  readonly softirq: number;
  readonly steal: number;
  readonly guest: number;
  readonly guestNice: number;
}

export interface ProcStat {
  readonly cpus: CpuTimes[];
  readonly bootTime?: number;
  readonly contextSwitches?: number;
  readonly forks?: number;
  readonly interrupts?: number;
  readonly procsRunning?: number;
  readonly procsBlocked?: number;
}

const USER_HZ = 100;

/** The lines read besides the CPUs', by their key. */
const FIELDS = new Map<string, Exclude<keyof ProcStat, 'cpus'>>([
  ['btime', 'bootTime'],
  ['ctxt', 'contextSwitches'],
  ['processes', 'forks'],
  ['intr', 'interrupts'],
  ['procs_running', 'procsRunning'],
  ['procs_blocked', 'procsBlocked'],
]);

/**
 * Parses /proc/stat (proc(5)). The aggregate `cpu` line is skipped, as node_exporter does. Of
 * the other lines only the first number is read: `intr` and `softirq` go on with a count per
 * interrupt, thousands of them on a large server, which are not split up.
 */
export function parseProcStat(text: string): ProcStat {
  const cpus: CpuTimes[] = [];
  const stat: { -readonly [K in keyof ProcStat]: ProcStat[K] } = { cpus };
  for (let start = 0; start < text.length;) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    const space = text.indexOf(' ', start);
    const keyEnd = space < 0 || space > end ? end : space;
    const key = text.slice(start, keyEnd);
    if (key.startsWith('cpu')) {
      if (key !== 'cpu') cpus.push(cpuTimes(key.slice(3), text.slice(keyEnd, end).trim().split(/\s+/)));
    } else if (FIELDS.has(key)) {
      const valueEnd = text.indexOf(' ', keyEnd + 1);
      stat[FIELDS.get(key)!] = Number(
        text.slice(keyEnd + 1, valueEnd < 0 || valueEnd > end ? end : valueEnd),
      );
    }
    start = end + 1;
  }
  return stat;
}

/** A `cpuN` line's ticks, in the order of proc(5), in seconds. */
function cpuTimes(cpu: string, ticks: string[]): CpuTimes {
  const t = (i: number): number => (Number(ticks[i]) || 0) / USER_HZ;
  return {
    cpu,
    user: t(0),
    nice: t(1),
    system: t(2),
    idle: t(3),
    iowait: t(4),
    irq: t(5),
    softirq: t(6),
    steal: t(7),
    guest: t(8),
    guestNice: t(9),
  };
}
