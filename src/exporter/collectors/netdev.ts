import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { procPath, sysPath, type Host } from '../host';
import { NET_DEV_COLUMNS, parseNetDev } from '../procfs/netdev';

export interface NetdevOptions {
  /** Devices to report; when absent, every device not matching `deviceExclude`. */
  deviceInclude?: RegExp;
  deviceExclude?: RegExp;
}

/**
 * node_network_{receive,transmit}_*_total from /proc/net/dev, plus receive_nohandler, which
 * node_exporter gets over netlink and sysfs has in statistics/rx_nohandler.
 */
export class NetdevCollector implements Collector {
  readonly name = 'netdev';

  constructor(
    private readonly host: Host,
    private readonly options: NetdevOptions,
  ) {}

  collect(sink: MetricSink): void {
    const { deviceInclude, deviceExclude } = this.options;
    const devices = parseNetDev(this.host.readText(procPath(this.host, 'net', 'dev'))).filter(({ device }) =>
      deviceInclude ? deviceInclude.test(device) : !deviceExclude?.test(device),
    );
    const families = NET_DEV_COLUMNS.map((column) =>
      sink.counter(`node_network_${column}_total`, `Network device statistic ${column}.`, ['device']),
    );
    const nohandler = sink.counter(
      'node_network_receive_nohandler_total',
      'Network device statistic receive_nohandler.',
      ['device'],
    );
    for (const { device, values } of devices) {
      for (let i = 0; i < families.length; i++) families[i].add(values[i], device);
      const count = this.readNumber(sysPath(this.host, 'class', 'net', device, 'statistics', 'rx_nohandler'));
      if (count !== undefined) nohandler.add(count, device);
    }
  }

  private readNumber(file: string): number | undefined {
    try {
      const value = Number(this.host.readText(file).trim());
      return Number.isNaN(value) ? undefined : value;
    } catch {
      return undefined;
    }
  }
}
