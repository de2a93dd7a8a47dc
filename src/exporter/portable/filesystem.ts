import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { FILESYSTEM_FAMILIES } from '../families';
import { systeminformation } from './si';

/** node_filesystem_* from systeminformation (df on macOS, WMI on Windows); no inode counts there. */
export class PortableFilesystemCollector implements Collector {
  readonly name = 'filesystem';

  constructor(private readonly options: { mountPointsExclude: RegExp; fsTypesExclude: RegExp }) {}

  async collect(sink: MetricSink): Promise<void> {
    const filesystems = (await (await systeminformation()).fsSize()).filter(
      (fs) => !this.options.mountPointsExclude.test(fs.mount) && !this.options.fsTypesExclude.test(fs.type),
    );
    const size = sink.declared(FILESYSTEM_FAMILIES.size);
    const free = sink.declared(FILESYSTEM_FAMILIES.free);
    const avail = sink.declared(FILESYSTEM_FAMILIES.avail);
    const readonly = sink.declared(FILESYSTEM_FAMILIES.readonly);
    for (const fs of filesystems) {
      const labels = [fs.fs, fs.type, fs.mount];
      size.add(fs.size, ...labels);
      free.add(fs.size - fs.used, ...labels);
      avail.add(fs.available, ...labels);
      if (fs.rw !== null) readonly.add(fs.rw ? 0 : 1, ...labels);
    }
  }
}
