import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import { z } from 'zod';
import { channelSchema } from '../../config/bridge';
import { httpClientSchema } from '../../config/types';
import { commandLine, NrdpError, nrdpRequest, parseNrdpResponse } from '../protocols/nagios';
import { loadTemplates, templateParts, type Templates } from '../render/templates';
import {
  defineChannel,
  DeliveryError,
  type ChannelContext,
  type DeliveryReceipt,
  type Notifier,
  type OutgoingMessage,
} from './channel';
import { HttpDelivery } from './http';
import { passiveResults } from './passive-results';

export const nagiosSchema = channelSchema(
  'nagios',
  { templates: templateParts('nagios'), rateLimit: { per_second: 0, burst: 1 } },
  {
    /** Nagios's external command file (command_file in nagios.cfg) on this machine. */
    command_file: z.string().min(1).optional(),
    /** An NRDP server (Nagios's passive results over HTTP). */
    nrdp: httpClientSchema
      .extend({
        url: z.url({ protocol: /^https?$/, error: 'expected the http(s) URL of NRDP (…/nrdp/)' }),
        token: z.string().min(1, 'expected an NRDP token'),
      })
      .strict()
      .optional(),
  },
).superRefine((config, ctx) => {
  if ((config.command_file === undefined) === (config.nrdp === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['command_file'], message: 'set either command_file or nrdp' });
  }
});

export type NagiosChannelConfig = z.infer<typeof nagiosSchema>;

export const nagios = defineChannel({
  type: 'nagios',
  schema: nagiosSchema,
  create: (config, context) => new NagiosChannel(config, context),
});

/**
 * Passive service check results for Nagios, one per alert: PROCESS_SERVICE_CHECK_RESULT lines into
 * its external command file, or `cmd=submitcheck` to NRDP (which answers HTTP 200 to failures too,
 * so its status is read from the body).
 */
export class NagiosChannel implements Notifier {
  private readonly templates: Templates<'nagios'>;
  private readonly nrdp?: HttpDelivery;

  constructor(
    private readonly config: NagiosChannelConfig,
    private readonly context: ChannelContext,
  ) {
    this.templates = loadTemplates('nagios', config.templates, `${context.where}.templates`);
    if (config.nrdp) this.nrdp = new HttpDelivery(config.nrdp, 'NRDP');
  }

  async send(message: OutgoingMessage, signal?: AbortSignal): Promise<DeliveryReceipt> {
    const results = passiveResults(message, this.templates, this.config, this.context);
    if (this.config.nrdp) {
      const answer = await this.nrdp!.send({
        url: this.config.nrdp.url,
        body: nrdpRequest(results, this.config.nrdp.token),
        signal,
      });
      try {
        return { detail: `NRDP: ${parseNrdpResponse(answer.body)}` };
      } catch (err) {
        // BAD TOKEN, NO DATA, BAD CHECK RESULTS DIR: NRDP's configuration, not a passing fault.
        if (err instanceof NrdpError) throw new DeliveryError(err.message, true);
        throw err;
      }
    }
    const file = this.config.command_file!;
    await writeCommands(file, results.map(commandLine));
    return { detail: `Nagios: ${results.length} check results written to ${file}` };
  }

  close(): Promise<void> {
    this.nrdp?.close();
    return Promise.resolve();
  }
}

/**
 * Appends command lines to Nagios's command file, a FIFO while Nagios runs. Opened without blocking,
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
          ? 'it does not exist (is Nagios running? see command_file in nagios.cfg)'
          : code === 'EACCES'
            ? 'permission denied (add the bridge user to the Nagios command group)'
            : (code ?? String(err));
    throw new DeliveryError(`Nagios command file ${file}: ${why}`);
  }
  try {
    for (const line of lines) await handle.write(line);
  } catch (err) {
    throw new DeliveryError(
      `Nagios command file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  } finally {
    await handle.close();
  }
}
