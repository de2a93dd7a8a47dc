import Handlebars from 'handlebars';
import { UserError } from '../../common/errors';
import type { AlertEvidence } from '../enrich';
import { serviceState, ServiceState } from '../protocols/nagios';

/**
 * One alert as the monitoring-system channels (Zabbix, Nagios, Icinga) see it: each alert becomes
 * one value or one check result, addressed by host and item key or service rendered from its labels.
 */
export interface AlertFields {
  status: 'firing' | 'resolved';
  /** FIRING or RESOLVED. */
  STATUS: string;
  /** OK, WARNING or CRITICAL: the service state the alert maps to. */
  state: string;
  fingerprint: string;
  alertname: string;
  /** The severity label, `warning` when there is none. */
  severity: string;
  summary: string;
  description: string;
  /** The `instance` label without its port (`web-1:9100` → `web-1`, `[::1]:9100` → `::1`). */
  host: string;
  /** The alert's value: its `value` annotation if numeric, else the last point of its graph. */
  value?: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** RFC 3339. */
  startsAt: string;
  endsAt?: string;
}

export function alertFields(evidence: AlertEvidence): AlertFields {
  const alert = evidence.alert;
  const state = serviceState(alert.status, alert.labels.severity);
  return {
    status: alert.status,
    STATUS: alert.status.toUpperCase(),
    state: ServiceState[state],
    fingerprint: alert.fingerprint,
    alertname: alert.labels.alertname ?? '',
    severity: alert.labels.severity || 'warning',
    summary: alert.annotations.summary ?? '',
    description: alert.annotations.description ?? '',
    host: hostOfInstance(alert.labels.instance ?? ''),
    value: alertValue(evidence),
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: new Date(alert.startsAt).toISOString(),
    endsAt: alert.endsAt === null ? undefined : new Date(alert.endsAt).toISOString(),
  };
}

/** `host:port`, `[v6]:port`, a bare host or a URL's host, without the port. */
export function hostOfInstance(instance: string): string {
  const text = instance.trim();
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]+)/i.exec(text);
  const hostPort = url ? url[1]!.replace(/^[^@]*@/, '') : text;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hostPort);
  if (bracketed) return bracketed[1]!;
  // More than one colon and no brackets: a bare IPv6 address, which has no port.
  if ((hostPort.match(/:/g) ?? []).length > 1) return hostPort;
  return hostPort.replace(/:\d*$/, '');
}

function alertValue(evidence: AlertEvidence): number | undefined {
  const annotated = evidence.alert.annotations.value;
  if (annotated !== undefined && annotated.trim() !== '' && Number.isFinite(Number(annotated))) {
    return Number(annotated);
  }
  const series = evidence.graph?.series[0];
  const last = series?.values[series.values.length - 1];
  return last !== undefined && Number.isFinite(last) ? last : undefined;
}

const hb = Handlebars.create();

const SAMPLE: AlertFields = {
  status: 'firing',
  STATUS: 'FIRING',
  state: 'CRITICAL',
  fingerprint: '0123456789abcdef',
  alertname: 'Sample',
  severity: 'critical',
  summary: 'sample',
  description: '',
  host: 'web-1',
  value: 1,
  labels: { alertname: 'Sample', instance: 'web-1:9100', severity: 'critical' },
  annotations: { summary: 'sample' },
  startsAt: '2026-01-01T00:00:00.000Z',
};

export type FieldTemplate = (fields: AlertFields) => string;

/**
 * A one-line template over AlertFields (Handlebars, nothing escaped: the protocols these go to have
 * no markup; each channel makes the result safe for its own framing). Compiled and tried at start.
 */
export function compileFieldTemplate(source: string, where: string): FieldTemplate {
  try {
    const template = hb.compile<AlertFields>(source, { noEscape: true, strict: false });
    template(SAMPLE);
    return (fields) =>
      template(fields)
        .replace(/\s*[\r\n]+\s*/g, ' ')
        .trim();
  } catch (err) {
    throw new UserError(`${where}: invalid template: ${(err as Error).message.split('\n')[0]}`);
  }
}
