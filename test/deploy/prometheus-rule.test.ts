import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import {
  MANIFEST,
  PROMETHEUS_CONFIG,
  renderPrometheusRule,
  ruleFiles,
} from '../../deploy/kubernetes/generate-prometheus-rule';
import { PROMTOOL_BIN } from '../helpers/prometheus';
import { tempDir } from '../helpers/tmp';

describe('deploy/kubernetes/prometheus-rule.yaml', () => {
  it('is what the generator makes of the rule files prometheus/prometheus.yml loads (regenerate: npx tsx deploy/kubernetes/generate-prometheus-rule.ts)', () => {
    expect(fs.readFileSync(MANIFEST, 'utf8')).toBe(renderPrometheusRule(ruleFiles(PROMETHEUS_CONFIG)));
  });

  it('holds rules promtool accepts', () => {
    const dir = tempDir('vigil-prometheus-rule-');
    try {
      const manifest = YAML.parse(fs.readFileSync(MANIFEST, 'utf8')) as { spec: { groups: unknown[] } };
      const file = path.join(dir.path, 'rules.yml');
      fs.writeFileSync(file, YAML.stringify({ groups: manifest.spec.groups }));
      expect(execFileSync(PROMTOOL_BIN, ['check', 'rules', file], { encoding: 'utf8' })).toMatch(/SUCCESS/);
    } finally {
      dir.remove();
    }
  });

  it('takes the groups of every rule file, globs resolved as Prometheus does, in order', () => {
    const dir = tempDir('vigil-prometheus-rule-');
    try {
      fs.mkdirSync(path.join(dir.path, 'rules'));
      const group = (name: string) => ({ name, rules: [{ record: `job:${name}:sum`, expr: 'sum(up)' }] });
      fs.writeFileSync(path.join(dir.path, 'rules', 'b.yml'), YAML.stringify({ groups: [group('b')] }));
      fs.writeFileSync(
        path.join(dir.path, 'rules', 'a.yml'),
        YAML.stringify({ groups: [group('a1'), group('a2')] }),
      );
      fs.writeFileSync(path.join(dir.path, 'rules', 'notes.txt'), 'not a rule file');
      fs.writeFileSync(path.join(dir.path, 'alerts.yml'), YAML.stringify({ groups: [group('alerts')] }));
      const config = path.join(dir.path, 'prometheus.yml');
      fs.writeFileSync(config, YAML.stringify({ rule_files: ['alerts.yml', 'rules/*.yml'] }));
      const rendered = YAML.parse(renderPrometheusRule(ruleFiles(config))) as {
        kind: string;
        spec: { groups: Array<{ name: string }> };
      };
      expect(rendered.kind).toBe('PrometheusRule');
      expect(rendered.spec.groups.map((g) => g.name)).toEqual(['alerts', 'a1', 'a2', 'b']);
    } finally {
      dir.remove();
    }
  });
});
