import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { BOOT_TIME } from '../families';
import { procPath, type Host } from '../host';
import { parseProcStat } from '../procfs/stat';
import { defineCollector } from '../descriptor';
import { PortableStatCollector } from '../portable/stat';

/** Boot time, context switches, forks, interrupts and process counts from /proc/stat. */
export class StatCollector implements Collector {
  readonly name = 'stat';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    const stat = parseProcStat(this.host.readText(procPath(this.host, 'stat')));
    if (stat.interrupts !== undefined)
      sink.counter('node_intr_total', 'Total number of interrupts serviced.').add(stat.interrupts);
    if (stat.contextSwitches !== undefined)
      sink
        .counter('node_context_switches_total', 'Total number of context switches.')
        .add(stat.contextSwitches);
    if (stat.forks !== undefined) sink.counter('node_forks_total', 'Total number of forks.').add(stat.forks);
    if (stat.bootTime !== undefined) sink.declared(BOOT_TIME).add(stat.bootTime);
    if (stat.procsRunning !== undefined)
      sink.gauge('node_procs_running', 'Number of processes in runnable state.').add(stat.procsRunning);
    if (stat.procsBlocked !== undefined)
      sink
        .gauge('node_procs_blocked', 'Number of processes blocked waiting for I/O to complete.')
        .add(stat.procsBlocked);
  }
}

export const stat = defineCollector({
  name: 'stat',
  enabledByDefault: true,
  settings: {},
  create: (_, { host, platform }) =>
    platform === 'linux' ? new StatCollector(host) : new PortableStatCollector(host),
});
