import os from 'node:os';
import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { LOAD_FAMILIES } from '../families';

/** Load averages on macOS and the BSDs (Windows has none: the collector is not offered there). */
export class PortableLoadavgCollector implements Collector {
  readonly name = 'loadavg';

  collect(sink: MetricSink): void {
    const values = os.loadavg();
    LOAD_FAMILIES.forEach((family, i) => sink.declared(family).add(values[i]));
  }
}
