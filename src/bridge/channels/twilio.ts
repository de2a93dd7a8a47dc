import { z } from 'zod';
import { channelSchema } from '../../config/bridge';
import { httpClientSchema } from '../../config/types';
import { loadTemplates, templateParts, type Templates } from '../render/templates';
import { fitSms, smsLength } from '../render/sms';
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
 * SMS through Twilio's Messages API: one form-encoded POST per recipient, basic auth with the
 * account SID (or an API key SID) and its secret, sent from a number or a Messaging Service. The
 * text puts status, alert and instance first and is cut to `max_segments` (one GSM-7 segment is
 * 160 characters; one character outside GSM-7 makes it 70).
 */

const E164 = /^\+[1-9]\d{6,14}$/;

export const twilioSchema = channelSchema(
  'twilio',
  // A long-code number sends about one message a second.
  { templates: templateParts('twilio'), rateLimit: { per_second: 1, burst: 1 } },
  {
    account_sid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'expected AC followed by 32 hex digits'),
    /** The account's auth token, or an API key's secret with `api_key_sid`. */
    auth_token: z.string().min(1),
    api_key_sid: z
      .string()
      .regex(/^SK[0-9a-fA-F]{32}$/, 'expected SK followed by 32 hex digits')
      .optional(),
    from: z.string().min(1).optional(),
    messaging_service_sid: z
      .string()
      .regex(/^MG[0-9a-fA-F]{32}$/, 'expected MG followed by 32 hex digits')
      .optional(),
    to: z.array(z.string().regex(E164, 'expected a number in E.164 form, e.g. +4915112345678')).min(1),
    max_segments: z.number().int().min(1).max(10).default(1),
    api_url: z.url({ protocol: /^https?$/ }).default('https://api.twilio.com'),
    http: httpClientSchema.prefault({}),
  },
).superRefine((config, ctx) => {
  if ((config.from === undefined) === (config.messaging_service_sid === undefined))
    ctx.addIssue({ code: 'custom', path: ['from'], message: 'set either from or messaging_service_sid' });
});

export type TwilioChannelConfig = z.infer<typeof twilioSchema>;

export const twilio = defineChannel({
  type: 'twilio',
  schema: twilioSchema,
  create: (config, context) => new TwilioChannel(config, context),
});

export class TwilioChannel implements Notifier {
  private readonly http: HttpDelivery;
  private readonly templates: Templates<'twilio'>;
  /** Recipients already sent a message, so a retry after a partial failure texts only the rest. */
  private readonly reached = new Map<string, Set<string>>();

  constructor(
    private readonly config: TwilioChannelConfig,
    private readonly context: ChannelContext,
  ) {
    this.http = new HttpDelivery(config.http, 'Twilio');
    this.templates = loadTemplates('twilio', config.templates, `${context.where}.templates`);
  }

  /** The text as sent: rendered, on one line per paragraph, cut to max_segments. */
  text(message: OutgoingMessage): string {
    const rendered = this.templates.render('text', messageView(message, this.config, this.context)).trim();
    return fitSms(rendered.replace(/[ \t]+/g, ' '), this.config.max_segments);
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryReceipt> {
    const body = this.text(message);
    const reached = this.reached.get(message.id) ?? new Set<string>();
    const url = `${this.config.api_url.replace(/\/+$/, '')}/2010-04-01/Accounts/${this.config.account_sid}/Messages.json`;
    const sids: string[] = [];
    let failure: DeliveryError | undefined;
    for (const to of this.config.to) {
      if (reached.has(to)) continue;
      const form = new URLSearchParams({ To: to, Body: body });
      if (this.config.messaging_service_sid !== undefined)
        form.set('MessagingServiceSid', this.config.messaging_service_sid);
      else form.set('From', this.config.from!);
      try {
        const answer = await this.http.send({
          url,
          body: form,
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          auth: {
            username: this.config.api_key_sid ?? this.config.account_sid,
            password: this.config.auth_token,
          },
          signal,
        });
        reached.add(to);
        sids.push(String((JSON.parse(answer.body) as { sid?: string }).sid ?? '?'));
      } catch (err) {
        // The others are still tried: one bad number must not silence the rest.
        failure ??= err instanceof DeliveryError ? err : new DeliveryError(String(err));
      }
    }
    if (failure !== undefined) {
      this.reached.set(message.id, reached);
      if (this.reached.size > 1000) this.reached.delete(this.reached.keys().next().value!);
      throw new DeliveryError(
        `${failure.message} (${reached.size} of ${this.config.to.length} recipients reached)`,
        failure.permanent,
        failure.retryAfterMs,
      );
    }
    this.reached.delete(message.id);
    const { segments, encoding } = smsLength(body);
    return { detail: `${sids.join(', ')} (${segments} ${encoding} segment${segments === 1 ? '' : 's'})` };
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
