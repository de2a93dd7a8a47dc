import Handlebars from 'handlebars';
import type { TemplateSource } from '../../config/bridge';
import { UserError } from '../../common/errors';
import { ESCAPERS, escapeDeep, type Markup } from './escape';
import { headerSafe, type AlertView, type MessageView } from './message';

/**
 * The template sets of every channel type, with their built-in defaults, in one place. Every part
 * renders the one message view (a `message` part the whole view, an `alert` part one alert of it,
 * the whole view as @root). Values reach a part already escaped for its markup, so `{{value}}` and
 * `{{{value}}}` are equally safe in user templates; one-line parts (subjects, titles) are also
 * forced onto one line. Users replace any part in the channel's `templates:` (`<part>: inline` or
 * `<part>_file: path`); a broken template fails at start, not at 3 a.m.
 */

interface PartSpec {
  scope: 'message' | 'alert';
  markup: Markup;
  oneLine?: boolean;
  source: string;
}

const hb = Handlebars.create();
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);

export const TEMPLATE_SETS = {
  email: {
    subject: { scope: 'message', markup: 'text', oneLine: true, source: '{{subject}}' },
    html: { scope: 'message', markup: 'html', source: EMAIL_HTML() },
    text: { scope: 'message', markup: 'text', source: EMAIL_TEXT() },
  },
  slack: {
    title: { scope: 'message', markup: 'text', oneLine: true, source: '{{subject}}' },
    alert: { scope: 'alert', markup: 'mrkdwn', source: SLACK_ALERT() },
  },
  teams: {
    title: { scope: 'message', markup: 'teams', oneLine: true, source: '{{subject}}' },
    alert: { scope: 'alert', markup: 'teams', source: TEAMS_ALERT() },
  },
  twilio: {
    text: { scope: 'message', markup: 'text', source: SMS_TEXT() },
  },
  webhook: {
    body: { scope: 'message', markup: 'json', source: WEBHOOK_BODY() },
  },
  // One value per alert, to the trapper item `key` of `host`: the trigger of the shipped template
  // (examples/zabbix/) reads FIRING/RESOLVED and the fingerprint from the start of `value`.
  zabbix: {
    host: { scope: 'alert', markup: 'text', oneLine: true, source: '{{host}}' },
    key: { scope: 'alert', markup: 'text', oneLine: true, source: 'vigil.alert[{{severity}}]' },
    value: { scope: 'alert', markup: 'text', oneLine: true, source: ZABBIX_VALUE() },
  },
  // One passive service check result per alert; the alert's value goes along as perfdata.
  nagios: {
    host: { scope: 'alert', markup: 'text', oneLine: true, source: '{{host}}' },
    service: { scope: 'alert', markup: 'text', oneLine: true, source: '{{name}}' },
    output: { scope: 'alert', markup: 'text', oneLine: true, source: PASSIVE_OUTPUT() },
  },
  icinga: {
    host: { scope: 'alert', markup: 'text', oneLine: true, source: '{{host}}' },
    service: { scope: 'alert', markup: 'text', oneLine: true, source: '{{name}}' },
    output: { scope: 'alert', markup: 'text', oneLine: true, source: PASSIVE_OUTPUT() },
  },
} as const satisfies Record<string, Record<string, PartSpec>>;

export type TemplateSetName = keyof typeof TEMPLATE_SETS;
type PartsOf<T extends TemplateSetName> = (typeof TEMPLATE_SETS)[T];
type PartName<T extends TemplateSetName, S extends PartSpec['scope']> = {
  [K in keyof PartsOf<T>]: PartsOf<T>[K] extends { scope: S } ? K : never;
}[keyof PartsOf<T>] &
  string;

/** The part names of a set: the keys its channel's `templates:` takes. */
export function templateParts(set: TemplateSetName): string[] {
  return Object.keys(TEMPLATE_SETS[set]);
}

export interface Templates<T extends TemplateSetName> {
  render(part: PartName<T, 'message'>, view: MessageView): string;
  /** One alert of the view (by index), with the view as @root. */
  renderAlert(part: PartName<T, 'alert'>, view: MessageView, index: number): string;
}

