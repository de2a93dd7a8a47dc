import { z } from 'zod';
import { duration, listenAddress, regex } from './types';

/** node_exporter's defaults, so that its dashboards and alert rules see the same filesystems and devices. */
export const EXPORTER_DEFAULTS = {
  mountPointsExclude:
    '^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)',
  fsTypesExclude:
    '^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$',
  diskDeviceExclude: '^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$',
  netclassIgnoredDevices: '^$',
} as const;

/** An optional include/exclude pattern of the config, compiled (the schema has checked it). */
export function optionalPattern(source: string | undefined): RegExp | undefined {
  return source === undefined ? undefined : new RegExp(source);
}

export const COLLECTOR_NAMES = [
  'cpu',
  'meminfo',
  'filesystem',
  'diskstats',
  'netdev',
  'netclass',
  'loadavg',
  'stat',
  'pressure',
  'uname',
  'time',
  'os',
  'hostinfo',
] as const;
export type CollectorName = (typeof COLLECTOR_NAMES)[number];

const enabled = () => z.boolean().default(true);

function exclusive<T extends { device_include?: string; device_exclude?: string }>(
  value: T,
  ctx: z.RefinementCtx,
) {
  if (value.device_include !== undefined && value.device_exclude !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['device_include'],
      message: 'device_include and device_exclude are mutually exclusive',
    });
  }
}

const simpleCollector = () => z.object({ enabled: enabled() }).strict().prefault({});

const collectorsSchema = z
  .object({
    cpu: simpleCollector(),
    meminfo: simpleCollector(),
    filesystem: z
      .object({
        enabled: enabled(),
        mount_points_exclude: regex().default(EXPORTER_DEFAULTS.mountPointsExclude),
        fs_types_exclude: regex().default(EXPORTER_DEFAULTS.fsTypesExclude),
        /** statfs slower than this marks a mount as stuck (device_error 1) until it answers. */
        mount_timeout: duration().default(2000),
      })
      .strict()
      .prefault({}),
    diskstats: z
      .object({
        enabled: enabled(),
        device_include: regex().optional(),
        /** Default (when device_include is not set): node_exporter's partition and loop pattern. */
        device_exclude: regex().optional(),
      })
      .strict()
      .superRefine(exclusive)
      .prefault({}),
    netdev: z
      .object({ enabled: enabled(), device_include: regex().optional(), device_exclude: regex().optional() })
      .strict()
      .superRefine(exclusive)
      .prefault({}),
    netclass: z
      .object({
        enabled: enabled(),
        ignored_devices: regex().default(EXPORTER_DEFAULTS.netclassIgnoredDevices),
        ignore_invalid_speed: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    loadavg: simpleCollector(),
    stat: simpleCollector(),
    pressure: simpleCollector(),
    uname: simpleCollector(),
    time: simpleCollector(),
    os: simpleCollector(),
    hostinfo: simpleCollector(),
  })
  .strict();

/** The `exporter:` section. */
export const exporterSchema = z
  .object({
    listen: listenAddress().default(':9110'),
    /** A collector still running after this long reports success 0; the scrape answers without it. */
    collector_timeout: duration().default(5000),
    paths: z
      .object({
        procfs: z.string().min(1).default('/proc'),
        sysfs: z.string().min(1).default('/sys'),
        rootfs: z.string().min(1).default('/'),
        udev_data: z.string().min(1).default('/run/udev/data'),
      })
      .strict()
      .prefault({}),
    collectors: collectorsSchema.prefault({}),
  })
  .strict();

export type ExporterConfig = z.infer<typeof exporterSchema>;
