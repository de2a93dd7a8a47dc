import { errorMessage } from '../common/errors';
import { formatDuration } from '../common/duration';
import type { Logger } from '../common/logger';
import type { BridgeMetrics } from './metrics';
import type { Alert, Notification } from './payload';
import { formatDateTime } from './render/time';

/**
 * Dead man's switch. Prometheus' always-firing `Watchdog` alert reaches the bridge through
 * Alertmanager every repeat_interval; when it stops coming, something between them is broken and no
 * other alert would get through either, so the bridge raises one itself (and resolves it when the
 * Watchdog is back). Watchdog notifications are consumed here, never delivered.
 */

export interface WatchdogOptions {
  alertname: string;
  timeoutMs: number;
}

export type RaiseAlarm = (notification: Notification) => Promise<unknown>;

export class Watchdog {
  /** When the grace period started: the bridge's start, until a Watchdog alert arrives. */
  private readonly startedAt: number;
  /** When the Watchdog alert last arrived; undefined when it never has since the start. */
  private lastSeen: number | undefined;
  private missingSince: number | undefined;
  /** The alarm is spooled (or being spooled); false again when that failed, so the next check retries. */
  private alarmRaised = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: WatchdogOptions,
    private readonly raise: RaiseAlarm,
    private readonly metrics: BridgeMetrics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    // A fresh start gets a full timeout of grace.
    this.startedAt = now();
  }

  start(): void {
    const every = Math.min(Math.max(this.options.timeoutMs / 10, 1_000), 60_000);
    this.timer = setInterval(() => void this.check(), every);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One line for the status page. */
  describe(timeZone: string): string {
    const last =
      this.lastSeen === undefined ? 'never seen' : `last seen ${formatDateTime(this.lastSeen, timeZone)}`;
    return this.missingSince === undefined ? last : `MISSING, ${last}`;
  }

  /**
   * Takes the Watchdog alerts out of a notification; returns what is left to deliver, or undefined
   * when nothing is.
   */
  observe(notification: Notification): Notification | undefined {
    const isWatchdog = (a: Alert): boolean => a.labels.alertname === this.options.alertname;
    if (!notification.alerts.some(isWatchdog)) return notification;
    if (notification.alerts.some((a) => isWatchdog(a) && a.status === 'firing')) this.heartbeat();
    const rest = notification.alerts.filter((a) => !isWatchdog(a));
    return rest.length === 0 ? undefined : { ...notification, alerts: rest };
  }

  async check(): Promise<void> {
    const now = this.now();
    if (this.alarmRaised || now - (this.lastSeen ?? this.startedAt) <= this.options.timeoutMs) return;
    if (this.missingSince === undefined) {
      this.missingSince = now;
      this.metrics.watchdogMissing.set(1);
      this.log.error(
        { lastSeen: this.lastSeen === undefined ? 'never' : new Date(this.lastSeen).toISOString() },
        'Watchdog alert overdue: the alerting pipeline is broken',
      );
    }
    this.alarmRaised = true;
    if (!(await this.send('firing', now))) this.alarmRaised = false;
  }

  private heartbeat(): void {
    const now = this.now();
    this.lastSeen = now;
    this.metrics.watchdogLastSeen.set(now / 1000);
    if (this.missingSince !== undefined) {
      this.metrics.watchdogMissing.set(0);
      this.log.info('Watchdog alert is back');
      // Nothing to resolve when the alarm never made it into the spool.
      if (this.alarmRaised) void this.send('resolved', now);
      this.missingSince = undefined;
      this.alarmRaised = false;
    }
  }

  /** What a person reads in the WatchdogMissing mail: what was expected, what came, the likely causes. */
  private description(): string {
    const every = formatDuration(this.options.timeoutMs);
    const arrived =
      this.lastSeen === undefined
        ? `it has not arrived since the bridge started at ${new Date(this.startedAt).toISOString()}`
        : `it last arrived at ${new Date(this.lastSeen).toISOString()}`;
    return (
      `vigil bridge expects the always-firing ${this.options.alertname} alert at least every ${every} (bridge.watchdog.timeout); ${arrived}. ` +
      `Likely causes: Alertmanager's repeat_interval for the ${this.options.alertname} route is longer than ${every} (it must be shorter, e.g. half), ` +
      `the route does not send it to this bridge, or Prometheus, its rule evaluation or Alertmanager is down.`
    );
  }

  /** Spools the alarm (or its resolution); false when that failed, which is logged. */
  private async send(status: 'firing' | 'resolved', now: number): Promise<boolean> {
    const since = this.missingSince ?? now;
    const labels = { alertname: 'WatchdogMissing', severity: 'critical' };
    const alert: Alert = {
      status,
      labels,
      annotations: {
        summary:
          status === 'firing'
            ? `The ${this.options.alertname} alert stopped arriving: alerts may not be reaching anyone`
            : `The ${this.options.alertname} alert is arriving again`,
        description: this.description(),
      },
      startsAt: since,
      endsAt: status === 'resolved' ? now : null,
      generatorURL: '',
      fingerprint: 'vigil-watchdog-missing',
    };
    try {
      await this.raise({
        receiver: 'vigil-watchdog',
        status,
        alerts: [alert],
        groupLabels: { alertname: 'WatchdogMissing' },
        commonLabels: labels,
        commonAnnotations: {},
        externalURL: '',
        groupKey: 'vigil-watchdog',
        truncatedAlerts: 0,
      });
      return true;
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'cannot spool the Watchdog notification');
      return false;
    }
  }
}
