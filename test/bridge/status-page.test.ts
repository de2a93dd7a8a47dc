import { parseNotification } from '../../src/bridge/payload';
import type { SpoolEntry } from '../../src/bridge/spool';
import { alertmanagerPayload } from './fixtures';
import { renderStatusPage } from '../../src/bridge/status-page';

describe('status page', () => {
  it('shows the dead-letter count it is given, not only those among the recent entries', () => {
    const html = renderStatusPage([], { timeZone: 'UTC', now: 0, limit: 10, deadLetters: 7 });
    expect(html).toContain('0 pending &middot; 7 dead-lettered');
    expect(html).toContain('No notifications yet.');
  });

  it('shows when a pending delivery is tried next', () => {
    const parsed = parseNotification(alertmanagerPayload());
    if (!parsed.ok) throw new Error(parsed.reason);
    const now = Date.UTC(2026, 10, 23, 14, 0, 0);
    const entry: SpoolEntry = {
      id: '0000000001000-abcdef012345-000000',
      dedupKey: 'abcdef012345',
      receivedAt: now - 60_000,
      route: 'default',
      notification: parsed.notification,
      deliveries: [
        {
          channel: 'mail',
          state: 'pending',
          attempts: 2,
          nextAttemptAt: now + 90_000,
          lastError: 'SMTP 421',
        },
      ],
    };
    const html = renderStatusPage([entry], { timeZone: 'UTC', now, limit: 10, deadLetters: 0 });
    expect(html).toContain(
      'mail: pending</span> after 2 attempt(s), next at 23 Nov 2026, 14:01:30 UTC (in 1m30s)',
    );
  });
});
