import type { Collector } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import { procPath, readIfExists, type Host } from '../host';
import { parseSockstat, type Sockstat } from '../procfs/sockstat';

/** node_sockstat_<PROTOCOL>_<state> from /proc/net/sockstat and sockstat6, and sockets_used. */
export class SockstatCollector implements Collector {
  readonly name = 'sockstat';

  constructor(private readonly host: Host) {}

  async collect(sink: MetricSink): Promise<void> {
    const ipv4 = parseSockstat(this.host.readText(procPath(this.host, 'net', 'sockstat')));
    const pageSize = await this.host.pageSize();
    if (ipv4.used !== undefined) {
      sink.gauge('node_sockstat_sockets_used', 'Number of IPv4 sockets in use.').add(ipv4.used);
    }
    addProtocols(sink, ipv4, pageSize);
    // No sockstat6 where IPv6 is disabled.
    const ipv6 = readIfExists(this.host, procPath(this.host, 'net', 'sockstat6'));
    if (ipv6 !== undefined) addProtocols(sink, parseSockstat(ipv6), pageSize);
  }
}

function addProtocols(sink: MetricSink, stat: Sockstat, pageSize: number): void {
  const add = (protocol: string, state: string, value: number) =>
    sink
      .gauge(`node_sockstat_${protocol}_${state}`, `Number of ${protocol} sockets in state ${state}.`)
      .add(value);
  for (const { protocol, fields } of stat.protocols) {
    for (const [state, value] of fields) add(protocol, state, value);
    // `mem` is in pages; node_exporter adds it in bytes too.
    const pages = fields.find(([state]) => state === 'mem')?.[1];
    if (pages !== undefined) add(protocol, 'mem_bytes', pages * pageSize);
  }
}

export const sockstat = defineCollector({
  name: 'sockstat',
  enabledByDefault: true,
  settings: {},
  create: (_, { host, platform }) => (platform === 'linux' ? new SockstatCollector(host) : undefined),
});
