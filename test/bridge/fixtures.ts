import path from 'node:path';
import type { EnrichedNotification, GraphSettings } from '../../src/bridge/evidence';
import { parseNotification } from '../../src/bridge/payload';
import { isFinished, type SpoolEntry } from '../../src/bridge/spool';
import { SegmentLog } from '../../src/bridge/spool-log';

/** Alertmanager webhook payloads as Alertmanager 0.27 sends them. */

export interface PayloadOptions {
  status?: 'firing' | 'resolved';
  alertname?: string;
  instances?: string[];
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  groupKey?: string;
  externalURL?: string;
}

export function alertmanagerPayload(o: PayloadOptions = {}): Record<string, unknown> {
  const status = o.status ?? 'firing';
  const alertname = o.alertname ?? 'HostHighCpu';
  const instances = o.instances ?? ['web-1'];
  const alerts = instances.map((instance) => ({
    status,
    labels: { alertname, instance, job: 'node', severity: 'critical', ...o.labels },
    annotations: {
      summary: `CPU busy on ${instance}`,
      description: 'Above 90% for 5 minutes.',
      ...o.annotations,
    },
    startsAt: o.startsAt ?? '2026-11-23T14:02:00.000Z',
    endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : (o.endsAt ?? '2026-11-23T14:30:00.000Z'),
    generatorURL:
      o.generatorURL ??
      'http://prometheus.example:9090/graph?g0.expr=instance%3Anode_cpu_busy%3Aratio+%3E+0.9&g0.tab=1',
    fingerprint: `fp-${alertname}-${instance}`,
  }));
  const commonLabels: Record<string, string> = { alertname, job: 'node', severity: 'critical', ...o.labels };
  if (instances.length === 1) commonLabels.instance = instances[0];
  return {
    receiver: 'vigil\\.ops',
    status,
    alerts,
    groupLabels: { alertname },
    commonLabels,
    commonAnnotations: instances.length === 1 ? alerts[0].annotations : {},
    externalURL: o.externalURL ?? 'http://alertmanager.example:9093',
    version: '4',
    groupKey: o.groupKey ?? `{}:{alertname="${alertname}"}`,
    truncatedAlerts: 0,
  };
}

/** A notification as the enricher hands it to channels, without graphs. */
export function enrichedNotification(o: PayloadOptions = {}): EnrichedNotification {
  const parsed = parseNotification(alertmanagerPayload(o));
  if (!parsed.ok) throw new Error(parsed.reason);
  const notification = parsed.notification;
  return { notification, alerts: notification.alerts.map((alert) => ({ alert, unit: 'short' as const })) };
}

/** Graph settings for tests: an hour before the alert, 60 points, one render at a time. */
export const GRAPH_SETTINGS: GraphSettings = {
  lookbackMs: 3_600_000,
  maxRangeMs: 86_400_000,
  points: 60,
  width: 600,
  maxSeries: 8,
  maxGraphs: 5,
  timeZone: 'UTC',
  maxQueryBytes: 4096,
  circuitBreaker: { failures: 5, coolDownMs: 30_000 },
  maxListedAlerts: 100,
  maxMessageBytes: 5 * 1024 * 1024,
};

/**
 * The entries the spool in `dir` holds now, by id, read from its log as a restart would read it but
 * without opening the spool (a running bridge's spool stays as it is).
 */
export async function spooled(dir: string): Promise<Map<string, SpoolEntry>> {
  const { live } = await SegmentLog.recover(path.join(dir, 'log'), (json) => {
    const entry = json as SpoolEntry;
    return { key: entry.id, value: entry };
  });
  return new Map([...live].map(([id, { value }]) => [id, value]));
}

/** The ids of the entries in the spool in `dir` with a delivery still to do, and of the finished ones. */
export async function spooledIds(dir: string): Promise<{ pending: string[]; finished: string[] }> {
  const entries = [...(await spooled(dir)).values()];
  return {
    pending: entries.filter((e) => !isFinished(e)).map((e) => e.id),
    finished: entries.filter(isFinished).map((e) => e.id),
  };
}
