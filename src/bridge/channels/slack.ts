import fs from 'node:fs';
import { z } from 'zod';
import { channelSchema } from '../../config/bridge';
import { httpClientSchema } from '../../config/types';
import type { AlertEvidence } from '../evidence';
import type { MessageView } from '../render/message';
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
 * Slack. With an incoming webhook, one Block Kit message per notification, each graph an image
 * block loaded by Slack from the bridge's external_url (a webhook cannot upload). With a bot token,
 * chat.postMessage, then each graph uploaded into the message's thread by Slack's upload flow:
 * files.getUploadURLExternal, a POST of the bytes, files.completeUploadExternal.
 */

export const slackSchema = channelSchema(
  'slack',
  // About one message a second per channel is what Slack takes; short bursts pass.
  { templates: templateParts('slack'), rateLimit: { per_second: 1, burst: 3 } },
  {
    webhook_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
    bot_token: z.string().min(1).optional(),
    /** Channel ID (C0123456789) for the bot token. */
    channel: z.string().min(1).optional(),
    api_url: z.url({ protocol: /^https?$/ }).default('https://slack.com/api'),
    http: httpClientSchema.prefault({}),
  },
).superRefine((config, ctx) => {
  if ((config.webhook_url === undefined) === (config.bot_token === undefined))
    ctx.addIssue({ code: 'custom', path: ['webhook_url'], message: 'set either webhook_url or bot_token' });
  if (config.bot_token !== undefined && config.channel === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['channel'],
      message: 'the channel ID to post to is needed with bot_token',
    });
});

export type SlackChannelConfig = z.infer<typeof slackSchema>;

export const slack = defineChannel({
  type: 'slack',
  schema: slackSchema,
  create: (config, context) => new SlackChannel(config, context),
});

/** Block Kit's limits: blocks per message, characters per section text and per header. */
export const SLACK_LIMITS = { blocks: 50, sectionText: 3000, headerText: 150, altText: 2000 } as const;

const COLOURS = { firing: '#c53a32', resolved: '#2e8b3e' };

type Block = Record<string, unknown>;

export interface SlackMessage {
  text: string;
  attachments: Array<{ color: string; blocks: Block[] }>;
}

/**
 * The message: a header, a section per alert (and its graph's image block when `images`), within
 * Block Kit's limits; what does not fit is cut and the message says so.
 */
export function slackMessage(
  view: MessageView,
  templates: Templates<'slack'>,
  images: boolean,
): SlackMessage {
  const title = templates.render('title', view);
  const blocks: Block[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: cut(title, SLACK_LIMITS.headerText, '…'), emoji: true },
    },
  ];
  const notes: string[] = [];
  // Room for the header and the closing context block.
  const room = SLACK_LIMITS.blocks - 2;
  let shown = 0;
  for (const [index, alert] of view.alerts.entries()) {
    const image = images && alert.graph?.url !== undefined;
    if (blocks.length - 1 + (image ? 2 : 1) > room) break;
    const text = templates
      .renderAlert('alert', view, index)
      .replace(/[ \t]+$/gm, '')
      .trim();
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: cut(text, SLACK_LIMITS.sectionText, '\n_… cut: Slack shows 3,000 characters of a section_'),
      },
    });
    if (image)
      blocks.push({
        type: 'image',
        image_url: alert.graph!.url,
        alt_text: cut(`graph of ${alert.name}`, SLACK_LIMITS.altText, '…'),
      });
    shown++;
  }
  if (shown < view.alerts.length)
    notes.push(
      `${view.alerts.length - shown} more alerts not shown: Slack takes ${SLACK_LIMITS.blocks} blocks per message`,
    );
  if (view.truncatedAlerts > 0)
    notes.push(`${view.truncatedAlerts} more alerts were left out by Alertmanager (max_alerts)`);
  notes.push(
    `vigil bridge · route ${escapeMrkdwn(view.route)} · times in ${view.timeZone}${view.statusPageUrl ? ` · <${escapeMrkdwn(view.statusPageUrl)}|status>` : ''}`,
  );
  blocks.push({ type: 'context', elements: notes.map((text) => ({ type: 'mrkdwn', text })) });
  return { text: title, attachments: [{ color: view.firing ? COLOURS.firing : COLOURS.resolved, blocks }] };
}

