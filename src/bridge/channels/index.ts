import type { ChannelConfig } from '../../config/bridge';
import type { Channel } from './channel';
import { EmailChannel } from './email';

export interface ChannelOptions {
  timeZone: string;
  bridgeUrl?: string;
}

/** The one place a channel type becomes a Channel. */
export function createChannel(config: ChannelConfig, index: number, options: ChannelOptions): Channel {
  const where = `bridge.channels[${index}]`;
  switch (config.type) {
    case 'email':
      return new EmailChannel(config, options, where);
  }
}
