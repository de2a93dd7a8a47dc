import { BridgeMetrics } from '../../src/bridge/metrics';
import { parseNotification, type Notification } from '../../src/bridge/payload';
import { Watchdog } from '../../src/bridge/watchdog';
import { rootLogger } from '../../src/common/logger';
import { alertmanagerPayload } from './fixtures';

function notification(alertnames: string[]): Notification {
  const payload = alertmanagerPayload({ alertname: alertnames[0] });
  const alerts = payload.alerts as Array<{ labels: Record<string, string> }>;
  payload.alerts = alertnames.map((name) => ({
    ...alerts[0],
    labels: { ...alerts[0].labels, alertname: name },
  }));
  const result = parseNotification(payload);
  if (!result.ok) throw new Error(result.reason);
  return result.notification;
}

describe("dead man's switch", () => {
  const log = rootLogger.child({ component: 'test' });
  log.level = 'silent';

  it('consumes the Watchdog, raises an alarm when it stops, and resolves it when it is back', async () => {
    let clock = 1_000_000;
    const raised: Notification[] = [];
    const metrics = new BridgeMetrics();
    const watchdog = new Watchdog(
      { alertname: 'Watchdog', timeoutMs: 60_000 },
      async (n) => raised.push(n),
      metrics,
      log,
      () => clock,
    );
    expect(watchdog.observe(notification(['Watchdog']))).toBeUndefined();
    const mixed = watchdog.observe(notification(['Watchdog', 'HostDown']));
    expect(mixed?.alerts.map((a) => a.labels.alertname)).toEqual(['HostDown']);
    expect(watchdog.observe(notification(['HostDown']))?.alerts).toHaveLength(1);

    clock += 59_000;
    await watchdog.check();
    expect(raised).toHaveLength(0);
    clock += 2_000;
    await watchdog.check();
    await watchdog.check(); // once, not on every check
    expect(raised).toHaveLength(1);
    expect(raised[0].status).toBe('firing');
    expect(raised[0].alerts[0].labels.alertname).toBe('WatchdogMissing');
    expect(raised[0].alerts[0].annotations.summary).toMatch(/stopped arriving/);
    expect(await metrics.registry.getSingleMetricAsString('vigil_bridge_watchdog_missing')).toMatch(/ 1$/);
    expect(watchdog.describe('UTC')).toMatch(/^MISSING, last seen /);

    clock += 5_000;
    watchdog.observe(notification(['Watchdog']));
    await new Promise((resolve) => setImmediate(resolve));
    expect(raised).toHaveLength(2);
    expect(raised[1].status).toBe('resolved');
    expect(raised[1].alerts[0].startsAt).toBe(raised[0].alerts[0].startsAt);
    expect(await metrics.registry.getSingleMetricAsString('vigil_bridge_watchdog_missing')).toMatch(/ 0$/);
  });

  it('retries the alarm on the next check when it could not be spooled', async () => {
    let clock = 1_000_000;
    const raised: Notification[] = [];
    let spoolWorks = false;
    const watchdog = new Watchdog(
      { alertname: 'Watchdog', timeoutMs: 60_000 },
      async (n) => {
        if (!spoolWorks) throw new Error('ENOSPC: no space left on device');
        raised.push(n);
      },
      new BridgeMetrics(),
      log,
      () => clock,
    );
    clock += 61_000;
    await watchdog.check();
    expect(raised).toHaveLength(0);
    expect(watchdog.describe('UTC')).toMatch(/^MISSING/);
    spoolWorks = true;
    clock += 10_000;
    await watchdog.check();
    await watchdog.check();
    expect(raised.map((n) => n.status)).toEqual(['firing']);
    // startsAt is when the Watchdog was first found missing, not when the spool recovered.
    expect(raised[0].alerts[0].startsAt).toBe(1_061_000);
  });
});

describe("dead man's switch that never heard the Watchdog", () => {
  const log = rootLogger.child({ component: 'test' });
  log.level = 'silent';

  it('says "never" rather than the start time, and names the likely cause in the alarm', async () => {
    let clock = Date.UTC(2026, 10, 23, 14, 0, 0);
    const raised: Notification[] = [];
    const watchdog = new Watchdog(
      { alertname: 'Watchdog', timeoutMs: 600_000 },
      async (n) => raised.push(n),
      new BridgeMetrics(),
      log,
      () => clock,
    );
    expect(watchdog.describe('UTC')).toBe('never seen');
    clock += 601_000;
    await watchdog.check();
    expect(watchdog.describe('UTC')).toBe('MISSING, never seen');
    const description = raised[0].alerts[0].annotations.description;
    expect(description).toContain('it has not arrived since the bridge started at 2026-11-23T14:00:00.000Z');
    expect(description).toContain("Alertmanager's repeat_interval for the Watchdog route is longer than 10m");
  });
});
