/**
 * Writes deploy/kubernetes/prometheus-rule.yaml: a PrometheusRule holding every rule group of the
 * rule files prometheus/prometheus.yml loads, so the Operator's rules and the shipped files never
 * drift (a test fails when the committed manifest differs from what this prints).
 *
 *   npx tsx deploy/kubernetes/generate-prometheus-rule.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const REPO = path.resolve(__dirname, '..', '..');
export const PROMETHEUS_CONFIG = path.join(REPO, 'prometheus', 'prometheus.yml');
export const MANIFEST = path.join(REPO, 'deploy', 'kubernetes', 'prometheus-rule.yaml');

/** `rule_files` entries as Prometheus resolves them: relative to the config, `*`/`?` in the file name. */
export function ruleFiles(configFile: string): string[] {
  if (!fs.existsSync(configFile)) return [];
  const config = (YAML.parse(fs.readFileSync(configFile, 'utf8')) ?? {}) as { rule_files?: string[] };
  const files: string[] = [];
  for (const entry of config.rule_files ?? []) {
    const pattern = path.resolve(path.dirname(configFile), entry);
    const dir = path.dirname(pattern);
    const name = path.basename(pattern);
    if (!/[*?[]/.test(name)) {
      files.push(pattern);
      continue;
    }
    const matcher = new RegExp(
      `^${name
        .replace(/[.+^${}()|\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}$`,
    );
    files.push(
      ...fs
        .readdirSync(dir)
        .filter((file) => matcher.test(file))
        .sort()
        .map((file) => path.join(dir, file)),
    );
  }
  return files;
}

/** The manifest's text for the given rule files (groups in file order, rules unchanged). */
export function renderPrometheusRule(files: string[]): string {
  const groups: unknown[] = [];
  for (const file of files) {
    const parsed = (YAML.parse(fs.readFileSync(file, 'utf8')) ?? {}) as { groups?: unknown[] };
    groups.push(...(parsed.groups ?? []));
  }
  const sources = files.map((file) => path.relative(REPO, file)).join(', ') || 'none';
  const manifest = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'vigil',
      labels: { 'app.kubernetes.io/name': 'vigil', 'app.kubernetes.io/component': 'rules' },
    },
    spec: { groups },
  };
  return (
    `# Generated from ${sources} by deploy/kubernetes/generate-prometheus-rule.ts; do not edit.\n` +
    YAML.stringify(manifest, { lineWidth: 0 })
  );
}

if (require.main === module) {
  fs.writeFileSync(MANIFEST, renderPrometheusRule(ruleFiles(PROMETHEUS_CONFIG)));
  process.stdout.write(`wrote ${path.relative(process.cwd(), MANIFEST)}\n`);
}
