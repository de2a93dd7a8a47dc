import { NoDataError, type Collector } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import { procPath, readIfExists, type Host } from '../host';
import { parseUdpQueues } from '../procfs/udp';

/** node_udp_queues{ip="v4|v6",queue="tx|rx"}: kernel memory held by queued UDP datagrams. */
export class UdpQueuesCollector implements Collector {
  readonly name = 'udp_queues';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    const queues = sink.gauge(
      'node_udp_queues',
      'Number of allocated memory in the kernel for UDP datagrams in bytes.',
      ['ip', 'queue'],
    );
    let found = false;
    for (const [file, ip] of [
      ['udp', 'v4'],
      ['udp6', 'v6'],
    ] as const) {
      const text = readIfExists(this.host, procPath(this.host, 'net', file));
      if (text === undefined) continue;
      found = true;
      const { tx, rx } = parseUdpQueues(text);
      queues.add(tx, ip, 'tx');
      queues.add(rx, ip, 'rx');
    }
    if (!found) throw new NoDataError('no /proc/net/udp or udp6');
  }
}

export const udpQueues = defineCollector({
  name: 'udp_queues',
  enabledByDefault: true,
  settings: {},
  create: (_, { host, platform }) => (platform === 'linux' ? new UdpQueuesCollector(host) : undefined),
});
