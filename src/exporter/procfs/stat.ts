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

/** Parses /proc/stat (proc(5)). The aggregate `cpu` line is skipped, as node_exporter does. */
export function parseProcStat(text: string): ProcStat {
  const cpus: CpuTimes[] = [];
  const stat: { -readonly [K in keyof ProcStat]: ProcStat[K] } = { cpus };
  for (const line of text.split('\n')) {
    const fields = line.split(/\s+/);
    const key = fields[0];
    if (key.startsWith('cpu')) {
      if (key === 'cpu') continue;
      const t = (i: number): number => (Number(fields[i]) || 0) / USER_HZ;
      cpus.push({
        cpu: key.slice(3),
        user: t(1),
        nice: t(2),
        system: t(3),
        idle: t(4),
        iowait: t(5),
        irq: t(6),
        softirq: t(7),
        steal: t(8),
        guest: t(9),
        guestNice: t(10),
      });
      continue;
    }
    const value = Number(fields[1]);
    switch (key) {
      case 'btime':
        stat.bootTime = value;
        break;
      case 'ctxt':
        stat.contextSwitches = value;
        break;
      case 'processes':
        stat.forks = value;
        break;
      case 'intr':
        stat.interrupts = value;
        break;
      case 'procs_running':
        stat.procsRunning = value;
        break;
      case 'procs_blocked':
        stat.procsBlocked = value;
        break;
    }
  }
  return stat;
}
