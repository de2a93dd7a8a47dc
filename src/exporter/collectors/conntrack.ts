import { NoDataError, type Collector } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import { procPath, readNumber, type Host } from '../host';
import { parseConntrackStat } from '../procfs/conntrack';

/** The per-CPU counters of /proc/net/stat/nf_conntrack node_exporter sums, with its help. */
const STATISTICS: ReadonlyArray<readonly [column: string, help: string]> = [
  ['found', 'Number of searched entries which were successful.'],
  ['invalid', 'Number of packets seen which can not be tracked.'],
  ['ignore', 'Number of packets seen which are already connected to a conntrack entry.'],
  ['insert', 'Number of entries inserted into the list.'],
  ['insert_failed', 'Number of entries for which list insertion was attempted but failed.'],
  ['drop', 'Number of packets dropped due to conntrack failure.'],
  [
    'early_drop',
    'Number of dropped conntrack entries to make room for new ones, if maximum table size was reached.',
  ],
  ['search_restart', 'Number of conntrack table lookups which had to be restarted due to hashtable resizes.'],
];

/** node_nf_conntrack_entries, _entries_limit and _stat_* (gauges, as node_exporter 1.5 has them). */
export class ConntrackCollector implements Collector {
  readonly name = 'conntrack';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    try {
      this.collectTable(sink);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NoDataError('conntrack is not loaded (no nf_conntrack files)');
      }
      throw err;
    }
  }

  private collectTable(sink: MetricSink): void {
    const netfilter = (name: string) =>
      readNumber(this.host, procPath(this.host, 'sys', 'net', 'netfilter', name));
    const entries = netfilter('nf_conntrack_count');
    const limit = netfilter('nf_conntrack_max');
    const stats = parseConntrackStat(this.host.readText(procPath(this.host, 'net', 'stat', 'nf_conntrack')));
    sink
      .gauge(
        'node_nf_conntrack_entries',
        'Number of currently allocated flow entries for connection tracking.',
      )
      .add(entries);
    sink.gauge('node_nf_conntrack_entries_limit', 'Maximum size of connection tracking table.').add(limit);
    for (const [column, help] of STATISTICS) {
      sink.gauge(`node_nf_conntrack_stat_${column}`, help).add(stats.get(column) ?? 0);
    }
  }
}

export const conntrack = defineCollector({
  name: 'conntrack',
  enabledByDefault: true,
  settings: {},
  create: (_, { host, platform }) => (platform === 'linux' ? new ConntrackCollector(host) : undefined),
});
