import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { memoryFamily } from '../families';
import { procPath, type Host } from '../host';
import { parseMeminfo } from '../procfs/meminfo';
import { defineCollector } from '../descriptor';
import { PortableMeminfoCollector } from '../portable/meminfo';

/** node_memory_<Field>[_bytes] for every field of /proc/meminfo, named as node_exporter names them. */
export class MeminfoCollector implements Collector {
  readonly name = 'meminfo';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    for (const field of parseMeminfo(this.host.readText(procPath(this.host, 'meminfo')))) {
      sink.declared(memoryFamily(field.name)).add(field.value);
    }
  }
}

export const meminfo = defineCollector({
  name: 'meminfo',
  enabledByDefault: true,
  settings: {},
  create: (_, { host, platform }) =>
    platform === 'linux' ? new MeminfoCollector(host) : new PortableMeminfoCollector(),
});
