import Handlebars from 'handlebars';
import { formatDuration } from '../common/duration';
import { formatDateTime } from './render/time';
import type { SpoolEntry } from './spool';

/** GET /: recent notifications and their deliveries. Every value is HTML-escaped by Handlebars. */

interface StatusView {
  generatedAt: string;
  pending: number;
  dead: number;
  watchdog?: string;
  rows: Array<{
    receivedAt: string;
    id: string;
    route: string;
    status: string;
    firing: boolean;
    title: string;
    alerts: number;
    plural: string;
    deliveries: Array<{
      channel: string;
      state: string;
      attempts: number;
      /** When a pending delivery is tried next. */
      nextAttempt?: string;
      error?: string;
      detail?: string;
      css: string;
    }>;
  }>;
}

const template = Handlebars.create().compile<StatusView>(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>vigil bridge</title>
<style>
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e6e6e6;vertical-align:top}
th{background:#f6f7f9}.firing{color:#c53a32;font-weight:bold}.resolved{color:#2e8b3e;font-weight:bold}
.delivered{color:#2e8b3e}.pending{color:#b07d12}.dead{color:#c53a32;font-weight:bold}.superseded{color:#888}.err{color:#888;font-size:12px}code{font-size:12px}
</style></head><body>
<h1>vigil bridge</h1>
<p>{{pending}} pending &middot; {{dead}} dead-lettered{{#if watchdog}} &middot; watchdog: {{watchdog}}{{/if}} &middot; as of {{generatedAt}}
&middot; <a href="metrics">metrics</a></p>
<table><tr><th>received</th><th>status</th><th>notification</th><th>route</th><th>deliveries</th></tr>
{{#each rows}}<tr><td>{{receivedAt}}<br><code>{{id}}</code></td><td class="{{#if firing}}firing{{else}}resolved{{/if}}">{{status}}</td>
<td>{{title}} ({{alerts}} alert{{plural}})</td><td>{{route}}</td>
<td>{{#each deliveries}}<div><span class="{{css}}">{{channel}}: {{state}}</span> after {{attempts}} attempt(s){{#if nextAttempt}}, next {{nextAttempt}}{{/if}}{{#if error}}<div class="err">{{error}}</div>{{/if}}{{#if detail}}<div class="err">{{detail}}</div>{{/if}}</div>{{else}}<span class="err">no channels</span>{{/each}}</td></tr>
{{else}}<tr><td colspan="5">No notifications yet.</td></tr>{{/each}}
</table></body></html>
`);

export function renderStatusPage(
  entries: SpoolEntry[],
  /** `deadLetters`: all of dead/, which `entries` (the recent ones) may not reach back to. */
  options: { timeZone: string; now: number; limit: number; deadLetters: number; watchdog?: string },
): string {
  const pick = entries.slice(0, options.limit);
  return template({
    generatedAt: formatDateTime(options.now, options.timeZone),
    pending: entries.filter((e) => e.deliveries.some((d) => d.state === 'pending')).length,
    dead: options.deadLetters,
    watchdog: options.watchdog,
    rows: pick.map((e) => {
      const n = e.notification;
      const name =
        n.groupLabels.alertname ?? n.commonLabels.alertname ?? n.alerts[0]?.labels.alertname ?? 'alerts';
      return {
        receivedAt: formatDateTime(e.receivedAt, options.timeZone),
        id: e.id,
        route: e.route,
        status: n.status.toUpperCase(),
        firing: n.status === 'firing',
        title: name,
        alerts: n.alerts.length,
        plural: n.alerts.length === 1 ? '' : 's',
        deliveries: e.deliveries.map((d) => ({
          channel: d.channel,
          state: d.state,
          attempts: d.attempts,
          nextAttempt: d.state === 'pending' ? nextAttemptText(d.nextAttemptAt, options) : undefined,
          error: d.state === 'delivered' ? undefined : d.lastError,
          detail: d.state === 'delivered' || d.state === 'superseded' ? d.detail : undefined,
          css: d.state,
        })),
      };
    }),
  });
}

/** "now" when due, else the time and how long until then: "14:02:10 (in 1m30s)". */
function nextAttemptText(at: number, options: { timeZone: string; now: number }): string {
  if (at <= options.now) return 'now';
  return `at ${formatDateTime(at, options.timeZone)} (in ${formatDuration(Math.ceil((at - options.now) / 1000) * 1000)})`;
}
