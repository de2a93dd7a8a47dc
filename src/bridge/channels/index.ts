import { UserError } from '../../common/errors';
import { formatPath } from '../../common/key-path';
import type { ChannelBaseConfig } from '../../config/bridge';
import { describeIssue } from '../../config/load';
import { ConfiguredChannel, type ChannelContext, type ChannelDefinition, type Notifier } from './channel';
import { email } from './email';
import { icinga } from './icinga';
import { nagios } from './nagios';
import { slack } from './slack';
import { teams } from './teams';
import { twilio } from './twilio';
import { webhook } from './webhook';
import { zabbix } from './zabbix';

/** Every channel type: a new one is a file exporting its definition, and its line here. */
const CHANNELS: readonly ChannelDefinition[] = [email, slack, teams, twilio, webhook, zabbix, nagios, icinga];

const BY_TYPE = new Map(CHANNELS.map((definition) => [definition.type, definition]));

export const CHANNEL_TYPES: readonly string[] = CHANNELS.map((definition) => definition.type);

/**
 * Checks each entry of `bridge.channels` against its type's schema; the first problem becomes a
 * one-line UserError with its key path (`bridge.channels[2].smtp.port: expected integer 1-65535`).
 */
export function parseChannels(
  entries: ReadonlyArray<{ type: string; [key: string]: unknown }>,
  path: ReadonlyArray<string | number> = ['bridge', 'channels'],
): ChannelBaseConfig[] {
  return entries.map((entry, index) => {
    const definition = BY_TYPE.get(entry.type);
    if (definition === undefined) {
      throw new UserError(
        `${formatPath([...path, index, 'type'])}: unknown channel type ${JSON.stringify(entry.type)} (expected one of ${CHANNEL_TYPES.join(', ')})`,
      );
    }
    const result = definition.schema.safeParse(entry, { reportInput: true });
    if (!result.success) {
      const issues = result.error.issues;
      const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
      throw new UserError(`${describeIssue(issues[0], [...path, index])}${more}`);
    }
    return result.data;
  });
}

/**
 * Makes the notifier of a channel type whose attempts run off the event loop (`offThread`): a
 * stand-in that hands each attempt to a worker thread (delivery-pool.ts).
 */
export type OffThreadNotifier = (config: ChannelBaseConfig, context: ChannelContext) => Notifier;

/**
 * The one place a checked channel configuration becomes a Channel. With `offThread` given, the
 * types marked so deliver through it; their own notifier is still built here first, so that a bad
 * template or setting stops the start with its key path rather than failing every delivery.
 */
export function createChannel(
  config: ChannelBaseConfig,
  context: Omit<ChannelContext, 'where'> & { where?: string },
  offThread?: OffThreadNotifier,
): ConfiguredChannel {
  const full = { ...context, where: context.where ?? `channel ${config.name}` };
  let notifier = createNotifier(config, full);
  if (BY_TYPE.get(config.type)?.offThread && offThread !== undefined) {
    // Built only to check its settings: nothing was sent through it.
    void notifier.close?.().catch(() => undefined);
    notifier = offThread(config, full);
  }
  return new ConfiguredChannel(config, notifier, (context.now ?? Date.now)());
}

/** The channel type's own notifier, in this thread: what a delivery worker runs. */
export function createNotifier(config: ChannelBaseConfig, context: ChannelContext): Notifier {
  const definition = BY_TYPE.get(config.type);
  if (definition === undefined) throw new UserError(`${context.where}: unknown channel type ${config.type}`);
  return definition.create(config, context);
}
