import { regex } from '../../config/types';
import type { Collector } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import { procPath, readIfExists, type Host } from '../host';
import { parseNetstat, parseSnmp6, type NetStatistics } from '../procfs/netstat';

/** node_exporter's default set of netstat fields. */
export const NETSTAT_FIELDS =
  '^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$';

/**
 * node_netstat_<Protocol>_<Field> (untyped, as node_exporter) from /proc/net/netstat, /proc/net/snmp
 * and, where IPv6 is on, /proc/net/snmp6.
 */
export class NetstatCollector implements Collector {
  readonly name = 'netstat';

  constructor(
    private readonly host: Host,
    private readonly fields: RegExp,
  ) {}

  collect(sink: MetricSink): void {
    for (const [key, value] of this.statistics()) {
      if (!this.fields.test(key)) continue;
      sink.untyped(`node_netstat_${key}`, `Statistic ${key.replace('_', '')}.`).add(value);
    }
  }

  private statistics(): NetStatistics {
    const read = (name: string) => this.host.readText(procPath(this.host, 'net', name));
    const statistics = parseNetstat(read('snmp'), parseNetstat(read('netstat')));
    // No snmp6 where IPv6 is disabled.
    const snmp6 = readIfExists(this.host, procPath(this.host, 'net', 'snmp6'));
    return snmp6 === undefined ? statistics : parseSnmp6(snmp6, statistics);
  }
}

export const netstat = defineCollector({
  name: 'netstat',
  enabledByDefault: true,
  settings: { fields: regex().default(NETSTAT_FIELDS) },
  flags: [
    {
      flag: 'fields',
      key: 'fields',
      kind: 'regex',
      help: 'regexp of fields to return for netstat collector',
    },
  ],
  create: (settings, { host, platform }) =>
    platform === 'linux' ? new NetstatCollector(host, new RegExp(settings.fields)) : undefined,
});