/** The set for a channel type, with the user's parts (read by the configuration) in place of the defaults. */
export function loadTemplates<T extends TemplateSetName>(
  set: T,
  sources: Readonly<Record<string, TemplateSource | undefined>> = {},
  where = 'templates',
): Templates<T> {
  const compiled = new Map<string, { spec: PartSpec; template: HandlebarsTemplateDelegate }>();
  for (const [part, spec] of Object.entries(TEMPLATE_SETS[set]) as Array<[string, PartSpec]>) {
    const source = sources[part] ?? { text: spec.source, key: part };
    compiled.set(part, { spec, template: compile(source.text, spec, `${where}.${source.key}`) });
  }
  const escaped = (view: MessageView, spec: PartSpec): MessageView => escapeDeep(view, ESCAPERS[spec.markup]);
  const finish = (text: string, spec: PartSpec): string => (spec.oneLine ? headerSafe(text) : text);
  return {
    render(part, view) {
      const { spec, template } = compiled.get(part)!;
      return finish(template(escaped(view, spec)), spec);
    },
    renderAlert(part, view, index) {
      const { spec, template } = compiled.get(part)!;
      const root = escaped(view, spec);
      return finish(template(root.alerts[index], { data: { root } }), spec);
    },
  };
}

function compile(source: string, spec: PartSpec, key: string): HandlebarsTemplateDelegate {
  try {
    // Values are escaped before they reach the template, for its markup rather than always for HTML.
    const template = hb.compile(source, { noEscape: true, strict: false });
    // Run now on a sample: a broken template fails at start.
    if (spec.scope === 'alert') template(SAMPLE_ALERT, { data: { root: SAMPLE_VIEW } });
    else template(SAMPLE_VIEW);
    return template;
  } catch (err) {
    // Handlebars' parse errors are several lines: where, the line, a caret, what it expected.
    const lines = (err as Error).message.split('\n').filter((line) => line.trim() !== '');
    const reason = lines.length > 1 ? `${lines[0]} ${lines[lines.length - 1]}` : lines[0];
    throw new UserError(`${key}: invalid template: ${reason}`);
  }
}

const SAMPLE_ALERT: AlertView = {
  name: 'Sample',
  status: 'FIRING',
  firing: true,
  labels: [{ name: 'instance', value: 'web-1' }],
  annotations: [],
  startsAt: '1 Jan 2026, 00:00:00 UTC',
  duration: '5m',
  links: {},
  fingerprint: '0123456789abcdef',
  severity: 'critical',
  state: 'CRITICAL',
  host: 'web-1',
  value: '1',
  label: { alertname: 'Sample', instance: 'web-1:9100', severity: 'critical' },
};

const SAMPLE_VIEW: MessageView = {
  status: 'FIRING',
  firing: true,
  subject: '[FIRING:1] Sample',
  headline: '1 alert firing: Sample',
  receiver: 'sample',
  route: 'default',
  groupLabels: [],
  commonLabels: [],
  alerts: [SAMPLE_ALERT],
  firingCount: 1,
  resolvedCount: 0,
  truncatedAlerts: 0,
  timeZone: 'UTC',
};

// The defaults: functions (hoisted) so the table above reads first.

function EMAIL_TEXT(): string {
  return `{{headline}}
{{#each alerts}}

== {{status}}: {{name}}{{#if summary}} - {{summary}}{{/if}}
{{#if description}}{{description}}
{{/if}}{{#if explanation}}Why unusual: {{explanation}}
{{/if}}Started: {{startsAt}}{{#if endsAt}}
Ended:   {{endsAt}}{{/if}} ({{duration}})
Labels:
{{#each labels}}  {{name}} = {{value}}
{{/each}}{{#each annotations}}{{name}}: {{value}}
{{/each}}{{#if graphError}}Graph: {{graphError}}
{{/if}}{{#if graph.url}}Graph: {{graph.url}}
{{/if}}{{#if graph.csvName}}Data: attached as {{graph.csvName}}
{{/if}}{{#if links.source}}Source: {{links.source}}
{{/if}}{{#if links.silence}}Silence: {{links.silence}}
{{/if}}{{#if links.runbook}}Runbook: {{links.runbook}}
{{/if}}{{/each}}{{#if truncatedAlerts}}
And {{truncatedAlerts}} more alerts, not listed here.
{{/if}}
--
Sent by vigil bridge, route {{route}}, times in {{timeZone}}.{{#if statusPageUrl}} Status: {{statusPageUrl}}{{/if}}
`;
}