function cut(text: string, max: number, marker: string): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - marker.length)}${marker}`;
}

function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Web API errors worth another attempt; every other `ok: false` is a configuration problem. */
const RETRYABLE_API_ERRORS = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

export class SlackChannel implements Notifier {
  private readonly http: HttpDelivery;
  private readonly templates: Templates<'slack'>;
  /** Messages already posted by a bot whose graph upload failed: the retry uploads only. */
  private readonly posted = new Map<string, string>();

  constructor(
    private readonly config: SlackChannelConfig,
    private readonly context: ChannelContext,
  ) {
    this.http = new HttpDelivery(config.http, 'Slack');
    this.templates = loadTemplates('slack', config.templates, `${context.where}.templates`);
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryReceipt> {
    const view = messageView(message, this.config, this.context);
    if (this.config.webhook_url !== undefined) {
      const body = slackMessage(view, this.templates, true);
      const answer = await this.http.send({
        url: this.config.webhook_url,
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json; charset=utf-8' },
        signal,
      });
      return { detail: `HTTP ${answer.status} ${answer.body}`.trim() };
    }
    let ts = this.posted.get(message.id);
    if (ts === undefined) {
      const body = { channel: this.config.channel, ...slackMessage(view, this.templates, false) };
      const posted = await this.api('chat.postMessage', JSON.stringify(body), signal);
      ts = String(posted.ts);
      this.posted.set(message.id, ts);
    }
    const graphs = message.notification.alerts.filter(
      (e): e is AlertEvidence & { graph: object } => e.graph !== undefined,
    );
    try {
      for (const evidence of graphs) await this.upload(evidence, ts, signal);
    } catch (err) {
      // Bounded: a channel failing for days must not grow this without end.
      if (this.posted.size > 1000) this.posted.delete(this.posted.keys().next().value!);
      throw err;
    }
    this.posted.delete(message.id);
    return {
      detail: `posted ${ts}${graphs.length > 0 ? ` with ${graphs.length} graph${graphs.length === 1 ? '' : 's'}` : ''}`,
    };
  }

  /** One graph into the message's thread, by Slack's external upload flow. */
  private async upload(evidence: AlertEvidence, threadTs: string, signal: AbortSignal): Promise<void> {
    const png = await fs.promises.readFile(evidence.graph!.file);
    const name = `${(evidence.alert.labels.alertname ?? 'alert').replace(/[^A-Za-z0-9_.-]+/g, '_')}.png`;
    const target = await this.api(
      'files.getUploadURLExternal',
      new URLSearchParams({ filename: name, length: String(png.length) }),
      signal,
    );
    await this.http.send({
      url: String(target.upload_url),
      body: png,
      headers: { 'Content-Type': 'application/octet-stream' },
      signal,
    });
    await this.api(
      'files.completeUploadExternal',
      JSON.stringify({
        files: [
          { id: String(target.file_id), title: `graph of ${evidence.alert.labels.alertname ?? 'alert'}` },
        ],
        channel_id: this.config.channel,
        thread_ts: threadTs,
      }),
      signal,
    );
  }

  /** A Web API call: HTTP through the helper, then Slack's own `ok` (it answers errors with 200). */
  private async api(
    method: string,
    body: string | URLSearchParams,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const answer = await this.http.send({
      url: `${this.config.api_url.replace(/\/+$/, '')}/${method}`,
      body,
      headers: {
        Authorization: `Bearer ${this.config.bot_token}`,
        'Content-Type':
          typeof body === 'string' ? 'application/json; charset=utf-8' : 'application/x-www-form-urlencoded',
      },
      signal,
    });
    let reply: Record<string, unknown>;
    try {
      reply = JSON.parse(answer.body) as Record<string, unknown>;
    } catch {
      throw new DeliveryError(`Slack ${method}: answer is not JSON`);
    }
    if (reply.ok === true) return reply;
    const error = String(reply.error ?? 'unknown error');
    throw new DeliveryError(`Slack ${method}: ${error}`, !RETRYABLE_API_ERRORS.has(error));
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
