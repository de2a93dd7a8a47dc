import os from 'node:os';
import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { BOOT_TIME } from '../families';
import type { Host } from '../host';

/** node_boot_time_seconds; the other /proc/stat counters have no portable source and are left out. */
export class PortableStatCollector implements Collector {
  readonly name = 'stat';

  /**
   * Computed once: uptime comes in whole seconds on some systems, so now - uptime would flip
   * between two values and fire "host rebooted" rules (changes(node_boot_time_seconds) > 0).
   */
  private readonly bootTime: number;

  constructor(host: Host) {
    this.bootTime = Math.round(host.now() / 1000 - os.uptime());
  }

  collect(sink: MetricSink): void {
    sink.declared(BOOT_TIME).add(this.bootTime);
  }
}
