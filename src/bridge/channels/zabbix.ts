import { z } from 'zod';
import { channelSchema } from '../../config/bridge';
import { duration, httpClientSchema } from '../../config/types';
import { loadTemplates, templateParts, type Templates } from '../render/templates';
import {
  ApiError,
  historyPushRequest,
  parseHistoryPushResponse,
  type ZabbixValue,
} from '../protocols/zabbix';
import { sendValues } from '../protocols/zabbix-sender';
import type { Alert } from '../payload';
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

export const zabbixSchema = channelSchema(
  'zabbix',
  { templates: templateParts('zabbix'), rateLimit: { per_second: 0, burst: 1 } },
  {
    /** Sender protocol: a Zabbix server or proxy trapper, `host[:port]` (port 10051). */
    server: z
      .string()
      .regex(/^(\[[^\]]+\]|[^:\s[\]]+)(:\d{1,5})?$/, 'expected host or host:port')
      .optional(),
    /** Timeout of one sender exchange. */
    timeout: duration().default(10_000),
    /** Zabbix 7.0+: history.push through the API with an API token, instead of the sender protocol. */
    api: httpClientSchema
      .extend({
        url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL of api_jsonrpc.php' }),
        token: z.string().min(1, 'expected an API token'),
      })
      .strict()
      .optional(),
  },
).superRefine((config, ctx) => {
  if ((config.server === undefined) === (config.api === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['server'],
      message: 'set either server (sender protocol) or api (history.push)',
    });
  }
});

export type ZabbixChannelConfig = z.infer<typeof zabbixSchema>;

export const zabbix = defineChannel({
  type: 'zabbix',
  schema: zabbixSchema,
  create: (config, context) => new ZabbixChannel(config, context),
});

/**
 * Pushes each alert as one value to a Zabbix trapper item: the item `key` of `host`, both rendered
 * from the alert's labels, the value saying FIRING or RESOLVED with the alert's fingerprint, so a
 * trigger per item opens and closes one problem per alert (examples/zabbix/). Values are timed at
 * the alert's start or end. Over the sender protocol one frame carries one value: the server only
 * counts failures, so one value per frame tells which failed. A retry resends only what was not
 * taken. A firing alert Zabbix has already taken is not sent again when Alertmanager repeats it or
 * sends its group again for another alert: each FIRING value opens a new problem.
 */
export class ZabbixChannel implements Notifier {
  private readonly templates: Templates<'zabbix'>;
  private readonly delivered = new DeliveredValues();
  private readonly open = new OpenProblems();
  private readonly api?: { http: HttpDelivery; url: string; token: string };
  private requestId = 0;

  constructor(
    private readonly config: ZabbixChannelConfig,
    private readonly context: ChannelContext,
  ) {
    this.templates = loadTemplates('zabbix', config.templates, `${context.where}.templates`);
    if (config.api) {
      this.api = {
        http: new HttpDelivery(config.api, 'Zabbix API'),
        url: config.api.url,
        token: config.api.token,
      };
    }
  }

  values(message: OutgoingMessage): ZabbixValue[] {
    const enriched = message.notification;
    const view = messageView(message, this.config, this.context);
    return enriched.alerts.map(({ alert }, i) => {
      const host = this.templates.renderAlert('host', view, i);
      const key = this.templates.renderAlert('key', view, i);
      if (host === '' || key === '') {
        const what = host === '' ? 'host (no instance label? set templates.host)' : 'item key';
        throw new DeliveryError(`alert ${view.alerts[i]!.name} renders an empty ${what}`, true);
      }
      const at = alert.status === 'resolved' ? (alert.endsAt ?? message.receivedAt) : alert.startsAt;
      const value = this.templates.renderAlert('value', view, i);
      return { host, key, value, clock: Math.floor(at / 1000), ns: (at % 1000) * 1_000_000 };
    });
  }

  async send(message: OutgoingMessage, signal?: AbortSignal): Promise<DeliveryReceipt> {
    const values = this.values(message);
    const alerts = message.notification.alerts.map(({ alert }) => alert);
    const earlier = (index: number): boolean => this.delivered.has(message.id, index);
    const alreadyOpen = alerts.filter((alert, index) => !earlier(index) && this.open.has(alert)).length;
    const pending = values
      .map((value, index) => ({ value, index }))
      .filter(({ index }) => !earlier(index) && !this.open.has(alerts[index]!));
    const taken = (index: number): void => {
      this.delivered.add(message.id, index);
      this.open.record(alerts[index]!);
    };
    const refused = this.api
      ? await this.push(pending, taken, signal)
      : await this.sendEach(pending, taken, signal);
    const peer = this.api ? 'Zabbix API' : `Zabbix (${this.config.server})`;
    if (refused.length > 0) {
      // Retried: an item created a moment ago reaches the server's cache within CacheUpdateFrequency.
      const which = refused.slice(0, 3).join(', ') + (refused.length > 3 ? ', …' : '');
      throw new DeliveryError(
        `${peer} refused ${refused.length} of ${values.length} values (${which}): is there an enabled trapper item with that key on that host, allowing this bridge?`,
      );
    }
    this.delivered.forget(message.id);
    const before = values.length - pending.length - alreadyOpen;
    const notes = [
      ...(before > 0 ? [`${before} on an earlier attempt`] : []),
      ...(alreadyOpen > 0 ? [`${alreadyOpen} already open there, not repeated`] : []),
    ];
    return {
      detail: `${peer}: ${values.length - alreadyOpen} values taken${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`,
    };
  }

