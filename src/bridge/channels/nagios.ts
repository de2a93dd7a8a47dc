import fs from 'node:fs/promises';
import { constants } from 'node:fs';
import { commandLine } from '../protocols/nagios';
import { DeliveryError, type Channel, type DeliveryReceipt, type OutgoingMessage } from './channel';
import { PassiveResults, type PassiveTemplates } from './passive-results';

export interface NagiosChannelConfig {
  name: string;
  /** Nagios's external command file (command_file in nagios.cfg), on this machine. */
  command_file: string;
  templates: PassiveTemplates;
}

/**
 * Passive service check results for Nagios: one PROCESS_SERVICE_CHECK_RESULT line per alert into
 * its external command file.
 */
export class NagiosChannel implements Channel {
  readonly type = 'nagios';
  readonly name: string;
  private readonly passive: PassiveResults;

  constructor(
    private readonly config: NagiosChannelConfig,
    where = `bridge.channels.${config.name}`,
    private readonly now: () => number = Date.now,
  ) {
    this.name = config.name;
    this.passive = new PassiveResults(config.templates, where);
  }

  async send(message: OutgoingMessage): Promise<DeliveryReceipt> {
    const lines = this.passive.results(message.notification.alerts, this.now()).map(commandLine);
    await writeCommands(this.config.command_file, lines);
    return { detail: `nagios: ${lines.length} check results written to ${this.config.command_file}` };
  }

  async close(): Promise<void> {}
}

/**
 * Appends command lines to Nagios's command file: a FIFO while Nagios runs. Opened without blocking,
 * so a stopped Nagios (no reader: ENXIO) or a full pipe (EAGAIN) is a retryable error, never a hang;
 * each line is its own write, which a pipe keeps whole (a line is far below PIPE_BUF).
 */
export async function writeCommands(file: string, lines: readonly string[]): Promise<void> {
  let handle;
  try {
    handle = await fs.open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENXIO'
        ? 'nobody reads it (is Nagios running?)'
        : code === 'ENOENT'
          ? 'it does not exist (is Nagios running? check command_file in nagios.cfg)'
          : code === 'EACCES'
            ? 'permission denied (add the bridge user to the Nagios command group)'
            : (code ?? String(err));
    throw new DeliveryError(`nagios: cannot open command file ${file}: ${why}`);
  }
  try {
    for (const line of lines) await handle.write(line);
  } catch (err) {
    throw new DeliveryError(
      `nagios: writing to command file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  } finally {
    await handle.close();
  }
}
