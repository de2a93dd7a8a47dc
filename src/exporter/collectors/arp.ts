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
import { procPath, type Host } from '../host';
import { parseArpEntries } from '../procfs/arp';

/** node_arp_entries{device} from /proc/net/arp. */
export class ArpCollector implements Collector {
  readonly name = 'arp';

  constructor(
    private readonly host: Host,
    private readonly devices: DeviceFilter,
  ) {}

  collect(sink: MetricSink): void {
    const entries = sink.gauge('node_arp_entries', 'ARP entries by device', ['device']);
    for (const [device, count] of parseArpEntries(this.host.readText(procPath(this.host, 'net', 'arp')))) {
      if (this.devices(device)) entries.add(count, device);
    }
  }
}

export const arp = defineCollector({
  name: 'arp',
  enabledByDefault: true,
  settings: DEVICE_FILTER_SETTINGS,
  check: checkDeviceFilter,
  flags: deviceFilterFlags('arp devices'),
  create: (settings, { host, platform }) =>
    platform === 'linux' ? new ArpCollector(host, deviceFilter(settings)) : undefined,
});
