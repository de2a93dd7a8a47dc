import { buildView } from '../../src/bridge/render/message';
import { loadTemplates, templateParts, TEMPLATE_SETS } from '../../src/bridge/render/templates';
import { parseNotification } from '../../src/bridge/payload';
import { alertmanagerPayload } from './fixtures';

const NOW = Date.UTC(2026, 10, 23, 14, 20);
const source = (text: string) => ({ text, key: 'inline' });

function view(instance: string) {
  const parsed = parseNotification(alertmanagerPayload({ instances: [instance] }));
  if (!parsed.ok) throw new Error(parsed.reason);
  const n = parsed.notification;
  return buildView(
    { notification: n, alerts: n.alerts.map((alert) => ({ alert, unit: 'short' })) },
    {
      route: 'default',
      timeZone: 'UTC',
      now: NOW,
    },
  );
}

describe('template sets per channel type', () => {
  it('every built-in part of every set renders the one view', () => {
    const v = view('web-1');
    for (const set of ['email', 'slack', 'teams', 'twilio', 'webhook'] as const) {
      const templates = loadTemplates(set);
      for (const [part, spec] of Object.entries(TEMPLATE_SETS[set])) {
        const out =
          spec.scope === 'alert'
            ? templates.renderAlert(part as never, v, 0)
            : templates.render(part as never, v);
        expect([set, part, out.includes('HostHighCpu') || out.includes('FIRING')]).toEqual([set, part, true]);
      }
    }
    expect(templateParts('slack')).toEqual(['title', 'alert']);
  });

  it('an alert part sees one alert, and the whole view as @root', () => {
    const slack = loadTemplates('slack', {
      alert: source('{{name}} on {{labels.0.value}} via {{@root.route}}'),
    });
    expect(slack.renderAlert('alert', view('web-1'), 0)).toBe('HostHighCpu on web-1 via default');
  });

  it.each([
    ['slack', 'alert', '<b>&</b>', '&lt;b&gt;&amp;&lt;/b&gt;'],
    ['teams', 'alert', '[x](http://e) *y*', '\\[x\\](http://e) \\*y\\*'],
    ['webhook', 'body', '"}\n', '\\"}\\n'],
    ['email', 'html', '<script>', '&lt;script&gt;'],
    ['twilio', 'text', 'a\u0007b', 'ab'],
  ] as const)(
    '%s escapes a hostile label for its markup, even in {{{triple}}} stashes',
    (set, part, hostile, escaped) => {
      const text = part === 'alert' ? '{{{labels.0.value}}}' : '{{{alerts.0.labels.0.value}}}';
      const templates = loadTemplates(set, { [part]: { text, key: part } });
      const v = view(hostile);
      const out =
        part === 'alert'
          ? (templates as ReturnType<typeof loadTemplates<'slack'>>).renderAlert('alert', v, 0)
          : (templates as ReturnType<typeof loadTemplates<'email'>>).render(part as 'html', v);
      expect(out).toBe(escaped);
    },
  );

  it('one-line parts stay on one line', () => {
    const slack = loadTemplates('slack', { title: source('{{subject}}\nsecond line') });
    expect(slack.render('title', view('web-1'))).not.toMatch(/\n/);
  });
});
