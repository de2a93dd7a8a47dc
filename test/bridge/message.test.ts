import type { EnrichedNotification } from '../../src/bridge/evidence';
import { parseNotification, type Notification } from '../../src/bridge/payload';
import { buildView, headerSafe, subjectLine } from '../../src/bridge/render/message';
import { loadTemplates, templateParts } from '../../src/bridge/render/templates';
import { readTemplates } from '../../src/config/bridge';
import { tempDir } from '../helpers/tmp';
import fs from 'node:fs';
import path from 'node:path';
import { alertmanagerPayload, type PayloadOptions } from './fixtures';

function notification(o: PayloadOptions = {}): Notification {
  const result = parseNotification(alertmanagerPayload(o));
  if (!result.ok) throw new Error(result.reason);
  return result.notification;
}

function enriched(n: Notification): EnrichedNotification {
  return { notification: n, alerts: n.alerts.map((alert) => ({ alert, unit: 'short' })) };
}

const NOW = Date.UTC(2026, 10, 23, 14, 20);

describe('subject', () => {
  it("reads like Alertmanager's", () => {
    expect(subjectLine(notification({ instances: ['web-1', 'web-2'] }))).toBe(
      '[FIRING:2] HostHighCpu (job=node severity=critical)',
    );
    expect(subjectLine(notification())).toBe(
      '[FIRING:1] HostHighCpu (instance=web-1 job=node severity=critical)',
    );
    expect(subjectLine(notification({ status: 'resolved' }))).toBe(
      '[RESOLVED] HostHighCpu (instance=web-1 job=node severity=critical)',
    );
  });

  it('keeps labels named like Object.prototype members: constructor in the Subject, __proto__ in links', () => {
    const payload = alertmanagerPayload();
    const text = JSON.stringify(payload)
      .replace('"commonLabels":{', '"commonLabels":{"constructor":"ctor-value",')
      .replace('"labels":{', '"labels":{"__proto__":"proto-value",');
    const parsed = parseNotification(JSON.parse(text));
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(subjectLine(parsed.notification)).toContain('constructor=ctor-value');
    const view = buildView(enriched(parsed.notification), { route: 'default', timeZone: 'UTC', now: NOW });
    expect(view.alerts[0].labels).toContainEqual({ name: '__proto__', value: 'proto-value' });
    expect(decodeURIComponent(view.alerts[0].links.silence ?? '')).toContain('__proto__="proto-value"');
  });

  it('shows how long a fresh alert has fired, to the second, not "0s"', () => {
    const n = notification({ startsAt: new Date(NOW - 20_000).toISOString() });
    const view = buildView(enriched(n), { route: 'default', timeZone: 'UTC', now: NOW });
    expect(view.alerts[0].duration).toBe('20s');
    const old = notification({ startsAt: new Date(NOW - 7_230_000).toISOString() });
    expect(buildView(enriched(old), { route: 'default', timeZone: 'UTC', now: NOW }).alerts[0].duration).toBe(
      '2h1m',
    );
  });

  it('takes bidirectional overrides out of the Subject', () => {
    const subject = subjectLine(notification({ instances: ['web-1\u202Egnp.exe'] }));
    expect(subject).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200e\u200f]/);
    expect(subject).toContain('web-1 gnp.exe');
  });

  it('never carries CR/LF into a header', () => {
    const n = notification({ instances: ['web-1\r\nBcc: victim@example.com'] });
    const subject = subjectLine(n);
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject).toContain('web-1 Bcc: victim@example.com');
    expect(headerSafe('a\u2028b\u0000c')).toBe('a b c');
  });
});

describe('message templates', () => {
  const templates = loadTemplates('email');

  it('escapes hostile label and annotation values in HTML and links only http(s)', () => {
    const n = notification({
      instances: ['<img src=x onerror=alert(1)>'],
      annotations: {
        summary: '<script>alert("x")</script>',
        runbook_url: 'javascript:alert(1)',
        note: '"><a href="http://evil">',
      },
      generatorURL: 'javascript:alert(2)',
    });
    const view = buildView(enriched(n), { route: 'default', timeZone: 'UTC', now: NOW });
    const html = templates.render('html', view);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('href="http://evil"');
    expect(html).not.toMatch(/javascript:/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).not.toContain('>Runbook<');
    expect(html).not.toContain('>Source graph<');
  });

  it('shows summary, labels, times, links and the silence in both parts', () => {
    const n = notification({ annotations: { runbook_url: 'https://runbooks.example/cpu' } });
    const view = buildView(enriched(n), {
      route: 'default',
      timeZone: 'Europe/Berlin',
      now: NOW,
      bridgeUrl: 'http://bridge:9112',
    });
    const text = templates.render('text', view);
    expect(text).toContain('== FIRING: HostHighCpu - CPU busy on web-1');
    expect(text).toContain('instance = web-1');
    expect(text).toContain('Started: 23 Nov 2026, 15:02:00 CET');
    expect(text).toContain('(18m)');
    expect(text).toContain('Runbook: https://runbooks.example/cpu');
    expect(text).toContain(
      `Silence: http://alertmanager.example:9093/#/silences/new?filter=${encodeURIComponent('{alertname="HostHighCpu", instance="web-1", job="node", severity="critical"}')}`,
    );
    expect(text).toContain('Source: http://prometheus.example:9090/graph?g0.expr=');
    const html = templates.render('html', view);
    expect(html).toContain('href="https://runbooks.example/cpu"');
    expect(html).toContain('#c53a32'); // the firing colour
  });

  it('makes resolved messages look different', () => {
    const view = buildView(enriched(notification({ status: 'resolved' })), {
      route: 'default',
      timeZone: 'UTC',
      now: NOW,
    });
    const html = templates.render('html', view);
    expect(view.headline).toBe('Resolved: HostHighCpu');
    expect(html).toContain('#2e8b3e');
    expect(html).not.toContain('background:#c53a32');
    expect(templates.render('text', view)).toContain('Ended:   23 Nov 2026, 14:30:00 UTC (28m)');
  });

  it('takes user templates from files and fails early on broken ones', () => {
    const dir = tempDir();
    try {
      const file = path.join(dir.path, 'mail.txt');
      fs.writeFileSync(file, 'Custom: {{#each alerts}}{{name}}@{{labels.0.value}}{{/each}}');
      const custom = loadTemplates(
        'email',
        readTemplates({ text_file: file, subject: 'ALERT {{headline}}\nBcc: x' }, templateParts('email')),
      );
      const view = buildView(enriched(notification()), { route: 'default', timeZone: 'UTC', now: NOW });
      expect(custom.render('text', view)).toBe('Custom: HostHighCpu@web-1');
      expect(custom.render('subject', view)).toBe('ALERT 1 alert firing: HostHighCpu Bcc: x');
      const broken = path.join(dir.path, 'broken.html');
      fs.writeFileSync(broken, '{{#each alerts}}');
      expect(() =>
        loadTemplates(
          'email',
          readTemplates({ html_file: broken }, templateParts('email')),
          'bridge.channels[0].templates',
        ),
      ).toThrow(/^bridge\.channels\[0\]\.templates\.html_file: invalid template: /);
      expect(() =>
        readTemplates({ text_file: path.join(dir.path, 'missing') }, templateParts('email')),
      ).toThrow(/^templates\.text_file: .*missing: cannot read: no such file$/);
    } finally {
      dir.remove();
    }
  });
});