function EMAIL_HTML(): string {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{subject}}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#222">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7"><tr><td align="center" style="padding:16px 8px">
<table role="presentation" width="840" cellpadding="0" cellspacing="0" style="max-width:840px;width:100%;background:#ffffff;border-radius:6px;overflow:hidden;border:1px solid #e1e4e8">
<tr><td style="padding:14px 20px;background:{{#if firing}}#c53a32{{else}}#2e8b3e{{/if}};color:#ffffff;font-size:18px;font-weight:bold">
{{#if firing}}&#9888; {{else}}&#10004; {{/if}}{{headline}}</td></tr>
{{#if commonLabels.length}}<tr><td style="padding:10px 20px 0 20px;font-size:12px;color:#555">
{{#each commonLabels}}<span style="display:inline-block;margin:2px 4px 2px 0;padding:2px 6px;background:#eef1f5;border-radius:3px;font-family:monospace">{{name}}={{value}}</span>{{/each}}
</td></tr>{{/if}}
{{#each alerts}}
<tr><td style="padding:16px 20px;border-bottom:1px solid #eceef1">
<div style="font-size:16px;font-weight:bold;color:{{#if firing}}#c53a32{{else}}#2e8b3e{{/if}}">{{status}}: {{name}}</div>
{{#if summary}}<div style="font-size:15px;margin-top:4px">{{summary}}</div>{{/if}}
{{#if description}}<div style="font-size:13px;color:#444;margin-top:4px;white-space:pre-wrap">{{description}}</div>{{/if}}
{{#if explanation}}<div style="font-size:14px;margin-top:8px;padding:8px 10px;background:#fff6e5;border-left:4px solid #ef8636">Why unusual: <b>{{explanation}}</b></div>{{/if}}
<div style="font-size:12px;color:#666;margin-top:8px">Started {{startsAt}}{{#if endsAt}} &middot; ended {{endsAt}}{{/if}} &middot; {{#if firing}}firing for{{else}}lasted{{/if}} {{duration}}</div>
{{#if graph}}<div style="margin-top:10px">{{#if graph.url}}<a href="{{graph.url}}">{{/if}}<img src="cid:{{graph.cid}}" alt="graph of {{name}}" width="800" style="max-width:100%;height:auto;border:1px solid #eceef1">{{#if graph.url}}</a>{{/if}}</div>{{/if}}
{{#if graphError}}<div style="font-size:12px;color:#8a6d3b;margin-top:8px;padding:6px 8px;background:#fcf8e3">{{graphError}}</div>{{/if}}
<table role="presentation" cellpadding="0" cellspacing="0" style="margin-top:10px;font-size:12px;border-collapse:collapse">
{{#each labels}}<tr><td style="padding:2px 12px 2px 0;color:#666;font-family:monospace">{{name}}</td><td style="padding:2px 0;font-family:monospace">{{value}}</td></tr>{{/each}}
{{#each annotations}}<tr><td style="padding:2px 12px 2px 0;color:#666">{{name}}</td><td style="padding:2px 0">{{value}}</td></tr>{{/each}}
</table>
<div style="margin-top:10px;font-size:13px">
{{#if links.source}}<a href="{{links.source}}" style="color:#3b75af;margin-right:14px">Source graph</a>{{/if}}
{{#if links.silence}}<a href="{{links.silence}}" style="color:#3b75af;margin-right:14px">Silence</a>{{/if}}
{{#if links.runbook}}<a href="{{links.runbook}}" style="color:#3b75af;margin-right:14px">Runbook</a>{{/if}}
{{#if graph.csvName}}<span style="color:#888">Data: {{graph.csvName}} (attached)</span>{{/if}}
</div>
</td></tr>
{{/each}}
{{#if truncatedAlerts}}<tr><td style="padding:10px 20px;font-size:13px;color:#666">And {{truncatedAlerts}} more alerts, not listed here.</td></tr>{{/if}}
<tr><td style="padding:10px 20px;font-size:11px;color:#999">Sent by vigil bridge &middot; route {{route}} &middot; times in {{timeZone}}{{#if statusPageUrl}} &middot; <a href="{{statusPageUrl}}" style="color:#999">status</a>{{/if}}</td></tr>
</table></td></tr></table></body></html>
`;
}

/** One section per alert, Slack mrkdwn. */
function SLACK_ALERT(): string {
  return `*{{status}}: {{name}}*{{#if summary}} - {{summary}}{{/if}}
{{#if description}}{{description}}
{{/if}}{{#if explanation}}_Why unusual:_ {{explanation}}
{{/if}}Started {{startsAt}}{{#if endsAt}}, ended {{endsAt}}{{/if}} ({{duration}})
{{#each labels}}\`{{name}}={{value}}\` {{/each}}
{{#each annotations}}*{{name}}:* {{value}}
{{/each}}{{#if graphError}}_{{graphError}}_
{{/if}}{{#if links.source}}<{{links.source}}|Source> {{/if}}{{#if links.silence}}<{{links.silence}}|Silence> {{/if}}{{#if links.runbook}}<{{links.runbook}}|Runbook>{{/if}}`;
}

/** One container per alert, Adaptive Card Markdown (paragraphs need a blank line). */
function TEAMS_ALERT(): string {
  return `**{{status}}: {{name}}**{{#if summary}} - {{summary}}{{/if}}
{{#if description}}

{{description}}{{/if}}{{#if explanation}}

Why unusual: **{{explanation}}**{{/if}}

Started {{startsAt}}{{#if endsAt}}, ended {{endsAt}}{{/if}} ({{duration}})

{{#each labels}}{{name}}={{value}}{{#unless @last}}, {{/unless}}{{/each}}{{#each annotations}}

{{name}}: {{value}}{{/each}}{{#if graphError}}

_{{graphError}}_{{/if}}`;
}

/** What matters first: status, name, where, summary; the rest only if the segment has room. */
function SMS_TEXT(): string {
  return `{{#if firing}}FIRING{{else}}RESOLVED{{/if}}{{#if alerts.[1]}} {{alerts.length}}x{{/if}} {{#with alerts.[0]}}{{name}}{{#each labels}}{{#if (eq name "instance")}} {{value}}{{/if}}{{/each}}{{#if summary}}: {{summary}}{{/if}}{{/with}}`;
}

/** A JSON document; every value is escaped for a JSON string, so write them in quotes. */
function ZABBIX_VALUE(): string {
  return '{{status}} {{fingerprint}} {{name}}: {{#if summary}}{{summary}}{{else}}{{name}} is {{status}}{{/if}}{{#if value}} (value {{value}}){{/if}}';
}

function PASSIVE_OUTPUT(): string {
  return '{{state}} - {{#if summary}}{{summary}}{{else}}{{name}} is {{status}}{{/if}}';
}

function WEBHOOK_BODY(): string {
  return `{
  "version": "1",
  "status": "{{#if firing}}firing{{else}}resolved{{/if}}",
  "subject": "{{subject}}",
  "receiver": "{{receiver}}",
  "route": "{{route}}",
  "externalURL": "{{externalURL}}",
  "groupLabels": { {{#each groupLabels}}{{#unless @first}}, {{/unless}}"{{name}}": "{{value}}"{{/each}} },
  "commonLabels": { {{#each commonLabels}}{{#unless @first}}, {{/unless}}"{{name}}": "{{value}}"{{/each}} },
  "alerts": [{{#each alerts}}{{#unless @first}},{{/unless}}
    {
      "status": "{{#if firing}}firing{{else}}resolved{{/if}}",
      "name": "{{name}}",
      "labels": { {{#each labels}}{{#unless @first}}, {{/unless}}"{{name}}": "{{value}}"{{/each}} },
      "summary": "{{summary}}",
      "description": "{{description}}",
      "startsAt": "{{startsAt}}",
      "endsAt": "{{endsAt}}",
      "graphURL": "{{graph.url}}",
      "sourceURL": "{{links.source}}",
      "silenceURL": "{{links.silence}}",
      "runbookURL": "{{links.runbook}}"
    }{{/each}}
  ]
}
`;
}
