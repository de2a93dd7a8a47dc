import type { Collector } from '../collector';
import type { DeviceFilter } from '../device-filter';
import type { MetricSink } from '../exposition';
import { networkDeviceFamily } from '../families';
import { systeminformation } from './si';

/** systeminformation's field for each node_network_<column>_total it can fill. */
const COLUMNS = [
  ['receive_bytes', 'rx_bytes'],
  ['receive_errs', 'rx_errors'],
  ['receive_drop', 'rx_dropped'],
  ['transmit_bytes', 'tx_bytes'],
  ['transmit_errs', 'tx_errors'],
  ['transmit_drop', 'tx_dropped'],
] as const;

/** node_network_{receive,transmit}_{bytes,errs,drop}_total from systeminformation. */
export class PortableNetdevCollector implements Collector {
  readonly name = 'netdev';

  constructor(private readonly devices: DeviceFilter) {}

  async collect(sink: MetricSink): Promise<void> {
    const stats = (await (await systeminformation()).networkStats('*')).filter(({ iface }) =>
      this.devices(iface),
    );
    const families = COLUMNS.map(
      ([column, key]) => [sink.declared(networkDeviceFamily(column)), key] as const,
    );
    for (const stat of stats) {
      for (const [family, key] of families) family.add(stat[key], stat.iface);
    }
  }
}
