import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROMTOOL_BIN } from '../helpers/prometheus';
import { allRules, PROMETHEUS_DIR, readYaml, REPO } from './files';

interface PromtoolTestFile {
  rule_files: string[];
  tests: Array<{
    alert_rule_test?: Array<{ alertname: string; eval_time: string; exp_alerts?: unknown[] }>;
  }>;
}

const testFiles = fs
  .readdirSync(path.join(PROMETHEUS_DIR, 'tests'))
  .filter((name) => name.endsWith('.test.yml'))
  .map((name) => path.join(PROMETHEUS_DIR, 'tests', name));

const promtool = (args: string[]): string =>
  execFileSync(PROMTOOL_BIN, args, { cwd: REPO, encoding: 'utf8', stdio: 'pipe' });

const alerts = allRules().filter((rule) => rule.alert !== undefined);

describe('prometheus/', () => {
  it('passes promtool check config (which also checks every rule file it loads)', () => {
    expect(promtool(['check', 'config', 'prometheus/prometheus.yml'])).toMatch(/SUCCESS: .* is valid/);
  });

  it('passes promtool check rules', () => {
    const rules = fs.readdirSync(path.join(PROMETHEUS_DIR, 'rules')).map((f) => `prometheus/rules/${f}`);
    expect(promtool(['check', 'rules', ...rules])).not.toMatch(/FAILED/);
  });

  it('passes promtool test rules', () => {
    const out = promtool(['test', 'rules', ...testFiles]);
    expect(out.match(/SUCCESS/g)).toHaveLength(testFiles.length);
  });

  it('has a unit test for every alert that shows it firing and not firing', () => {
    const cases = testFiles
      .map((file) => readYaml<PromtoolTestFile>(file))
      .flatMap((file) => file.tests.flatMap((test) => test.alert_rule_test ?? []));
    const fires = new Set(cases.filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname));
    const silent = new Set(cases.filter((c) => (c.exp_alerts ?? []).length === 0).map((c) => c.alertname));
    const names = [...new Set(alerts.map((rule) => rule.alert!))];
    expect(names.filter((name) => !fires.has(name))).toEqual([]);
    // The Watchdog is the one alert that never stops firing.
    expect(names.filter((name) => name !== 'Watchdog' && !silent.has(name))).toEqual([]);
  });

  it('gives every alert a severity, summary, description, runbook section and graph query', () => {
    const runbook = fs.readFileSync(path.join(REPO, 'docs', 'runbook.md'), 'utf8');
    const sections = new Set(
      [...runbook.matchAll(/^## (.+)$/gm)].map((m) => m[1].toLowerCase().replace(/[^a-z0-9]/g, '')),
    );
    for (const rule of alerts) {
      const where = `${rule.alert} (${rule.expr.trim()})`;
      const annotations = rule.annotations ?? {};
      expect([where, rule.labels?.severity]).toEqual([
        where,
        expect.stringMatching(/^(critical|warning|none)$/),
      ]);
      expect([where, annotations.summary]).toEqual([where, expect.any(String)]);
      const anchor = /runbook\.md#(.+)$/.exec(annotations.runbook_url ?? '')?.[1];
      expect([where, anchor !== undefined && sections.has(anchor)]).toEqual([where, true]);
      // A flag (up == 0, vigil_anomaly == 1, vector(1)) has no value worth quoting.
      const flag = /(==\s*[01]|vector\(1\))\s*$/.test(rule.expr.trim());
      if (!flag) expect([where, annotations.description]).toEqual([where, expect.stringContaining('$value')]);
      if (rule.alert !== 'Watchdog') expect([where, annotations.query]).toEqual([where, expect.any(String)]);
    }
  });

  it('scrapes the detector with honor_labels, so anomaly series keep the host as instance', () => {
    const config = readYaml<{ scrape_configs: Array<{ job_name: string; honor_labels?: boolean }> }>(
      path.join(PROMETHEUS_DIR, 'prometheus.yml'),
    );
    const jobs = Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, job]));
    expect(jobs['vigil-detector'].honor_labels).toBe(true);
    expect(jobs.node.honor_labels).toBeUndefined();
  });
});
