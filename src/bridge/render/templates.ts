import Handlebars from 'handlebars';
import { errorMessage, UserError } from '../../common/errors';
import { readUserFile } from '../../common/files';
import { headerSafe, type MessageView } from './message';

/**
 * Message templates (Handlebars). The HTML template escapes every {{value}}; the text and subject
 * templates do not need to, and the subject is forced onto one line afterwards. Users replace any of
 * the three from files; the built-in ones are below.
 */

export interface MessageTemplates {
  subject(view: MessageView): string;
  html(view: MessageView): string;
  text(view: MessageView): string;
}

export interface TemplateSources {
  subject?: string;
  html_file?: string;
  text_file?: string;
}

const hb = Handlebars.create();

export function loadTemplates(sources: TemplateSources = {}, where = 'templates'): MessageTemplates {
  const read = (file: string | undefined, key: string): string | undefined => {
    if (file === undefined) return undefined;
    try {
      return readUserFile(file);
    } catch (err) {
      throw new UserError(`${where}.${key}: ${errorMessage(err)}`);
    }
  };
  const compile = (source: string, key: string, escape: boolean): HandlebarsTemplateDelegate<MessageView> => {
    try {
      const template = hb.compile<MessageView>(source, { noEscape: !escape, strict: false });
      // Compile now: a broken user template fails at start, not at 3 a.m.
      template(SAMPLE_VIEW);
      return template;
    } catch (err) {
      throw new UserError(`${where}.${key}: invalid template: ${(err as Error).message.split('\n')[0]}`);
    }
  };
  const subject = compile(sources.subject ?? '{{subject}}', 'subject', false);
  const html = compile(read(sources.html_file, 'html_file') ?? DEFAULT_HTML, 'html_file', true);
  const text = compile(read(sources.text_file, 'text_file') ?? DEFAULT_TEXT, 'text_file', false);
  return {
    subject: (view) => headerSafe(subject(view)),
    html: (view) => html(view),
    text: (view) => text(view),
  };
}

const SAMPLE_VIEW: MessageView = {
  status: 'FIRING',
  firing: true,
  subject: '[FIRING:1] Sample',
  headline: '1 alert firing: Sample',
  receiver: 'sample',
  route: 'default',
  groupLabels: [],
  commonLabels: [],
  alerts: [],
  firingCount: 1,
  resolvedCount: 0,
  truncatedAlerts: 0,
  timeZone: 'UTC',
};

const DEFAULT_TEXT = `{{headline}}
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
{{truncatedAlerts}} more alerts were left out by Alertmanager (max_alerts).
{{/if}}
--
Sent by vigil bridge, route {{route}}, times in {{timeZone}}.{{#if statusPageUrl}} Status: {{statusPageUrl}}{{/if}}
`;

const DEFAULT_HTML = `<!DOCTYPE html>
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
{{#if truncatedAlerts}}<tr><td style="padding:10px 20px;font-size:13px;color:#666">{{truncatedAlerts}} more alerts were left out by Alertmanager (max_alerts).</td></tr>{{/if}}
<tr><td style="padding:10px 20px;font-size:11px;color:#999">Sent by vigil bridge &middot; route {{route}} &middot; times in {{timeZone}}{{#if statusPageUrl}} &middot; <a href="{{statusPageUrl}}" style="color:#999">status</a>{{/if}}</td></tr>
</table></td></tr></table></body></html>
`;
