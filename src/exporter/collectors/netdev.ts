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
 *
 * The rx_nohandler files are read through descriptors kept between scrapes. A renamed device
 * keeps its /sys directory under the new name, so a kept descriptor reads the right device only
 * while every name still names the same one: /proc/net/dev lists devices in the kernel's order
 * (of registration, not of names), and a rename, two names swapped, or a device gone and another
 * come under its name anywhere but last changes that list, whereupon the descriptors are closed
 * and the files opened anew. A device gone and one come under its name last leaves the list as
 * it was, but the kept descriptor of a device that is gone fails to read and is opened anew.
 */
export class NetdevCollector implements Collector {
  readonly name = 'netdev';
  /** The names /proc/net/dev listed last, in its order. */
  private listed = '';

  constructor(
    private readonly host: Host,
    private readonly devices: DeviceFilter,
  ) {}

  collect(sink: MetricSink): void {
    const all = parseNetDev(this.host.readText(procPath(this.host, 'net', 'dev')));
    const classNet = sysPath(this.host, 'class', 'net');
    const listed = all.map(({ device }) => device).join('/');
    if (listed !== this.listed) this.host.forget(classNet);
    this.listed = listed;
    const families = NET_DEV_COLUMNS.map((column) => sink.declared(networkDeviceFamily(column)));
    const nohandler = sink.declared(networkDeviceFamily('receive_nohandler'));
    for (const { device, values } of all) {
      if (!this.devices(device)) continue;
      for (let i = 0; i < families.length; i++) families[i].add(values[i], device);
      const count = this.readNumber(`${classNet}/${device}/statistics/rx_nohandler`);
      if (count !== undefined) nohandler.add(count, device);
    }
  }

  private readNumber(file: string): number | undefined {
    try {
      const value = Number(this.host.readKept(file).trim());
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
