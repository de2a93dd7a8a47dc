import { Command, Option } from 'commander';
import { UserError } from '../common/errors';
import { parseListen } from '../common/listen';
import { LOG_LEVELS, setLogLevel, type LogLevel } from '../common/logger';
import { onShutdown } from '../common/shutdown';
import type { RunningService } from '../common/service';
import { loadConfig } from '../config/load';
import type { Config } from '../config/schema';

export interface CommonOptions {
  config?: string;
  listen?: string;
  logLevel: LogLevel;
  checkConfig?: boolean;
}

/** `--config`, `--log-level`, `--check-config` and, for a single service, `--listen`. */
export function withCommonOptions(command: Command, { listen = true } = {}): Command {
  command
    .option(
      '--config <file>',
      'YAML configuration file (default: built-in defaults)',
      process.env.VIGIL_CONFIG,
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .option('--check-config', 'validate the configuration and exit');
  if (listen) command.option('--listen <host:port>', 'address to serve HTTP on (overrides the config)');
  return command;
}

/** Applies the log level, checks `--listen` as the start would, and loads the configuration. */
export function prepare(options: CommonOptions): Config {
  setLogLevel(options.logLevel);
  if (options.listen !== undefined) {
    try {
      parseListen(options.listen);
    } catch {
      throw new UserError(`--listen: expected HOST:PORT or :PORT, got ${JSON.stringify(options.listen)}`);
    }
  }
  return loadConfig(options.config);
}

/**
 * Checks each bridge channel against its type's schema (kept in the channel's file, so only the
 * commands that run the bridge load them), naming the file as configuration errors do.
 */
export async function checkChannels(options: CommonOptions, config: Config): Promise<void> {
  const { parseChannels } = await import('../bridge/channels');
  await withConfigFile(options, () => parseChannels(config.bridge.channels));
}

const KEY_PATH_FIRST = /^(exporter|detector|bridge)[.[]/;

/**
 * Runs what checks or starts the services. A problem found there with a configured value (a
 * template that does not compile, a spool directory that cannot be used) is reported by its key
 * path; the configuration file goes in front, so every error line reads `<file>: <key path>: <reason>`.
 */
export async function withConfigFile<T>(options: CommonOptions, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof UserError && KEY_PATH_FIRST.test(err.message)) {
      throw new UserError(`${options.config ?? 'config'}: ${err.message}`, err.exitCode);
    }
    throw err;
  }
}

/** Prints the verdict of `--check-config` on stdout, as `promtool check config` does. */
export function reportConfigOk(options: CommonOptions): void {
  process.stdout.write(`${options.config ?? 'built-in defaults'}: configuration OK\n`);
}

/**
 * For the bridge: every acknowledged webhook waits for an fsync, which holds a libuv thread while
 * the disk works; with more threads, concurrent fsyncs share journal commits instead of queueing
 * behind four. libuv reads this when its pool first starts, so call it before any file I/O.
 */
export function widenThreadPoolForSpool(): void {
  process.env.UV_THREADPOOL_SIZE ??= '16';
}

/** Keeps started services running until SIGTERM/SIGINT, then closes them gracefully. */
export function runUntilSignal(services: RunningService[]): void {
  for (const service of services) onShutdown(service.name, () => service.close());
}

export type { Config };
