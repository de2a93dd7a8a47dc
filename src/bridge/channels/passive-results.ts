import type { AlertEvidence } from '../enrich';
import { alertFields, compileFieldTemplate, type FieldTemplate } from '../render/alert-fields';
import { perfdataEntry, serviceState, type PassiveResult } from '../protocols/nagios';
import { DeliveryError } from './channel';

export interface PassiveTemplates {
  host?: string;
  service?: string;
  output?: string;
}

export const PASSIVE_DEFAULT_TEMPLATES = {
  host: '{{host}}',
  service: '{{alertname}}',
  output: '{{state}} - {{#if summary}}{{summary}}{{else}}{{alertname}} is {{status}}{{/if}}',
};

/**
 * Alerts as passive service check results, shared by the nagios and icinga channels: host and
 * service rendered from each alert's labels, the state from its status and severity (resolved →
 * OK, critical → CRITICAL, otherwise WARNING), its value as perfdata.
 */
export class PassiveResults {
  private readonly host: FieldTemplate;
  private readonly service: FieldTemplate;
  private readonly output: FieldTemplate;

  constructor(templates: PassiveTemplates, where: string) {
    const sources = { ...PASSIVE_DEFAULT_TEMPLATES, ...templates };
    this.host = compileFieldTemplate(sources.host, `${where}.templates.host`);
    this.service = compileFieldTemplate(sources.service, `${where}.templates.service`);
    this.output = compileFieldTemplate(sources.output, `${where}.templates.output`);
  }

  results(alerts: readonly AlertEvidence[], now = Date.now()): PassiveResult[] {
    return alerts.map((evidence) => {
      const fields = alertFields(evidence);
      const host = this.host(fields);
      const service = this.service(fields);
      if (host === '' || service === '') {
        throw new DeliveryError(
          `alert ${fields.alertname || fields.fingerprint} renders an empty ${host === '' ? 'host (no instance label? set templates.host)' : 'service'}`,
          true,
        );
      }
      const perf = fields.value === undefined ? undefined : perfdataEntry('value', fields.value);
      return {
        host,
        service,
        state: serviceState(evidence.alert.status, evidence.alert.labels.severity),
        output: this.output(fields),
        perfdata: perf === undefined ? [] : [perf],
        time: Math.floor(now / 1000),
      };
    });
  }
}
