import { z } from 'zod';
import { channelSchema } from '../../config/bridge';
import { httpClientSchema } from '../../config/types';
import { errorMessage } from '../../common/errors';
import { loadTemplates, templateParts, type Templates } from '../render/templates';
import {
  defineChannel,
  DeliveryError,
  messageView,
  type ChannelContext,
  type DeliveryReceipt,
  type Notifier,
  type OutgoingMessage,
} from './channel';
import { HttpDelivery } from './http';

/**
 * Any HTTP endpoint: a JSON body rendered from the `body` template (values escaped for JSON
 * strings), headers and auth from the configuration. The escape hatch for in-house systems,
 * incident tools and Zabbix webhook media types. Each request carries the notification's spool id
 * in `Idempotency-Key`, the same on every retry, so receivers can drop repeats.
 */

export const webhookSchema = channelSchema(
  'webhook',
  { templates: templateParts('webhook'), rateLimit: { per_second: 0, burst: 1 } },
  {
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    method: z.enum(['POST', 'PUT']).default('POST'),
    headers: z.record(z.string(), z.string()).default({}),
    bearer_token: z.string().optional(),
    basic_auth: z
      .object({ username: z.string(), password: z.string().default('') })
      .strict()
      .optional(),
    http: httpClientSchema.prefault({}),
  },
).superRefine((config, ctx) => {
  if (config.bearer_token !== undefined && config.basic_auth !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['bearer_token'],
      message: 'set either bearer_token or basic_auth',
    });
});

export type WebhookChannelConfig = z.infer<typeof webhookSchema>;

export const webhook = defineChannel({
  type: 'webhook',
  schema: webhookSchema,
  create: (config, context) => new WebhookChannel(config, context),
});

export class WebhookChannel implements Notifier {
  private readonly http: HttpDelivery;
  private readonly templates: Templates<'webhook'>;

  constructor(
    private readonly config: WebhookChannelConfig,
    private readonly context: ChannelContext,
  ) {
    this.http = new HttpDelivery(config.http, 'webhook');
    this.templates = loadTemplates('webhook', config.templates, `${context.where}.templates`);
  }

  /** The rendered body, checked to be JSON: a template that makes anything else fails for good. */
  body(message: OutgoingMessage): string {
    const body = this.templates.render('body', messageView(message, this.config, this.context));
    try {
      JSON.parse(body);
    } catch (err) {
      throw new DeliveryError(`webhook: the body template made invalid JSON: ${errorMessage(err)}`, true);
    }
    return body;
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryReceipt> {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json; charset=utf-8',
      'Idempotency-Key': message.id,
      ...this.config.headers,
    };
    if (this.config.bearer_token !== undefined) headers.Authorization = `Bearer ${this.config.bearer_token}`;
    const answer = await this.http.send({
      url: this.config.url,
      method: this.config.method,
      body: this.body(message),
      headers,
      auth: this.config.basic_auth,
      signal,
    });
    return { detail: `HTTP ${answer.status}` };
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
