import { renderStatusPage } from '../../src/bridge/status-page';

describe('status page', () => {
  it('shows the dead-letter count it is given, not only those among the recent entries', () => {
    const html = renderStatusPage([], { timeZone: 'UTC', now: 0, limit: 10, deadLetters: 7 });
    expect(html).toContain('0 pending &middot; 7 dead-lettered');
    expect(html).toContain('No notifications yet.');
  });
});
