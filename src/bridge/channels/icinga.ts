import { z } from 'zod';
import { channelSchema } from '../../config/bridge';
import { httpClientSchema } from '../../config/types';
import { icingaCheckResult } from '../protocols/nagios';
import { loadTemplates, templateParts, type Templates } from '../render/templates';
import {
  defineChannel,
  type ChannelContext,
  type DeliveryReceipt,
  type Notifier,
  type OutgoingMessage,
} from './channel';
import { HttpDelivery } from './http';
import { passiveResults } from './passive-results';

export const icingaSchema = channelSchema(
  'icinga',
  { templates: templateParts('icinga'), rateLimit: { per_second: 0, burst: 1 } },
  {
    ...httpClientSchema.shape,
    /** The Icinga 2 API, https://icinga.example.com:5665 (its CA in tls.ca_file). */
    url: z.url({ protocol: /^https?$/, error: 'expected the https URL of the Icinga 2 API' }),
    /** An ApiUser with the actions/process-check-result permission. */
    username: z.string().min(1),
    password: z.string().min(1, 'expected the ApiUser password'),
  },
);

export type IcingaChannelConfig = z.infer<typeof icingaSchema>;

export const icinga = defineChannel({
  type: 'icinga',
  schema: icingaSchema,
  create: (config, context) => new IcingaChannel(config, context),
});

/**
 * Passive service check results for Icinga 2, one per alert, through its API's
 * `POST /v1/actions/process-check-result` with basic auth over TLS. An unknown host or service is
 * Icinga's 404 (permanent); its 5xx and network errors are retried, by the one HTTP status policy.
 */
export class IcingaChannel implements Notifier {
  private readonly templates: Templates<'icinga'>;
  private readonly http: HttpDelivery;
  private readonly endpoint: string;

  constructor(
    private readonly config: IcingaChannelConfig,
    private readonly context: ChannelContext,
  ) {
    this.templates = loadTemplates('icinga', config.templates, `${context.where}.templates`);
    this.http = new HttpDelivery(config, 'Icinga');
    this.endpoint = `${config.url.replace(/\/+$/, '')}/v1/actions/process-check-result`;
  }

  async send(message: OutgoingMessage, signal?: AbortSignal): Promise<DeliveryReceipt> {
    const results = passiveResults(message, this.templates, this.config, this.context);
    for (const result of results) {
      await this.http.send({
        url: this.endpoint,
        body: icingaCheckResult(result),
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        auth: { username: this.config.username, password: this.config.password },
        signal,
      });
    }
    return { detail: `Icinga: ${results.length} check results processed` };
  }

  close(): Promise<void> {
    this.http.close();
    return Promise.resolve();
  }
}
