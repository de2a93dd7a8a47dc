import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { parseDuration } from '../../src/common/duration';

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

/**
 * Copies of the rule files with every `for:` divided by `factor` (15m -> 15s at 60), so a test
 * sees the repository's rules fire in seconds. Returns the copies' paths.
 */
export function scaledRuleFiles(dir: string, factor: number): string[] {
  return [...ruleFiles()].map(([name, file]) => {
    for (const group of file.groups) {
      for (const rule of group.rules) {
        if (rule.for !== undefined) rule.for = `${Math.max(1, parseDuration(rule.for) / factor / 1000)}s`;
      }
    }
    const copy = path.join(dir, name);
    fs.writeFileSync(copy, YAML.stringify(file));
    return copy;
  });
}

/**
 * prometheus/prometheus.yml with its jobs' static targets replaced (job -> host:port list), no
 * file_sd, 1-second scrapes and evaluations, the given rule files and Alertmanager.
 */
export function testPrometheusConfig(options: {
  targets: Record<string, string[]>;
  ruleFiles: string[];
  alertmanager: string;
}): unknown {
  const config = readYaml<{
    global: Record<string, string>;
    scrape_configs: Array<{ job_name: string; static_configs?: unknown; file_sd_configs?: unknown }>;
  }>(path.join(PROMETHEUS_DIR, 'prometheus.yml'));
  for (const job of config.scrape_configs) {
    const targets = options.targets[job.job_name];
    if (targets === undefined) throw new Error(`no test targets for job ${job.job_name}`);
    job.static_configs = [{ targets }];
    delete job.file_sd_configs;
  }
  return {
    ...config,
    global: { ...config.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: options.ruleFiles,
    alerting: { alertmanagers: [{ static_configs: [{ targets: [options.alertmanager] }] }] },
  };
}

/**
 * alertmanager/alertmanager.yml sending to `bridgeUrl` instead of http://localhost:9112, with
 * its waits shortened (seconds for minutes) so a test sees firing and resolved notifications.
 */
export function testAlertmanagerConfig(bridgeUrl: string): unknown {
  const text = fs.readFileSync(ALERTMANAGER_CONFIG, 'utf8').replaceAll('http://localhost:9112', bridgeUrl);
  const config = YAML.parse(text) as {
    route: Record<string, unknown> & { routes: Array<Record<string, unknown>> };
  };
  const shorten = (route: Record<string, unknown>) => {
    if (route.group_wait !== undefined) route.group_wait = '1s';
    if (route.group_interval !== undefined) route.group_interval = '2s';
  };
  shorten(config.route);
  config.route.routes.forEach(shorten);
  return config;
}