  /** Sender protocol, one value per exchange; returns the refused ones. */
  private async sendEach(
    pending: Array<{ value: ZabbixValue; index: number }>,
    taken: (index: number) => void,
    signal?: AbortSignal,
  ): Promise<string[]> {
    const [, host = '', port = '10051'] = /^\[?(.*?)\]?(?::(\d+))?$/.exec(this.config.server!) ?? [];
    const refused: string[] = [];
    for (const { value, index } of pending) {
      let result;
      try {
        result = await sendValues(
          { host, port: Number(port), timeoutMs: this.config.timeout },
          [value],
          signal,
        );
      } catch (err) {
        throw new DeliveryError(`Zabbix (${this.config.server}): ${(err as Error).message}`);
      }
      if (result.processed === 1) taken(index);
      else refused.push(describe(value));
    }
    return refused;
  }

  /** history.push, all values in one call; returns the refused ones with Zabbix's reason. */
  private async push(
    pending: Array<{ value: ZabbixValue; index: number }>,
    taken: (index: number) => void,
    signal?: AbortSignal,
  ): Promise<string[]> {
    if (pending.length === 0) return [];
    const api = this.api!;
    const answer = await api.http.send({
      url: api.url,
      body: historyPushRequest(
        pending.map((p) => p.value),
        ++this.requestId,
      ),
      headers: { 'content-type': 'application/json-rpc', authorization: `Bearer ${api.token}` },
      signal,
    });
    let outcomes;
    try {
      outcomes = parseHistoryPushResponse(answer.body, pending.length);
    } catch (err) {
      if (err instanceof ApiError) throw new DeliveryError(err.message, err.permanent);
      throw err;
    }
    const refused: string[] = [];
    outcomes.forEach((outcome, i) => {
      const { value, index } = pending[i]!;
      if (outcome.ok) taken(index);
      else refused.push(`${describe(value)}: ${outcome.error}`);
    });
    return refused;
  }

  close(): Promise<void> {
    this.api?.http.close();
    return Promise.resolve();
  }
}

function describe(value: ZabbixValue): string {
  return `host "${value.host}" key "${value.key}"`;
}

/**
 * Which values of a notification the peer has already taken, so a retry sends only the rest. Kept
 * in memory for the most recent notifications: after a restart a value may be sent twice, never lost.
 */
export class DeliveredValues {
  private readonly byMessage = new Map<string, Set<number>>();

  constructor(private readonly capacity = 1000) {}

  has(id: string, index: number): boolean {
    return this.byMessage.get(id)?.has(index) ?? false;
  }

  add(id: string, index: number): void {
    let taken = this.byMessage.get(id);
    if (!taken) {
      if (this.byMessage.size >= this.capacity) this.byMessage.delete(this.byMessage.keys().next().value!);
      taken = new Set();
      this.byMessage.set(id, taken);
    }
    taken.add(index);
  }

  forget(id: string): void {
    this.byMessage.delete(id);
  }
}

/**
 * The firing alerts Zabbix has taken, by fingerprint and start, until their RESOLVED value is taken.
 * Kept in memory for the most recent alerts: after a restart, a repeat of a firing alert opens one
 * more problem in Zabbix (closed with the others by the RESOLVED value), never loses one.
 */
export class OpenProblems {
  private readonly startByFingerprint = new Map<string, number>();

  constructor(private readonly capacity = 10_000) {}

  has(alert: Alert): boolean {
    return alert.status === 'firing' && this.startByFingerprint.get(alert.fingerprint) === alert.startsAt;
  }

  record(alert: Alert): void {
    this.startByFingerprint.delete(alert.fingerprint);
    if (alert.status === 'resolved') return;
    if (this.startByFingerprint.size >= this.capacity) {
      this.startByFingerprint.delete(this.startByFingerprint.keys().next().value!);
    }
    this.startByFingerprint.set(alert.fingerprint, alert.startsAt);
  }
}
