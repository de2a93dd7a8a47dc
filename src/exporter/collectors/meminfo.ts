import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { procPath, type Host } from '../host';
import { parseMeminfo } from '../procfs/meminfo';

/** node_memory_<Field>[_bytes] for every field of /proc/meminfo, named as node_exporter names them. */
export class MeminfoCollector implements Collector {
  readonly name = 'meminfo';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    for (const field of parseMeminfo(this.host.readText(procPath(this.host, 'meminfo')))) {
      sink.gauge(`node_memory_${field.name}`, `Memory information field ${field.name}.`).add(field.value);
    }
  }
}
