import path from 'node:path';
import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { procPath, type Host } from '../host';
import { parseDiskstats } from '../procfs/diskstats';
import { parseUdevProperties } from '../procfs/udev';

export interface DiskstatsOptions {
  /** Devices to report; when absent, every device not matching `deviceExclude`. */
  deviceInclude?: RegExp;
  deviceExclude: RegExp;
  /** udev's database (`/run/udev/data`), for node_disk_info's model, serial and path. */
  udevDataPath: string;
}

const SECTOR_BYTES = 512;

/** node_disk_* from /proc/diskstats. */
export class DiskstatsCollector implements Collector {
  readonly name = 'diskstats';

  constructor(
    private readonly host: Host,
    private readonly options: DiskstatsOptions,
  ) {}

  collect(sink: MetricSink): void {
    const { deviceInclude, deviceExclude } = this.options;
    const disks = parseDiskstats(this.host.readText(procPath(this.host, 'diskstats'))).filter((disk) =>
      deviceInclude ? deviceInclude.test(disk.device) : !deviceExclude.test(disk.device),
    );
    const d = ['device'];
    const counter = (name: string, help: string) => sink.counter(`node_disk_${name}`, help, d);
    const readsCompleted = counter(
      'reads_completed_total',
      'The total number of reads completed successfully.',
    );
    const readsMerged = counter('reads_merged_total', 'The total number of reads merged.');
    const readBytes = counter('read_bytes_total', 'The total number of bytes read successfully.');
    const readTime = counter('read_time_seconds_total', 'The total number of seconds spent by all reads.');
    const writesCompleted = counter(
      'writes_completed_total',
      'The total number of writes completed successfully.',
    );
    const writesMerged = counter('writes_merged_total', 'The number of writes merged.');
    const writtenBytes = counter('written_bytes_total', 'The total number of bytes written successfully.');
    const writeTime = counter(
      'write_time_seconds_total',
      'This is the total number of seconds spent by all writes.',
    );
    const ioNow = sink.gauge('node_disk_io_now', 'The number of I/Os currently in progress.', d);
    const ioTime = counter('io_time_seconds_total', 'Total seconds spent doing I/Os.');
    const ioTimeWeighted = counter(
      'io_time_weighted_seconds_total',
      'The weighted # of seconds spent doing I/Os.',
    );
    const discardsCompleted = counter(
      'discards_completed_total',
      'The total number of discards completed successfully.',
    );
    const discardsMerged = counter('discards_merged_total', 'The total number of discards merged.');
    const discardedSectors = counter(
      'discarded_sectors_total',
      'The total number of sectors discarded successfully.',
    );
    const discardTime = counter(
      'discard_time_seconds_total',
      'This is the total number of seconds spent by all discards.',
    );
    const flushes = counter(
      'flush_requests_total',
      'The total number of flush requests completed successfully',
    );
    const flushTime = counter(
      'flush_requests_time_seconds_total',
      'This is the total number of seconds spent by all flush requests.',
    );
    const info = sink.gauge('node_disk_info', 'Info of /sys/block/<block_device>.', [
      'device',
      'major',
      'minor',
      'model',
      'path',
      'revision',
      'serial',
      'wwn',
    ]);
    for (const disk of disks) {
      const { device } = disk;
      readsCompleted.add(disk.readsCompleted, device);
      readsMerged.add(disk.readsMerged, device);
      readBytes.add(disk.sectorsRead * SECTOR_BYTES, device);
      readTime.add(disk.readTimeMs / 1000, device);
      writesCompleted.add(disk.writesCompleted, device);
      writesMerged.add(disk.writesMerged, device);
      writtenBytes.add(disk.sectorsWritten * SECTOR_BYTES, device);
      writeTime.add(disk.writeTimeMs / 1000, device);
      ioNow.add(disk.ioInProgress, device);
      ioTime.add(disk.ioTimeMs / 1000, device);
      ioTimeWeighted.add(disk.weightedIoTimeMs / 1000, device);
      if (disk.discards) {
        discardsCompleted.add(disk.discards.completed, device);
        discardsMerged.add(disk.discards.merged, device);
        discardedSectors.add(disk.discards.sectors, device);
        discardTime.add(disk.discards.timeMs / 1000, device);
      }
      if (disk.flushes) {
        flushes.add(disk.flushes.completed, device);
        flushTime.add(disk.flushes.timeMs / 1000, device);
      }
      const udev = this.udevProperties(disk.major, disk.minor);
      info.add(
        1,
        device,
        disk.major,
        disk.minor,
        udev.ID_MODEL ?? '',
        udev.ID_PATH ?? '',
        udev.ID_REVISION ?? '',
        udev.ID_SERIAL_SHORT ?? '',
        udev.ID_WWN ?? '',
      );
    }
  }

  private udevProperties(major: string, minor: string): Record<string, string> {
    try {
      return parseUdevProperties(
        this.host.readText(path.join(this.options.udevDataPath, `b${major}:${minor}`)),
      );
    } catch {
      // No udev (containers, minimal VMs): node_disk_info is still reported, with empty labels.
      return {};
    }
  }
}
