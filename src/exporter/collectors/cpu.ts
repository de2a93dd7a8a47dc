import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { CPU_SECONDS } from '../families';
import { procPath, type Host } from '../host';
import { parseProcStat, type CpuTimes } from '../procfs/stat';
import { defineCollector } from '../descriptor';
import { PortableCpuCollector } from '../portable/cpu';

const MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
type Mode = (typeof MODES)[number];

// A CPU whose idle time drops by this much was hot-unplugged and replugged: start it afresh.
const JUMP_BACK_SECONDS = 3;

/**
 * node_cpu_seconds_total{cpu,mode} and node_cpu_guest_seconds_total{cpu,mode} from /proc/stat.
 * The kernel's per-CPU iowait (and, on some kernels, idle) can step backwards; like node_exporter,
 * the last value is kept then, so the exported counters never decrease.
 */
export class CpuCollector implements Collector {
  readonly name = 'cpu';
  private last = new Map<string, CpuTimes>();

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    const { cpus } = parseProcStat(this.host.readText(procPath(this.host, 'stat')));
    const seconds = sink.declared(CPU_SECONDS);
    const guest = sink.counter(
      'node_cpu_guest_seconds_total',
      'Seconds the CPUs spent in guests (VMs) for each mode.',
      ['cpu', 'mode'],
    );
    const next = new Map<string, CpuTimes>();
    for (const current of cpus) {
      const times = monotonic(this.last.get(current.cpu), current);
      next.set(current.cpu, times);
      for (const mode of MODES) seconds.add(times[mode as Mode], times.cpu, mode);
      guest.add(times.guest, times.cpu, 'user');
      guest.add(times.guestNice, times.cpu, 'nice');
    }
    this.last = next;
  }
}

export function monotonic(previous: CpuTimes | undefined, current: CpuTimes): CpuTimes {
  if (!previous || previous.idle - current.idle >= JUMP_BACK_SECONDS) return current;
  const keep = (key: Exclude<keyof CpuTimes, 'cpu'>): number => Math.max(previous[key], current[key]);
  return {
    cpu: current.cpu,
    user: keep('user'),
    nice: keep('nice'),
    system: keep('system'),
    idle: keep('idle'),
    iowait: keep('iowait'),
    irq: keep('irq'),
    softirq: keep('softirq'),
    steal: keep('steal'),
    guest: keep('guest'),
    guestNice: keep('guestNice'),
  };
}

export const cpu = defineCollector({
  name: 'cpu',
  enabledByDefault: true,
  settings: {},
  create: (_, { host, platform }) =>
    platform === 'linux' ? new CpuCollector(host) : new PortableCpuCollector(platform),
});
