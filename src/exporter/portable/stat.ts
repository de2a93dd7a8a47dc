import os from 'node:os';
import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import type { Host } from '../host';

/** node_boot_time_seconds; the other /proc/stat counters have no portable source and are left out. */
export class PortableStatCollector implements Collector {
  readonly name = 'stat';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    const bootTime = Math.round(this.host.now() / 1000 - os.uptime());
    sink.gauge('node_boot_time_seconds', 'Node boot time, in unixtime.').add(bootTime);
  }
}
