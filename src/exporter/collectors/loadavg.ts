import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { procPath, type Host } from '../host';
import { parseLoadavg } from '../procfs/loadavg';

export class LoadavgCollector implements Collector {
  readonly name = 'loadavg';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    const load = parseLoadavg(this.host.readText(procPath(this.host, 'loadavg')));
    sink.gauge('node_load1', '1m load average.').add(load.load1);
    sink.gauge('node_load5', '5m load average.').add(load.load5);
    sink.gauge('node_load15', '15m load average.').add(load.load15);
  }
}
