import path from 'node:path';
import type { Collector } from '../collector';
import { defineCollector } from '../descriptor';
import {
  checkDeviceFilter,
  DEVICE_FILTER_SETTINGS,
  deviceFilter,
  deviceFilterFlags,
  type DeviceFilter,
} from '../device-filter';
import type { FamilyBuilder, MetricSink } from '../exposition';
import { procPath, type Host } from '../host';
import { parseDiskstats, type DiskStats } from '../procfs/diskstats';
import { parseUdevProperties } from '../procfs/udev';

export interface DiskstatsOptions {
  devices: DeviceFilter;
  /** udev's database (`/run/udev/data`), for node_disk_info's model, serial and path. */
  udevDataPath: string;
}

/** node_exporter's default: partitions, loop and RAM disks are left out (when no include is set). */
export const DISK_DEVICE_EXCLUDE = '^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$';

const SECTOR_BYTES = 512;

/** Each node_disk_* counter or gauge: its name, help and value (undefined: not on this kernel). */
const DISK_STATISTICS: ReadonlyArray<{
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  value: (disk: DiskStats) => number | undefined;
}> = [
  {
    name: 'node_disk_reads_completed_total',
    help: 'The total number of reads completed successfully.',
    type: 'counter',
    value: (d) => d.readsCompleted,
  },
  {
    name: 'node_disk_reads_merged_total',
    help: 'The total number of reads merged.',
    type: 'counter',
    value: (d) => d.readsMerged,
  },
  {
    name: 'node_disk_read_bytes_total',
    help: 'The total number of bytes read successfully.',
    type: 'counter',
    value: (d) => d.sectorsRead * SECTOR_BYTES,
  },
  {
    name: 'node_disk_read_time_seconds_total',
    help: 'The total number of seconds spent by all reads.',
    type: 'counter',
    value: (d) => d.readTimeMs / 1000,
  },
  {
    name: 'node_disk_writes_completed_total',
    help: 'The total number of writes completed successfully.',
    type: 'counter',
    value: (d) => d.writesCompleted,
  },
  {
    name: 'node_disk_writes_merged_total',
    help: 'The number of writes merged.',
    type: 'counter',
    value: (d) => d.writesMerged,
  },
  {
    name: 'node_disk_written_bytes_total',
    help: 'The total number of bytes written successfully.',
    type: 'counter',
    value: (d) => d.sectorsWritten * SECTOR_BYTES,
  },
  {
    name: 'node_disk_write_time_seconds_total',
    help: 'This is the total number of seconds spent by all writes.',
    type: 'counter',
    value: (d) => d.writeTimeMs / 1000,
  },
  {
    name: 'node_disk_io_now',
    help: 'The number of I/Os currently in progress.',
    type: 'gauge',
    value: (d) => d.ioInProgress,
  },
  {
    name: 'node_disk_io_time_seconds_total',
    help: 'Total seconds spent doing I/Os.',
    type: 'counter',
    value: (d) => d.ioTimeMs / 1000,
  },
  {
    name: 'node_disk_io_time_weighted_seconds_total',
    help: 'The weighted # of seconds spent doing I/Os.',
    type: 'counter',
    value: (d) => d.weightedIoTimeMs / 1000,
  },
  {
    name: 'node_disk_discards_completed_total',
    help: 'The total number of discards completed successfully.',
    type: 'counter',
    value: (d) => d.discards?.completed,
  },
  {
    name: 'node_disk_discards_merged_total',
    help: 'The total number of discards merged.',
    type: 'counter',
    value: (d) => d.discards?.merged,
  },
  {
    name: 'node_disk_discarded_sectors_total',
    help: 'The total number of sectors discarded successfully.',
    type: 'counter',
    value: (d) => d.discards?.sectors,
  },
  {
    name: 'node_disk_discard_time_seconds_total',
    help: 'This is the total number of seconds spent by all discards.',
    type: 'counter',
    value: (d) => (d.discards ? d.discards.timeMs / 1000 : undefined),
  },
  {
    name: 'node_disk_flush_requests_total',
    help: 'The total number of flush requests completed successfully',
    type: 'counter',
    value: (d) => d.flushes?.completed,
  },
  {
    name: 'node_disk_flush_requests_time_seconds_total',
    help: 'This is the total number of seconds spent by all flush requests.',
    type: 'counter',
    value: (d) => (d.flushes ? d.flushes.timeMs / 1000 : undefined),
  },
];

const DEVICE_LABEL = ['device'];
const INFO_LABELS = ['device', 'major', 'minor', 'model', 'path', 'revision', 'serial', 'wwn'];

/** node_disk_* from /proc/diskstats, node_disk_info from udev's database. */
export class DiskstatsCollector implements Collector {
  readonly name = 'diskstats';

  constructor(
    private readonly host: Host,
    private readonly options: DiskstatsOptions,
  ) {}

  collect(sink: MetricSink): void {
    const disks = this.disks();
    this.addStatistics(sink, disks);
    this.addInfo(sink, disks);
  }

  private disks(): DiskStats[] {
    const text = this.host.readText(procPath(this.host, 'diskstats'));
    return parseDiskstats(text).filter((disk) => this.options.devices(disk.device));
  }

  private addStatistics(sink: MetricSink, disks: readonly DiskStats[]): void {
    for (const statistic of DISK_STATISTICS) {
      const family: FamilyBuilder = sink[statistic.type](statistic.name, statistic.help, DEVICE_LABEL);
      for (const disk of disks) {
        const value = statistic.value(disk);
        if (value !== undefined) family.add(value, disk.device);
      }
    }
  }

  private addInfo(sink: MetricSink, disks: readonly DiskStats[]): void {
    const info = sink.gauge('node_disk_info', 'Info of /sys/block/<block_device>.', INFO_LABELS);
    // No udev (containers, minimal VMs): node_disk_info is still reported, with empty labels,
    // and no file is tried per disk (a failed open costs an error object and its stack trace).
    const withUdev = this.host.exists(this.options.udevDataPath);
    for (const { device, major, minor } of disks) {
      const udev = withUdev ? this.udevProperties(major, minor) : {};
      info.add(
        1,
        device,
        major,
        minor,
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
      // A disk udev has not recorded (yet).
      return {};
    }
  }
}

export const diskstats = defineCollector({
  name: 'diskstats',
  enabledByDefault: true,
  /** Without device_include, device_exclude defaults to node_exporter's partition and loop pattern. */
  settings: DEVICE_FILTER_SETTINGS,
  check: checkDeviceFilter,
  flags: deviceFilterFlags('diskstats devices'),
  create: (settings, { host, platform, config }) =>
    platform === 'linux'
      ? new DiskstatsCollector(host, {
          devices: deviceFilter(settings, DISK_DEVICE_EXCLUDE),
          udevDataPath: config.paths.udev_data,
        })
      : undefined,
});
