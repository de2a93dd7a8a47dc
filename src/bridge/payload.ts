import { createHash } from 'node:crypto';
import { z } from 'zod';
import { errorMessage } from '../common/errors';
import { describeIssue } from '../common/issues';

/**
 * Alertmanager's webhook payload (version 4), normalised. Strict on the types of the fields the
 * bridge uses, lenient on everything else: newer Alertmanagers add fields (notification_reason,
 * routeLabels) and an unknown key must never turn a page into a 400 that Alertmanager drops for good.
 */

export type AlertStatus = 'firing' | 'resolved';

export interface Alert {
  status: AlertStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Unix ms. */
  startsAt: number;
  /** Unix ms, or null while firing (Alertmanager sends the zero time 0001-01-01T00:00:00Z). */
  endsAt: number | null;
  generatorURL: string;
  fingerprint: string;
}

export interface Notification {
  receiver: string;
  status: AlertStatus;
  alerts: Alert[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  groupKey: string;
  truncatedAlerts: number;
}

export type ParseResult = { ok: true; notification: Notification } | { ok: false; reason: string };

/**
 * Label and annotation sets, kept in objects without a prototype: a label named `__proto__` or
 * `constructor` is a label like any other, never lost to (or confused with) Object.prototype.
 */
export const labelSet = z.unknown().transform((input, ctx): Record<string, string> => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    ctx.addIssue({ code: 'custom', message: 'expected a mapping of names to text' });
    return z.NEVER;
  }
  const out = Object.create(null) as Record<string, string>;
  for (const [key, value] of Object.entries(input)) {
    if (typeof value !== 'string') {
      ctx.addIssue({ code: 'custom', path: [key], message: `expected text, got ${typeof value}` });
      return z.NEVER;
    }
    out[key] = value;
  }
  return out;
});

// Go's zero time, and anything before 1971, means "no end": Alertmanager serialises a firing alert's
// unset EndsAt as 0001-01-01T00:00:00Z.
const NO_END_BEFORE_MS = Date.UTC(1971, 0, 1);

const time = z.string().transform((text, ctx) => {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d\d-\d\dT/.test(text) || Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: `expected an RFC 3339 time, got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return ms;
});

const alertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet.optional().default({}),
  startsAt: time,
  endsAt: time.optional(),
  generatorURL: z.string().optional().default(''),
  fingerprint: z.string().optional(),
});

const notificationSchema = z.looseObject({
  version: z.string().optional(),
  receiver: z.string().optional().default(''),
  status: z.enum(['firing', 'resolved']),
  alerts: z.array(alertSchema).min(1, 'expected at least one alert'),
  groupLabels: labelSet.optional().default({}),
  commonLabels: labelSet.optional().default({}),
  commonAnnotations: labelSet.optional().default({}),
  externalURL: z.string().optional().default(''),
  groupKey: z.string().optional().default(''),
  truncatedAlerts: z.number().int().nonnegative().optional().default(0),
});

/** Parses a JSON body already decoded; returns a one-line reason on failure. */
export function parseNotification(body: unknown): ParseResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, reason: 'expected a JSON object (Alertmanager webhook payload)' };
  }
  const parsed = notificationSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) return { ok: false, reason: describeIssue(parsed.error.issues[0]) };
  const p = parsed.data;
  const alerts: Alert[] = p.alerts.map((a) => ({
    status: a.status,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt,
    endsAt: a.endsAt === undefined || a.endsAt < NO_END_BEFORE_MS ? null : a.endsAt,
    generatorURL: a.generatorURL,
    fingerprint: a.fingerprint ?? labelsFingerprint(a.labels),
  }));
  return {
    ok: true,
    notification: {
      receiver: unescapeRegex(p.receiver),
      status: p.status,
      alerts,
      groupLabels: p.groupLabels,
      commonLabels: p.commonLabels,
      commonAnnotations: p.commonAnnotations,
      externalURL: p.externalURL,
      groupKey: p.groupKey,
      truncatedAlerts: p.truncatedAlerts,
    },
  };
}

/** Parses raw body text (the intake's path): invalid JSON is a reason, not an exception. */
export function parseNotificationText(text: string): ParseResult {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${errorMessage(err)}` };
  }
  return parseNotification(body);
}

/**
 * Identifies a notification for de-duplication: the same group (groupKey) with the same alerts in the
 * same states (fingerprint + status + startsAt) is the same notification, whichever Alertmanager
 * peer sent it and however often it was retried.
 */
export function dedupKey(route: string, n: Notification): string {
  const alerts = n.alerts.map((a) => `${a.fingerprint}|${a.status}|${a.startsAt}`).sort();
  return createHash('sha256')
    .update(JSON.stringify([route, n.groupKey, n.status, alerts]))
    .digest('hex')
    .slice(0, 32);
}

/** Alertmanager sends `receiver` through regexp.QuoteMeta; undo it for display and routing. */
export function unescapeRegex(text: string): string {
  return text.replace(/\\([\\.+*?()|[\]{}^$])/g, '$1');
}

function labelsFingerprint(labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}
