import type { Command } from 'commander';
import { parseDuration } from '../common/duration';
import { errorMessage, UserError } from '../common/errors';
import { COLLECTOR_NAMES, type ExporterConfig } from '../config/exporter';
import { prepare, reportConfigOk, runUntilSignal, withCommonOptions, type CommonOptions } from './common';

type Flags = CommonOptions & Record<string, string | boolean | undefined>;

/** node_exporter's flags that take a value, with where each goes in the `exporter:` config section. */
const VALUE_FLAGS: ReadonlyArray<{
  flag: string;
  key: string;
  help: string;
  kind: 'path' | 'regex' | 'duration';
  apply: (config: ExporterConfig, value: string & number) => void;
}> = [
  {
    flag: 'path.procfs',
    key: 'path.procfs',
    help: 'procfs mountpoint',
    kind: 'path',
    apply: (c, v) => void (c.paths.procfs = v),
  },
  {
    flag: 'path.sysfs',
    key: 'path.sysfs',
    help: 'sysfs mountpoint',
    kind: 'path',
    apply: (c, v) => void (c.paths.sysfs = v),
  },
  {
    flag: 'path.rootfs',
    key: 'path.rootfs',
    help: 'rootfs mountpoint',
    kind: 'path',
    apply: (c, v) => void (c.paths.rootfs = v),
  },
  {
    flag: 'path.udev.data',
    key: 'path.udev.data',
    help: 'udev data path',
    kind: 'path',
    apply: (c, v) => void (c.paths.udev_data = v),
  },
  {
    flag: 'collector.timeout',
    key: 'collector.timeout',
    help: 'cut off a collector after this long (success 0)',
    kind: 'duration',
    apply: (c, v) => void (c.collector_timeout = v),
  },
  {
    flag: 'collector.filesystem.mount-points-exclude',
    key: 'collector.filesystem.mountPointsExclude',
    help: 'regexp of mount points to exclude',
    kind: 'regex',
    apply: (c, v) => void (c.collectors.filesystem.mount_points_exclude = v),
  },
  {
    flag: 'collector.filesystem.fs-types-exclude',
    key: 'collector.filesystem.fsTypesExclude',
    help: 'regexp of filesystem types to exclude',
    kind: 'regex',
    apply: (c, v) => void (c.collectors.filesystem.fs_types_exclude = v),
  },
  {
    flag: 'collector.filesystem.mount-timeout',
    key: 'collector.filesystem.mountTimeout',
    help: 'how long to wait for statfs before marking a mount as stuck',
    kind: 'duration',
    apply: (c, v) => void (c.collectors.filesystem.mount_timeout = v),
  },
  {
    flag: 'collector.diskstats.device-include',
    key: 'collector.diskstats.deviceInclude',
    help: 'regexp of diskstats devices to include (mutually exclusive to device-exclude)',
    kind: 'regex',
    apply: (c, v) => void (c.collectors.diskstats.device_include = v),
  },
  {
    flag: 'collector.diskstats.device-exclude',
    key: 'collector.diskstats.deviceExclude',
    help: 'regexp of diskstats devices to exclude (mutually exclusive to device-include)',
    kind: 'regex',
    apply: (c, v) => void (c.collectors.diskstats.device_exclude = v),
  },
  {
    flag: 'collector.netdev.device-include',
    key: 'collector.netdev.deviceInclude',
    help: 'regexp of net devices to include (mutually exclusive to device-exclude)',
    kind: 'regex',
    apply: (c, v) => void (c.collectors.netdev.device_include = v),
  },
  {
    flag: 'collector.netdev.device-exclude',
    key: 'collector.netdev.deviceExclude',
    help: 'regexp of net devices to exclude (mutually exclusive to device-include)',
    kind: 'regex',
    apply: (c, v) => void (c.collectors.netdev.device_exclude = v),
  },
  {
    flag: 'collector.netclass.ignored-devices',
    key: 'collector.netclass.ignoredDevices',
    help: 'regexp of net devices to ignore for netclass',
    kind: 'regex',
    apply: (c, v) => void (c.collectors.netclass.ignored_devices = v),
  },
];

function parseFlagValue(flag: string, kind: 'path' | 'regex' | 'duration', value: string): string | number {
  try {
    if (kind === 'duration') return parseDuration(value);
    if (kind === 'regex') new RegExp(value);
    else if (value === '') throw new Error('expected a path');
    return value;
  } catch (err) {
    throw new UserError(
      `--${flag}: ${kind === 'regex' ? 'invalid regular expression: ' : ''}${errorMessage(err)}`,
    );
  }
}

/** The command line wins over the configuration file, as each flag maps to one config key. */
export function applyExporterFlags(config: ExporterConfig, flags: Flags): ExporterConfig {
  const result = structuredClone(config);
  if (flags.listen !== undefined) result.listen = String(flags.listen);
  if (flags['collector.disableDefaults']) {
    for (const name of COLLECTOR_NAMES) result.collectors[name].enabled = false;
  }
  for (const name of COLLECTOR_NAMES) {
    const value = flags[`collector.${name}`];
    if (typeof value === 'boolean') result.collectors[name].enabled = value;
  }
  for (const { flag, key, kind, apply } of VALUE_FLAGS) {
    const value = flags[key];
    if (typeof value === 'string') apply(result, parseFlagValue(flag, kind, value) as string & number);
  }
  if (flags['collector.netclass.ignoreInvalidSpeed']) result.collectors.netclass.ignore_invalid_speed = true;
  for (const name of ['diskstats', 'netdev'] as const) {
    const section = result.collectors[name];
    if (section.device_include !== undefined && section.device_exclude !== undefined) {
      throw new UserError(
        `collector.${name}: device-include and device-exclude are mutually exclusive (set by flags or exporter.collectors.${name})`,
      );
    }
  }
  return result;
}

export function registerExporter(program: Command): void {
  const command = withCommonOptions(
    program
      .command('exporter')
      .description("serve host metrics under node_exporter's names on /metrics (default :9110)"),
  );
  command.option('--collector.disable-defaults', 'disable all collectors not enabled explicitly');
  for (const name of COLLECTOR_NAMES) {
    command.option(`--collector.${name}`, `enable the ${name} collector (default: enabled)`);
    command.option(`--no-collector.${name}`, `disable the ${name} collector`);
  }
  for (const { flag, help } of VALUE_FLAGS) command.option(`--${flag} <value>`, help);
  command.option('--collector.netclass.ignore-invalid-speed', 'ignore devices where the speed is invalid');
  command.action(async (flags: Flags) => {
    const config = applyExporterFlags(prepare(flags).exporter, flags);
    if (flags.checkConfig) {
      reportConfigOk(flags);
      return;
    }
    // Loaded only when the exporter runs, so other commands do not pay for it.
    const { startExporter } = await import('../exporter/exporter');
    runUntilSignal([await startExporter(config)]);
  });
}
