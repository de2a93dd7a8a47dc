import { Command, Option } from 'commander';
import { UserError } from '../common/errors';
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

/** Applies the log level and loads the configuration named by the common options. */
export function prepare(options: CommonOptions): Config {
  setLogLevel(options.logLevel);
  return loadConfig(options.config);
}

/**
 * Checks each bridge channel against its type's schema (kept in the channel's file, so only the
 * commands that run the bridge load them), naming the file as configuration errors do.
 */
export async function checkChannels(options: CommonOptions, config: Config): Promise<void> {
  const { parseChannels } = await import('../bridge/channels');
  try {
    parseChannels(config.bridge.channels);
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`${options.config ?? 'config'}: ${err.message}`);
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
