import type { Collector } from '../collector';
import { defineCollector } from '../descriptor';
import {
  checkDeviceFilter,
  DEVICE_FILTER_SETTINGS,
  deviceFilter,
  deviceFilterFlags,
  type DeviceFilter,
} from '../device-filter';
import type { MetricSink } from '../exposition';
import { networkDeviceFamily } from '../families';
import { procPath, sysPath, type Host } from '../host';
import { PortableNetdevCollector } from '../portable/netdev';
import { NET_DEV_COLUMNS, parseNetDev } from '../procfs/netdev';

/**
 * node_network_{receive,transmit}_*_total from /proc/net/dev, plus receive_nohandler, which
 * node_exporter gets over netlink and sysfs has in statistics/rx_nohandler.
 */
export class NetdevCollector implements Collector {
  readonly name = 'netdev';

  constructor(
    private readonly host: Host,
    private readonly devices: DeviceFilter,
  ) {}

  collect(sink: MetricSink): void {
    const devices = parseNetDev(this.host.readText(procPath(this.host, 'net', 'dev'))).filter(({ device }) =>
      this.devices(device),
    );
    const families = NET_DEV_COLUMNS.map((column) => sink.declared(networkDeviceFamily(column)));
    const nohandler = sink.declared(networkDeviceFamily('receive_nohandler'));
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

export const netdev = defineCollector({
  name: 'netdev',
  enabledByDefault: true,
  settings: DEVICE_FILTER_SETTINGS,
  check: checkDeviceFilter,
  flags: deviceFilterFlags('net devices'),
  create: (settings, { host, platform }) =>
    platform === 'linux'
      ? new NetdevCollector(host, deviceFilter(settings))
      : new PortableNetdevCollector(deviceFilter(settings)),
});
