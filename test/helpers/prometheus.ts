import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { freePort } from './net';
import { startProcess, waitForHttp, type StartedProcess } from './process';
import { tempDir } from './tmp';
import { waitFor } from './wait';

export interface ScrapeTarget {
  job: string;
  /** host:port */
  targets: string[];
  interval?: string;
  metricsPath?: string;
}

export interface PrometheusOptions {
  scrapeTargets?: ScrapeTarget[];
  /** OpenMetrics text (ending in `# EOF`) backfilled with promtool before start. */
  backfillOpenMetrics?: string;
  /** Rule files (absolute paths) to load. */
  ruleFiles?: string[];
  evaluationInterval?: string;
  /** Extra `alerting:` section, e.g. to send to an Alertmanager. */
  alertmanagers?: string[];
  /** A whole configuration instead of the one built from the options above. */
  config?: unknown;
  /** Listen here (a port a peer was already told about) instead of a free one. */
  port?: number;
}

export interface StartedPrometheus {
  url: string;
  port: number;
  dataDir: string;
  process: StartedProcess;
  /** Instant query through the HTTP API; returns the `data.result` vector. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

export const PROMETHEUS_BIN = process.env.VIGIL_PROMETHEUS_BIN ?? 'prometheus';
export const PROMTOOL_BIN = process.env.VIGIL_PROMTOOL_BIN ?? 'promtool';

/** Debian's prometheus on 127.0.0.1 with a free port and a temporary data dir. */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<StartedPrometheus> {
  const dir = tempDir('vigil-prometheus-');
  const dataDir = path.join(dir.path, 'data');
  fs.mkdirSync(dataDir);
  if (options.backfillOpenMetrics !== undefined) {
    const input = path.join(dir.path, 'backfill.om');
    fs.writeFileSync(input, options.backfillOpenMetrics);
    execFileSync(PROMTOOL_BIN, ['tsdb', 'create-blocks-from', 'openmetrics', input, dataDir], {
      stdio: 'pipe',
    });
  }
  const config = {
    global: {
      scrape_interval: '1s',
      scrape_timeout: '1s',
      evaluation_interval: options.evaluationInterval ?? '1s',
    },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: (options.scrapeTargets ?? []).map((target) => ({
      job_name: target.job,
      scrape_interval: target.interval ?? '1s',
      metrics_path: target.metricsPath ?? '/metrics',
      static_configs: [{ targets: target.targets }],
    })),
    ...(options.alertmanagers
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: options.alertmanagers }] }] } }
      : {}),
  };
  const configFile = path.join(dir.path, 'prometheus.yml');
  fs.writeFileSync(configFile, YAML.stringify(options.config ?? config));
  const port = options.port ?? (await freePort());
  const proc = startProcess(PROMETHEUS_BIN, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    // Backfilled history may be weeks old; keep all of it.
    '--storage.tsdb.retention.time=100y',
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-admin-api',
    '--web.enable-lifecycle',
    '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc);
  return {
    url,
    port,
    dataDir,
    process: proc,
    async query(expr: string) {
      const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
      const body = (await response.json()) as { status: string; error?: string; data: { result: [] } };
      if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
      return body.data.result;
    },
    async stop() {
      await proc.stop();
      dir.remove();
    },
  };
}

/** Waits until every target of Prometheus is up (has been scraped successfully). */
export async function waitForTargetsUp(prometheus: StartedPrometheus, count: number): Promise<void> {
  await waitFor(
    async () => {
      const up = await prometheus.query('up == 1');
      return up.length >= count;
    },
    { what: `${count} targets up` },
  );
}
