import type { Collector } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import { procPath, type Host } from '../host';
import { parseSoftnetStat } from '../procfs/softnet';

/** node_softnet_{processed,dropped,times_squeezed}_total{cpu} from /proc/net/softnet_stat. */
export class SoftnetCollector implements Collector {
  readonly name = 'softnet';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    const cpus = parseSoftnetStat(this.host.readText(procPath(this.host, 'net', 'softnet_stat')));
    const processed = sink.counter('node_softnet_processed_total', 'Number of processed packets', ['cpu']);
    const dropped = sink.counter('node_softnet_dropped_total', 'Number of dropped packets', ['cpu']);
    const squeezed = sink.counter(
      'node_softnet_times_squeezed_total',
      'Number of times processing packets ran out of quota',
      ['cpu'],
    );
    // The line number, as node_exporter 1.5 labels it (not the CPU id when CPUs are offline).
    cpus.forEach((stat, line) => {
      const cpu = String(line);
      processed.add(stat.processed, cpu);
      dropped.add(stat.dropped, cpu);
      squeezed.add(stat.timeSqueezed, cpu);
    });
  }
}

export const softnet = defineCollector({
  name: 'softnet',
  enabledByDefault: true,
  settings: {},
  create: (_, { host, platform }) => (platform === 'linux' ? new SoftnetCollector(host) : undefined),
});
