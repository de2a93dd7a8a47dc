import type { Collector } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import { procPath, type Host } from '../host';
import { parseFileNr } from '../procfs/filefd';

/** node_filefd_allocated and node_filefd_maximum from /proc/sys/fs/file-nr. */
export class FilefdCollector implements Collector {
  readonly name = 'filefd';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    const { allocated, maximum } = parseFileNr(
      this.host.readText(procPath(this.host, 'sys', 'fs', 'file-nr')),
    );
    sink.gauge('node_filefd_allocated', 'File descriptor statistics: allocated.').add(allocated);
    sink.gauge('node_filefd_maximum', 'File descriptor statistics: maximum.').add(maximum);
  }
}

export const filefd = defineCollector({
  name: 'filefd',
  enabledByDefault: true,
  settings: {},
  create: (_, { host, platform }) => (platform === 'linux' ? new FilefdCollector(host) : undefined),
});
