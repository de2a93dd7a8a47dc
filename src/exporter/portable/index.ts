import { optionalPattern, type ExporterConfig } from '../../config/exporter';
import type { Collector } from '../collector';
import type { Host } from '../host';
import { PortableCpuCollector } from './cpu';
import { PortableFilesystemCollector } from './filesystem';
import { PortableLoadavgCollector } from './loadavg';
import { PortableMeminfoCollector } from './meminfo';
import { PortableNetdevCollector } from './netdev';
import { PortableStatCollector } from './stat';

type Factories = Partial<Record<keyof ExporterConfig['collectors'], (() => Collector) | undefined>>;

/**
 * The collectors for macOS and Windows, replacing the Linux ones of the same name. What has no
 * source there (diskstats per device, netclass, pressure, os-release) is left out, not faked.
 */
export function portableCollectors(config: ExporterConfig, host: Host, platform: NodeJS.Platform): Factories {
  const c = config.collectors;
  return {
    cpu: () => new PortableCpuCollector(platform),
    meminfo: () => new PortableMeminfoCollector(),
    filesystem: () =>
      new PortableFilesystemCollector({
        mountPointsExclude: new RegExp(c.filesystem.mount_points_exclude),
        fsTypesExclude: new RegExp(c.filesystem.fs_types_exclude),
      }),
    netdev: () =>
      new PortableNetdevCollector({
        deviceInclude: optionalPattern(c.netdev.device_include),
        deviceExclude: optionalPattern(c.netdev.device_exclude),
      }),
    loadavg: platform === 'win32' ? undefined : () => new PortableLoadavgCollector(),
    stat: () => new PortableStatCollector(host),
    diskstats: undefined,
    netclass: undefined,
    pressure: undefined,
    os: undefined,
  };
}
