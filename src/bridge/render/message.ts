import { formatDuration } from '../../common/duration';
import type { AlertEvidence, EnrichedNotification } from '../evidence';
import type { Notification } from '../payload';
import { safeHttpUrl, silenceUrl } from '../query';
import { serviceState, ServiceState } from '../protocols/nagios';
import { formatDateTime } from './time';

/**
 * The view every message template renders: plain data, with every link already checked to be
 * http(s). Escaping is the template engine's job (HTML-escaped by default in the HTML template).
 */

export interface Pair {
  name: string;
  value: string;
}

export interface AlertView {
  name: string;
  status: string;
  firing: boolean;
  summary?: string;
  description?: string;
  explanation?: string;
  labels: Pair[];
  /** Annotations other than the ones shown on their own (summary, description, runbook_url, query, unit). */
  annotations: Pair[];
  startsAt: string;
  endsAt?: string;
  /** How long it fired (resolved) or has been firing. */
  duration: string;
  query?: string;
  /** cid when the channel attaches the image; url when the bridge has an external URL to link graphs from. */
  graph?: { cid?: string; url?: string; csvName?: string };
  graphError?: string;
  links: { source?: string; silence?: string; runbook?: string };
  /** Alertmanager's fingerprint: one alert's identity across its firing and resolved messages. */
  fingerprint: string;
  /** The severity label, `warning` when there is none. */
  severity: string;
  /** The Nagios/Icinga service state it maps to: OK (resolved), CRITICAL (critical) or WARNING. */
  state: string;
  /** The `instance` label without its port (`web-1:9100` → `web-1`): the host in Zabbix and Nagios. */
  host: string;
  /** The alert's value: its `value` annotation when numeric, else the last point of its graph. */
  value?: string;
  /** Every label by name (`{{label.instance}}`), alertname included. */
  label: Record<string, string>;
}

export interface MessageView {
  status: string;
  firing: boolean;
  subject: string;
  headline: string;
  receiver: string;
  route: string;
  groupLabels: Pair[];
  commonLabels: Pair[];
  alerts: AlertView[];
  firingCount: number;
  resolvedCount: number;
  /** Alerts not listed: left out by Alertmanager (its max_alerts) or past bridge.message's bounds. */
  truncatedAlerts: number;
  timeZone: string;
  externalURL?: string;
  statusPageUrl?: string;
}

export interface ViewOptions {
  route: string;
  timeZone: string;
  now: number;
  /** Base URL of this bridge as people reach it, for /graph links and the status page. */
  bridgeUrl?: string;
  /** The content id of each alert's inline graph (by index), as the channel attached it. */
  cid?: (index: number) => string;
  attachCsv?: boolean;
}

const SHOWN_APART = new Set(['summary', 'description', 'runbook_url', 'query', 'unit']);

export function buildView(enriched: EnrichedNotification, options: ViewOptions): MessageView {
  const n = enriched.notification;
  const firing = n.status === 'firing';
  const firingCount = n.alerts.filter((a) => a.status === 'firing').length;
  const alerts = enriched.alerts.map((evidence, i) => alertView(evidence, i, n, options));
  const name = n.groupLabels.alertname ?? n.commonLabels.alertname ?? 'alerts';
  return {
    status: n.status.toUpperCase(),
    firing,
    subject: subjectLine(n),
    headline: firing
      ? `${firingCount} alert${firingCount === 1 ? '' : 's'} firing: ${name}`
      : `Resolved: ${name}`,
    receiver: n.receiver,
    route: options.route,
    groupLabels: pairs(n.groupLabels),
    commonLabels: pairs(n.commonLabels),
    alerts,
    firingCount,
    resolvedCount: n.alerts.length - firingCount,
    truncatedAlerts: n.truncatedAlerts + (enriched.omittedAlerts ?? 0),
    timeZone: options.timeZone,
    externalURL: safeHttpUrl(n.externalURL),
    statusPageUrl: options.bridgeUrl ? `${options.bridgeUrl.replace(/\/+$/, '')}/` : undefined,
  };
}

