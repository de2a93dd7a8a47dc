import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { systeminformation } from './si';

const LABELS = ['device', 'fstype', 'mountpoint'];

/** node_filesystem_* from systeminformation (df on macOS, WMI on Windows); no inode counts there. */
export class PortableFilesystemCollector implements Collector {
  readonly name = 'filesystem';

  constructor(private readonly options: { mountPointsExclude: RegExp; fsTypesExclude: RegExp }) {}

  async collect(sink: MetricSink): Promise<void> {
    const filesystems = (await (await systeminformation()).fsSize()).filter(
      (fs) => !this.options.mountPointsExclude.test(fs.mount) && !this.options.fsTypesExclude.test(fs.type),
    );
    const size = sink.gauge('node_filesystem_size_bytes', 'Filesystem size in bytes.', LABELS);
    const free = sink.gauge('node_filesystem_free_bytes', 'Filesystem free space in bytes.', LABELS);
    const avail = sink.gauge(
      'node_filesystem_avail_bytes',
      'Filesystem space available to non-root users in bytes.',
      LABELS,
    );
    const readonly = sink.gauge('node_filesystem_readonly', 'Filesystem read-only status.', LABELS);
    for (const fs of filesystems) {
      const labels = [fs.fs, fs.type, fs.mount];
      size.add(fs.size, ...labels);
      free.add(fs.size - fs.used, ...labels);
      avail.add(fs.available, ...labels);
      if (fs.rw !== null) readonly.add(fs.rw ? 0 : 1, ...labels);
    }
  }
}
