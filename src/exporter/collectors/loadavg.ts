import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { LOAD_FAMILIES } from '../families';
import { procPath, type Host } from '../host';
import { parseLoadavg } from '../procfs/loadavg';
import { defineCollector } from '../descriptor';
import { PortableLoadavgCollector } from '../portable/loadavg';

export class LoadavgCollector implements Collector {
  readonly name = 'loadavg';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    const load = parseLoadavg(this.host.readText(procPath(this.host, 'loadavg')));
    const values = [load.load1, load.load5, load.load15];
    LOAD_FAMILIES.forEach((family, i) => sink.declared(family).add(values[i]));
  }
}

export const loadavg = defineCollector({
  name: 'loadavg',
  enabledByDefault: true,
  settings: {},
  // Windows has no load average: the collector is not offered there.
  create: (_, { host, platform }) =>
    platform === 'linux'
      ? new LoadavgCollector(host)
      : platform === 'win32'
        ? undefined
        : new PortableLoadavgCollector(),
});
