import type { AlertEvidence } from '../enrich';
import { alertFields, compileFieldTemplate, type FieldTemplate } from '../render/alert-fields';
import type { ZabbixValue } from '../protocols/zabbix';
import { sendValues } from '../protocols/zabbix-sender';
import { DeliveryError, type Channel, type DeliveryReceipt, type OutgoingMessage } from './channel';

export interface ZabbixChannelConfig {
  name: string;
  /** Zabbix server or proxy trapper, host:port. */
  server: { host: string; port: number };
  timeout: number;
  templates: { host?: string; key?: string; value?: string };
}

export const ZABBIX_DEFAULT_TEMPLATES = {
  host: '{{host}}',
  key: 'vigil.alert[{{severity}}]',
  value:
    '{{STATUS}} {{fingerprint}} {{alertname}}: {{#if summary}}{{summary}}{{else}}{{alertname}} is {{status}}{{/if}}{{#if value}} (value {{value}}){{/if}}',
};

/**
 * Pushes each alert as one value to a Zabbix trapper item over the sender protocol: the item of
 * the alert's host and key (rendered from its labels), the value saying FIRING or RESOLVED with the
 * alert's fingerprint, so a trigger per item opens and closes one problem per alert
 * (examples/zabbix/). One frame per value: the server only counts what failed, so only one value
 * per frame tells which one; a retry resends only the values not yet taken.
 */
export class ZabbixChannel implements Channel {
  readonly type = 'zabbix';
  readonly name: string;
  private readonly host: FieldTemplate;
  private readonly key: FieldTemplate;
  private readonly value: FieldTemplate;
  private readonly delivered = new DeliveredValues();

  constructor(
    private readonly config: ZabbixChannelConfig,
    where = `bridge.channels.${config.name}`,
  ) {
    this.name = config.name;
    const templates = { ...ZABBIX_DEFAULT_TEMPLATES, ...config.templates };
    this.host = compileFieldTemplate(templates.host, `${where}.templates.host`);
    this.key = compileFieldTemplate(templates.key, `${where}.templates.key`);
    this.value = compileFieldTemplate(templates.value, `${where}.templates.value`);
  }

  /** The values for a notification: one per alert, timed at the alert's start or end. */
  values(alerts: readonly AlertEvidence[]): ZabbixValue[] {
    return alerts.map((evidence) => {
      const fields = alertFields(evidence);
      const at =
        evidence.alert.status === 'resolved'
          ? (evidence.alert.endsAt ?? Date.now())
          : evidence.alert.startsAt;
      const value = { host: this.host(fields), key: this.key(fields), value: this.value(fields) };
      if (value.host === '' || value.key === '') {
        throw new DeliveryError(
          `zabbix: alert ${fields.alertname || fields.fingerprint} renders an empty ${value.host === '' ? 'host (no instance label? set templates.host)' : 'item key'}`,
          true,
        );
      }
      return { ...value, clock: Math.floor(at / 1000), ns: (at % 1000) * 1_000_000 };
    });
  }

  async send(message: OutgoingMessage, signal?: AbortSignal): Promise<DeliveryReceipt> {
    const values = this.values(message.notification.alerts);
    const { host, port } = this.config.server;
    const server = `${host}:${port}`;
    const failures: string[] = [];
    let taken = 0;
    for (const [index, value] of values.entries()) {
      if (this.delivered.has(message.id, index)) continue;
      let result;
      try {
        result = await sendValues({ host, port, timeoutMs: this.config.timeout }, [value], signal);
      } catch (err) {
        throw new DeliveryError(`zabbix (${server}): ${(err as Error).message}`);
      }
      if (result.processed === 1) {
        this.delivered.add(message.id, index);
        taken++;
      } else {
        failures.push(`host "${value.host}" key "${value.key}"`);
      }
    }
    if (failures.length > 0) {
      // Retried: an item created a moment ago reaches the server's cache within CacheUpdateFrequency.
      throw new DeliveryError(
        `zabbix (${server}) refused ${failures.length} of ${values.length} values (${failures.slice(0, 3).join(', ')}${failures.length > 3 ? ', …' : ''}): is there an enabled trapper item with that key on that host, allowing this bridge?`,
      );
    }
    this.delivered.forget(message.id);
    return {
      detail: `zabbix (${server}): ${taken} of ${values.length} values taken${taken < values.length ? ' (the rest before)' : ''}`,
    };
  }

  async close(): Promise<void> {}
}

/**
 * Which values of a notification a peer has already taken, so a retry sends only the rest. Kept in
 * memory for the most recent notifications: after a restart a value may be sent twice, never lost.
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
