import { z } from 'zod';
import { regex } from '../../config/types';
import type { Collector } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import { sysPath, type Host } from '../host';
import { NETCLASS_PROPERTIES, readNetClassDevice } from '../procfs/netclass';

export interface NetclassOptions {
  ignoredDevices: RegExp;
  /** Leave out node_network_speed_bytes where the driver reports -1 (unknown). */
  ignoreInvalidSpeed: boolean;
}

/** Link state and properties (up, carrier, mtu, speed, ...) from /sys/class/net/<device>/. */
export class NetclassCollector implements Collector {
  readonly name = 'netclass';

  constructor(
    private readonly host: Host,
    private readonly options: NetclassOptions,
  ) {}

  collect(sink: MetricSink): void {
    const root = sysPath(this.host, 'class', 'net');
    const devices = this.host
      .listDirs(root)
      .filter((device) => !this.options.ignoredDevices.test(device))
      .sort();
    const up = sink.gauge('node_network_up', "Value is 1 if operstate is 'up', 0 otherwise.", ['device']);
    const info = sink.gauge(
      'node_network_info',
      'Non-numeric data from /sys/class/net/<iface>, value is always 1.',
      ['address', 'broadcast', 'device', 'duplex', 'ifalias', 'operstate'],
    );
    const properties = NETCLASS_PROPERTIES.map((property) =>
      property.type === 'counter'
        ? sink.counter(`node_network_${property.metric}`, `Network device property: ${property.metric}`, [
            'device',
          ])
        : sink.gauge(`node_network_${property.metric}`, `Network device property: ${property.metric}`, [
            'device',
          ]),
    );
    for (const device of devices) {
      const read = (file: string): string | undefined => {
        try {
          return this.host.readText(`${root}/${device}/${file}`);
        } catch {
          // Many attributes fail with EINVAL while a link is down; node_exporter leaves them out.
          return undefined;
        }
      };
      const parsed = readNetClassDevice(read);
      up.add(parsed.operstate === 'up' ? 1 : 0, device);
      info.add(1, parsed.address, parsed.broadcast, device, parsed.duplex, parsed.ifalias, parsed.operstate);
      NETCLASS_PROPERTIES.forEach((property, i) => {
        const value = parsed.values[property.metric];
        if (value === undefined) return;
        if (property.metric === 'speed_bytes' && value < 0 && this.options.ignoreInvalidSpeed) return;
        properties[i].add(value, device);
      });
    }
  }
}

export const netclass = defineCollector({
  name: 'netclass',
  enabledByDefault: true,
  settings: {
    ignored_devices: regex().default('^$'),
    ignore_invalid_speed: z.boolean().default(false),
  },
  flags: [
    {
      flag: 'ignored-devices',
      key: 'ignored_devices',
      kind: 'regex',
      help: 'regexp of net devices to ignore for netclass',
    },
    {
      flag: 'ignore-invalid-speed',
      key: 'ignore_invalid_speed',
      kind: 'switch',
      help: 'ignore devices where the speed is invalid',
    },
  ],
  create: (settings, { host, platform }) =>
    platform === 'linux'
      ? new NetclassCollector(host, {
          ignoredDevices: new RegExp(settings.ignored_devices),
          ignoreInvalidSpeed: settings.ignore_invalid_speed,
        })
      : undefined,
});
