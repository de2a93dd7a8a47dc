import { createChannel, parseChannels } from '../../../src/bridge/channels';
import type { EnrichedNotification } from '../../../src/bridge/evidence';
import { parseNotification, type Alert, type Notification } from '../../../src/bridge/payload';
import { alertmanagerPayload } from '../fixtures';

function notification(alerts: Array<Partial<Alert> & { labels: Record<string, string> }>): Notification {
  const parsed = parseNotification(alertmanagerPayload());
  if (!parsed.ok) throw new Error(parsed.reason);
  const template = parsed.notification.alerts[0];
  const all = alerts.map((a) => ({ ...template, ...a, labels: { alertname: 'Disk', ...a.labels } }));
  return {
    ...parsed.notification,
    status: all.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts: all,
  };
}

const enriched = (n: Notification): EnrichedNotification => ({
  notification: n,
  alerts: n.alerts.map((alert) => ({ alert, unit: 'short' })),
});

function channel(extra: Record<string, unknown>) {
  const [config] = parseChannels([
    { name: 'sms', type: 'email', from: 'a@example.com', to: ['b@example.com'], ...extra },
  ]);
  return createChannel(config, { timeZone: 'UTC' });
}

describe('what a channel receives (matchers, send_resolved)', () => {
  const mixed = notification([
    { labels: { severity: 'critical', instance: 'a' }, status: 'firing' },
    { labels: { severity: 'warning', instance: 'b' }, status: 'firing' },
    { labels: { severity: 'critical', instance: 'c' }, status: 'resolved', endsAt: Date.UTC(2026, 0, 1) },
  ]);

  it('keeps only the alerts its matchers select', async () => {
    const critical = channel({ matchers: ['severity="critical"'] });
    const selected = critical.select(enriched(mixed));
    expect(selected?.notification.alerts.map((a) => a.labels.instance)).toEqual(['a', 'c']);
    expect(selected?.alerts.map((e) => e.alert.labels.instance)).toEqual(['a', 'c']);
    expect(selected?.notification.status).toBe('firing');
    await critical.close();
  });

  it('is not sent a notification none of whose alerts match', async () => {
    const db = channel({ matchers: ['team="db"'] });
    expect(db.wants(mixed)).toBe(false);
    expect(db.select(enriched(mixed))).toBeUndefined();
    const notWeb = channel({ matchers: ['instance!~"a|b"', 'alertname=~"Di.*"'] });
    expect(notWeb.wants(mixed)).toBe(true);
    await Promise.all([db.close(), notWeb.close()]);
  });

  it('with send_resolved off, drops resolved alerts and all-resolved notifications', async () => {
    const quiet = channel({ send_resolved: false });
    expect(quiet.select(enriched(mixed))?.notification.alerts.map((a) => a.labels.instance)).toEqual([
      'a',
      'b',
    ]);
    const resolved = notification([
      { labels: { instance: 'a' }, status: 'resolved', endsAt: Date.UTC(2026, 0, 1) },
    ]);
    expect(quiet.wants(resolved)).toBe(false);
    const loud = channel({});
    expect(loud.wants(resolved)).toBe(true);
    // Everything selected: the same object, nothing copied.
    const whole = enriched(mixed);
    expect(loud.select(whole)).toBe(whole);
    await Promise.all([quiet.close(), loud.close()]);
  });

  it('a selection that is all resolved reads as resolved', async () => {
    const critical = channel({ matchers: ['instance="c"'] });
    expect(critical.select(enriched(mixed))?.notification.status).toBe('resolved');
    await critical.close();
  });
});
