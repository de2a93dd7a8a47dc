import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/** The repository's operations files (prometheus/, alertmanager/, grafana/, docs/). */
export const REPO = path.resolve(__dirname, '..', '..');
export const PROMETHEUS_DIR = path.join(REPO, 'prometheus');
export const ALERTMANAGER_CONFIG = path.join(REPO, 'alertmanager', 'alertmanager.yml');

export interface RuleFile {
  groups: Array<{ name: string; rules: PrometheusRule[] }>;
}

export interface PrometheusRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function readYaml<T>(file: string): T {
  return YAML.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Every rule file under prometheus/rules/, by file name. */
export function ruleFiles(): Map<string, RuleFile> {
  const dir = path.join(PROMETHEUS_DIR, 'rules');
  return new Map(
    fs
      .readdirSync(dir)
      .filter((name) => name.endsWith('.yml'))
      .sort()
      .map((name) => [name, readYaml<RuleFile>(path.join(dir, name))]),
  );
}

/** Every rule of every file under prometheus/rules/. */
export function allRules(): PrometheusRule[] {
  return [...ruleFiles().values()].flatMap((file) => file.groups.flatMap((group) => group.rules));
}
