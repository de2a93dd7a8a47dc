#!/usr/bin/env node
// First, before anything allocates: the running command's V8 settings.
import './commands/v8-flags';
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { commands } from './commands';
import { errorMessage, UserError } from './common/errors';
import { rootLogger } from './common/logger';

function packageVersion(): string {
  // ../package.json from both src/ (tests) and dist/ (installed).
  return (
    JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
  ).version;
}

function fail(message: string, exitCode: number): never {
  process.stderr.write(`vigil: ${message}\n`);
  process.exit(exitCode);
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('vigil')
    .description('host exporter, anomaly detector and alert bridge for Prometheus and Alertmanager')
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text.replace(/^error: /, 'vigil: ')) });
  // Subcommands inherit exitOverride and the output settings because they are added after them.
  for (const register of commands) register(program);
  // The Nagios plugin: 2 would read as CRITICAL, so bad usage is UNKNOWN (3), and said on stdout
  // too, the only stream Nagios and Icinga show.
  const plugin = argv[2] === 'check';
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors (already printed) exit 2 like other Prometheus tools.
      if (err.exitCode === 0) process.exit(0);
      if (plugin) process.stdout.write(`UNKNOWN - ${err.message.replace(/^error: /, '')}\n`);
      process.exit(plugin ? 3 : 2);
    }
    if (err instanceof UserError) {
      if (plugin) process.stdout.write(`UNKNOWN - ${err.message}\n`);
      fail(err.message, err.exitCode);
    }
    if (plugin) process.stdout.write(`UNKNOWN - internal error: ${errorMessage(err)}\n`);
    fail(`internal error: ${errorMessage(err)}`, plugin ? 3 : 1);
  }
}

process.on('unhandledRejection', (reason) => {
  rootLogger.error({ err: errorMessage(reason) }, 'unhandled rejection');
});

if (require.main === module) void main(process.argv);