function alertView(evidence: AlertEvidence, index: number, n: Notification, options: ViewOptions): AlertView {
  const { alert } = evidence;
  const end = alert.endsAt ?? options.now;
  const graph = evidence.graph;
  return {
    name: alert.labels.alertname ?? 'alert',
    status: alert.status.toUpperCase(),
    firing: alert.status === 'firing',
    summary: alert.annotations.summary,
    description: alert.annotations.description,
    explanation: evidence.explanation,
    labels: pairs(alert.labels).filter((p) => p.name !== 'alertname'),
    annotations: pairs(alert.annotations).filter((p) => !SHOWN_APART.has(p.name)),
    startsAt: formatDateTime(alert.startsAt, options.timeZone),
    endsAt: alert.endsAt === null ? undefined : formatDateTime(alert.endsAt, options.timeZone),
    duration: alertDuration(end - alert.startsAt),
    query: evidence.query,
    graph: graph
      ? {
          cid: options.cid?.(index),
          url: options.bridgeUrl
            ? `${options.bridgeUrl.replace(/\/+$/, '')}/graph/${graph.id}.png`
            : undefined,
          csvName: options.attachCsv ? graph.csvName : undefined,
        }
      : undefined,
    graphError: evidence.graphError,
    links: {
      source: safeHttpUrl(alert.generatorURL),
      silence: silenceUrl(n.externalURL, alert.labels),
      runbook: safeHttpUrl(alert.annotations.runbook_url),
    },
    fingerprint: alert.fingerprint,
    severity: alert.labels.severity || 'warning',
    state: ServiceState[serviceState(alert.status, alert.labels.severity)],
    host: hostOfInstance(alert.labels.instance ?? ''),
    value: alertValue(evidence),
    label: { ...alert.labels },
  };
}

/**
 * Alertmanager's familiar subject: `[FIRING:2] HostHighCpu (instance=web-1)`: the group labels' values,
 * then the labels all alerts share beyond them.
 */
export function subjectLine(n: Notification): string {
  const count = n.alerts.filter((a) => a.status === 'firing').length;
  const head = n.status === 'firing' ? `[FIRING:${count}]` : '[RESOLVED]';
  const group =
    Object.keys(n.groupLabels).length > 0 ? n.groupLabels : { alertname: n.commonLabels.alertname ?? '' };
  const names = Object.keys(group)
    .sort()
    .map((k) => group[k])
    .filter((v) => v !== '')
    .join(' ');
  const extra = Object.keys(n.commonLabels)
    .filter((k) => !Object.hasOwn(group, k))
    .sort()
    .map((k) => `${k}=${n.commonLabels[k]}`)
    .join(' ');
  return headerSafe(`${head} ${names}${extra ? ` (${extra})` : ''}`);
}

/**
 * One line, no control characters, bounded: label values must never add or split mail headers,
 * nor reorder what a reader sees (bidirectional overrides such as U+202E).
 */
export function headerSafe(text: string, max = 250): string {
  const line = text
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
    .replace(/[\r\n\t\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]+/g, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** To the second in the first hour (a fresh alert fired 20s ago, not "0s"), to the minute after. */
function alertDuration(ms: number): string {
  const unit = ms < 3_600_000 ? 1_000 : 60_000;
  return formatDuration(Math.max(0, Math.round(ms / unit)) * unit);
}

function pairs(record: Record<string, string>): Pair[] {
  return Object.keys(record)
    .sort()
    .map((name) => ({ name, value: record[name] }));
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

function alertValue(evidence: AlertEvidence): string | undefined {
  const annotated = evidence.alert.annotations.value?.trim();
  if (annotated && Number.isFinite(Number(annotated))) return String(Number(annotated));
  const last = evidence.graph?.lastValue;
  return last === undefined ? undefined : String(last);
}
