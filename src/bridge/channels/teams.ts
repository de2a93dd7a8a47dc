import { z } from 'zod';
import { channelSchema } from '../../config/bridge';
import { httpClientSchema } from '../../config/types';
import type { MessageView } from '../render/message';
import { loadTemplates, templateParts, type Templates } from '../render/templates';
import {
  defineChannel,
  messageView,
  type ChannelContext,
  type DeliveryReceipt,
  type Notifier,
  type OutgoingMessage,
} from './channel';
import { HttpDelivery } from './http';

/**
 * Microsoft Teams through a Workflows webhook ("When a Teams webhook request is received"): an
 * Adaptive Card in `attachments`. Graphs are images Teams loads from the bridge's external_url
 * (data-URI images do not render reliably on Teams desktop and web). Teams refuses messages over
 * 28 KB: the body is measured and alerts are left out until it fits, saying so on the card.
 */

export const teamsSchema = channelSchema(
  'teams',
  { templates: templateParts('teams'), rateLimit: { per_second: 1, burst: 4 } },
  {
    webhook_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    http: httpClientSchema.prefault({}),
  },
);

export type TeamsChannelConfig = z.infer<typeof teamsSchema>;

export const teams = defineChannel({
  type: 'teams',
  schema: teamsSchema,
  create: (config, context) => new TeamsChannel(config, context),
});

/** Teams' limit on one message, in bytes of the request body. */
export const TEAMS_MAX_BYTES = 28 * 1024;
/** One alert's text at most: one long description must not crowd out the others. */
const MAX_ALERT_CHARS = 4000;

type Element = Record<string, unknown>;

/** The Workflows request body with as many alerts as fit in TEAMS_MAX_BYTES. */
export function teamsMessage(view: MessageView, templates: Templates<'teams'>): string {
  const alerts = view.alerts.map((alert, index): Element => {
    const text = templates.renderAlert('alert', view, index);
    const items: Element[] = [
      {
        type: 'TextBlock',
        text: text.length > MAX_ALERT_CHARS ? `${text.slice(0, MAX_ALERT_CHARS - 1)}…` : text,
        wrap: true,
        color: alert.firing ? 'Attention' : 'Good',
      },
    ];
    if (alert.graph?.url !== undefined)
      items.push({ type: 'Image', url: alert.graph.url, altText: `graph of ${alert.name}`, size: 'Stretch' });
    const actions = [
      ['Source', alert.links.source],
      ['Silence', alert.links.silence],
      ['Runbook', alert.links.runbook],
    ]
      .filter((link): link is [string, string] => link[1] !== undefined)
      .map(([title, url]) => ({ type: 'Action.OpenUrl', title, url }));
    if (actions.length > 0) items.push({ type: 'ActionSet', actions });
    return { type: 'Container', separator: true, items };
  });
  let shown = alerts.length;
  for (;;) {
    const body = JSON.stringify(
      envelope(view, templates, alerts.slice(0, shown), view.alerts.length - shown),
    );
    if (Buffer.byteLength(body) <= TEAMS_MAX_BYTES || shown === 0) return body;
    shown--;
  }
}

function envelope(
  view: MessageView,
  templates: Templates<'teams'>,
  alerts: Element[],
  left: number,
): unknown {
  const notes: string[] = [];
  if (left > 0) notes.push(`${left} more alerts not shown: Teams takes 28 KB per message.`);
  if (view.truncatedAlerts > 0)
    notes.push(`${view.truncatedAlerts} more alerts were left out by Alertmanager (max_alerts).`);
  notes.push(`vigil bridge, route ${view.route}, times in ${view.timeZone}.`);
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body: [
            {
              type: 'TextBlock',
              text: templates.render('title', view),
              size: 'Large',
              weight: 'Bolder',
              wrap: true,
              color: view.firing ? 'Attention' : 'Good',
            },
            ...alerts,
            ...notes.map((text) => ({ type: 'TextBlock', text, isSubtle: true, size: 'Small', wrap: true })),
          ],
          ...(view.statusPageUrl
            ? { actions: [{ type: 'Action.OpenUrl', title: 'Status', url: view.statusPageUrl }] }
            : {}),
        },
      },
    ],
  };
}

export class TeamsChannel implements Notifier {
  private readonly http: HttpDelivery;
  private readonly templates: Templates<'teams'>;

  constructor(
    private readonly config: TeamsChannelConfig,
    private readonly context: ChannelContext,
  ) {
    this.http = new HttpDelivery(config.http, 'Teams');
    this.templates = loadTemplates('teams', config.templates, `${context.where}.templates`);
  }

  async send(message: OutgoingMessage, signal: AbortSignal): Promise<DeliveryReceipt> {
    const view = messageView(message, this.config, this.context);
    const answer = await this.http.send({
      url: this.config.webhook_url,
      body: teamsMessage(view, this.templates),
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      signal,
    });
    return { detail: `HTTP ${answer.status}` };
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
