import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { procPath, type Host } from '../host';
import { defineCollector } from '../descriptor';

/** node_uname_info: what uname(2) says, as the labels Grafana's node dashboards select hosts by. */
export class UnameCollector implements Collector {
  readonly name = 'uname';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    const uname = this.host.uname();
    sink
      .gauge('node_uname_info', 'Labeled system information as provided by the uname system call.', [
        'domainname',
        'machine',
        'nodename',
        'release',
        'sysname',
        'version',
      ])
      .add(1, this.domainName(), uname.machine, uname.nodename, uname.release, uname.sysname, uname.version);
  }

  private domainName(): string {
    try {
      return this.host.readText(procPath(this.host, 'sys', 'kernel', 'domainname')).trim();
    } catch {
      return '(none)';
    }
  }
}

export const uname = defineCollector({
  name: 'uname',
  enabledByDefault: true,
  settings: {},
  create: (_, { host }) => new UnameCollector(host),
});
