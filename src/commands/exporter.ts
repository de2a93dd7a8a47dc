import type { Command } from 'commander';
import { parseDuration } from '../common/duration';
import { errorMessage, UserError } from '../common/errors';
import type { ExporterConfig } from '../config/exporter';
import { COLLECTORS } from '../exporter/collectors';
import { resolveCollectors, type CollectorFlag } from '../exporter/descriptor';
import { prepare, reportConfigOk, runUntilSignal, withCommonOptions, type CommonOptions } from './common';

type Flags = CommonOptions & Record<string, string | boolean | undefined>;

/**
 * node_exporter's flags that take a value and belong to no one collector, with where each goes in
 * the `exporter:` section; each collector's own come from its descriptor.
 */
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
];

function parseFlagValue(flag: string, kind: CollectorFlag['kind'], value: string): string | number {
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

/** Commander's property for `--a.b-c`: `a.bC`. */
const optionKey = (flag: string): string =>
  flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** Every collector's own flags, `--collector.<name>.<flag>`. */
function collectorFlags(): Array<CollectorFlag & { collector: string; option: string }> {
  return COLLECTORS.flatMap(({ name, flags = [] }) =>
    flags.map((flag) => ({ ...flag, collector: name, option: `collector.${name}.${flag.flag}` })),
  );
}

/** The command line wins over the configuration file, as each flag maps to one config key. */
export function applyExporterFlags(config: ExporterConfig, flags: Flags): ExporterConfig {
  const result = structuredClone(config);
  if (flags.listen !== undefined) result.listen = String(flags.listen);
  const section = (name: string): Record<string, unknown> => (result.collectors[name] ??= {});
  for (const { name } of COLLECTORS) {
    const value = flags[`collector.${name}`];
    if (typeof value === 'boolean') section(name).enabled = value;
    else if (flags['collector.disableDefaults']) section(name).enabled = false;
  }
  for (const { flag, key, kind, apply } of VALUE_FLAGS) {
    const value = flags[key];
    if (typeof value === 'string') apply(result, parseFlagValue(flag, kind, value) as string & number);
  }
  for (const { option, collector, key, kind } of collectorFlags()) {
    const value = flags[optionKey(option)];
    if (value === undefined) continue;
    section(collector)[key] = kind === 'switch' ? true : parseFlagValue(option, kind, String(value));
  }
  return result;
}

/** Flags and file together: what the exporter will run with, checked with each key's path. */
export function checkExporterConfig(config: ExporterConfig, source?: string): void {
  resolveCollectors(COLLECTORS, config, source);
}

export function registerExporter(program: Command): void {
  const command = withCommonOptions(
    program
      .command('exporter')
      .description("serve host metrics under node_exporter's names on /metrics (default :9110)"),
  );
  command.option('--collector.disable-defaults', 'disable all collectors not enabled explicitly');
  for (const { name, enabledByDefault } of COLLECTORS) {
    const state = enabledByDefault ? 'enabled' : 'disabled';
    command.option(`--collector.${name}`, `enable the ${name} collector (default: ${state})`);
    command.option(`--no-collector.${name}`, `disable the ${name} collector`);
  }
  for (const { flag, help } of VALUE_FLAGS) command.option(`--${flag} <value>`, help);
  for (const { option, kind, help } of collectorFlags()) {
    command.option(kind === 'switch' ? `--${option}` : `--${option} <value>`, help);
  }
  command.action(async (flags: Flags) => {
    const config = applyExporterFlags(prepare(flags).exporter, flags);
    checkExporterConfig(config, flags.config);
    if (flags.checkConfig) {
      reportConfigOk(flags);
      return;
    }
    // Loaded only when the exporter runs, so other commands do not pay for it.
    const { startExporter } = await import('../exporter/exporter');
    runUntilSignal([await startExporter(config)]);
  });
}
