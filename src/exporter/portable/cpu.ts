import os from 'node:os';
import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { CPU_SECONDS } from '../families';

/** node_cpu_seconds_total from the OS's cumulative per-CPU times (macOS: user, nice, system, idle). */
export class PortableCpuCollector implements Collector {
  readonly name = 'cpu';

  constructor(private readonly platform: NodeJS.Platform = process.platform) {}

  collect(sink: MetricSink): void {
    const seconds = sink.declared(CPU_SECONDS);
    os.cpus().forEach(({ times }, i) => {
      const cpu = String(i);
      seconds.add(times.user / 1000, cpu, 'user');
      seconds.add(times.nice / 1000, cpu, 'nice');
      seconds.add(times.sys / 1000, cpu, 'system');
      seconds.add(times.idle / 1000, cpu, 'idle');
      // Only Windows accounts interrupt time separately; elsewhere the field is always 0.
      if (this.platform === 'win32') seconds.add(times.irq / 1000, cpu, 'irq');
    });
  }
}
