import { dedupKey, parseNotification, parseNotificationText, unescapeRegex } from '../../src/bridge/payload';
import { alertmanagerPayload } from './fixtures';

describe('webhook payload', () => {
  it('normalises a firing notification: zero endsAt is no end, receiver unescaped, times in ms', () => {
    const result = parseNotification(alertmanagerPayload());
    if (!result.ok) throw new Error(result.reason);
    const n = result.notification;
    expect(n.receiver).toBe('vigil.ops');
    expect(n.status).toBe('firing');
    expect(n.alerts[0].endsAt).toBeNull();
    expect(n.alerts[0].startsAt).toBe(Date.UTC(2026, 10, 23, 14, 2));
    expect(n.alerts[0].labels.instance).toBe('web-1');
  });

  it('keeps the end of resolved alerts', () => {
    const result = parseNotification(alertmanagerPayload({ status: 'resolved' }));
    expect(result.ok && result.notification.alerts[0].endsAt).toBe(Date.UTC(2026, 10, 23, 14, 30));
  });

  it('accepts fields it does not know (newer Alertmanagers add some)', () => {
    const payload: Record<string, unknown> = {
      ...alertmanagerPayload(),
      notification_reason: 'repeat',
      routeLabels: { team: 'x' },
    };
    (payload.alerts as Array<Record<string, unknown>>)[0].silenceURL = 'http://am/silence';
    expect(parseNotification(payload).ok).toBe(true);
  });

  it('accepts the minimum Alertmanager always sends and fills the rest', () => {
    const result = parseNotification({
      status: 'firing',
      alerts: [{ status: 'firing', labels: { alertname: 'X' }, startsAt: '2026-11-23T14:02:00Z' }],
    });
    if (!result.ok) throw new Error(result.reason);
    expect(result.notification.alerts[0].fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(result.notification.groupKey).toBe('');
  });

  it.each([
    ['wrong status', { status: 'burning' }, /^status: /],
    [
      'labels not strings',
      { alerts: [{ status: 'firing', labels: { a: 1 }, startsAt: '2026-11-23T14:02:00Z' }] },
      /^alerts\[0\]\.labels\.a: /,
    ],
    ['no alerts', { alerts: [] }, /^alerts: expected at least one alert/],
    ['alerts not a list', { alerts: 'x' }, /^alerts: /],
    [
      'bad time',
      { alerts: [{ status: 'firing', labels: {}, startsAt: 'yesterday' }] },
      /^alerts\[0\]\.startsAt: expected an RFC 3339 time, got "yesterday"/,
    ],
    ['missing startsAt', { alerts: [{ status: 'firing', labels: {} }] }, /^alerts\[0\]\.startsAt: /],
    ['truncatedAlerts negative', { truncatedAlerts: -1 }, /^truncatedAlerts: /],
  ])('rejects %s with a one-line reason naming the field', (_what, patch, reason) => {
    const result = parseNotification({ ...alertmanagerPayload(), ...patch });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toMatch(reason);
      expect(result.reason).not.toMatch(/\n/);
    }
  });

  it('rejects invalid JSON and non-objects', () => {
    expect(parseNotificationText('{"status":')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^invalid JSON: /),
    });
    expect(parseNotificationText('[1,2]')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/expected a JSON object/),
    });
    expect(parseNotificationText('null')).toMatchObject({ ok: false });
  });

  it('identifies the same notification regardless of alert order, and tells states apart', () => {
    const a = parseNotification(alertmanagerPayload({ instances: ['web-1', 'web-2'] }));
    const payload = alertmanagerPayload({ instances: ['web-1', 'web-2'] });
    (payload.alerts as unknown[]).reverse();
    const b = parseNotification(payload);
    const resolved = parseNotification(
      alertmanagerPayload({ instances: ['web-1', 'web-2'], status: 'resolved' }),
    );
    if (!a.ok || !b.ok || !resolved.ok) throw new Error('fixture');
    expect(dedupKey('default', a.notification)).toBe(dedupKey('default', b.notification));
    expect(dedupKey('default', a.notification)).not.toBe(dedupKey('default', resolved.notification));
    expect(dedupKey('default', a.notification)).not.toBe(dedupKey('other', a.notification));
  });

  it('undoes regexp.QuoteMeta on the receiver', () => {
    expect(unescapeRegex('team\\-a\\.mail\\(x\\)')).toBe('team\\-a.mail(x)');
    expect(unescapeRegex('a\\\\b')).toBe('a\\b');
  });
});
