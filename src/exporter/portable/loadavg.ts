import os from 'node:os';
import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';

/** Load averages on macOS and the BSDs (Windows has none: the collector is not offered there). */
export class PortableLoadavgCollector implements Collector {
  readonly name = 'loadavg';

  collect(sink: MetricSink): void {
    const [load1, load5, load15] = os.loadavg();
    sink.gauge('node_load1', '1m load average.').add(load1);
    sink.gauge('node_load5', '5m load average.').add(load5);
    sink.gauge('node_load15', '15m load average.').add(load15);
  }
}
