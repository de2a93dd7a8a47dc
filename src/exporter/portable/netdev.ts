import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { systeminformation } from './si';

/** node_network_{receive,transmit}_{bytes,errs,drop}_total from systeminformation. */
export class PortableNetdevCollector implements Collector {
  readonly name = 'netdev';

  constructor(private readonly options: { deviceInclude?: RegExp; deviceExclude?: RegExp }) {}

  async collect(sink: MetricSink): Promise<void> {
    const { deviceInclude, deviceExclude } = this.options;
    const stats = (await (await systeminformation()).networkStats('*')).filter(({ iface }) =>
      deviceInclude ? deviceInclude.test(iface) : !deviceExclude?.test(iface),
    );
    const counter = (column: string) =>
      sink.counter(`node_network_${column}_total`, `Network device statistic ${column}.`, ['device']);
    const columns = [
      [counter('receive_bytes'), 'rx_bytes'],
      [counter('receive_errs'), 'rx_errors'],
      [counter('receive_drop'), 'rx_dropped'],
      [counter('transmit_bytes'), 'tx_bytes'],
      [counter('transmit_errs'), 'tx_errors'],
      [counter('transmit_drop'), 'tx_dropped'],
    ] as const;
    for (const stat of stats) {
      for (const [family, key] of columns) family.add(stat[key], stat.iface);
    }
  }
}
