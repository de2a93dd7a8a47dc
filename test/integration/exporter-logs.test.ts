import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LOG_WRITER } from '../helpers/log-writer';
import { startProcess } from '../helpers/process';
import { PROMTOOL_BIN } from '../helpers/prometheus';
import { tempDir } from '../helpers/tmp';
import { runVigil, startVigil, type StartedVigil } from '../helpers/vigil';
import { waitFor } from '../helpers/wait';

const EXAMPLE = 'examples/batch-jobs.yml';

async function metricsText(vigil: StartedVigil): Promise<string> {
  const response = await fetch(`${vigil.url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** `name{labels} value` lines of the exposition, as a map from series to value. */
function series(body: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

function promtoolCheckMetrics(body: string): string {
  try {
    return execFileSync(PROMTOOL_BIN, ['check', 'metrics'], { input: body, encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    const failed = err as { stdout?: string; stderr?: string };
    return `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
  }
}

describe('vigil exporter with exporter.logs', () => {
  let dir: ReturnType<typeof tempDir>;
  let vigil: StartedVigil | undefined;

  beforeEach(() => {
    dir = tempDir('vigil-logs-it-');
  });
  afterEach(async () => {
    await vigil?.stop();
    vigil = undefined;
    dir.remove();
  });

  it(`turns the batch scheduler log of ${EXAMPLE} into the metrics it promises, which promtool accepts`, async () => {
    vigil = await startVigil(
      'exporter',
      ['--config', EXAMPLE, '--collector.disable-defaults', '--collector.logs'],
      { VIGIL_STATE_DIR: dir.path },
    );
    const body = await waitFor(
      async () => {
        const text = await metricsText(vigil!);
        return (
          series(text).get(
            'vigil_log_lines_read_total{file="' + path.resolve('examples/batch-jobs/scheduler.log') + '"}',
          ) === 14 && text
        );
      },
      { what: 'the example log read' },
    );
    const values = series(body);
    expect(Object.fromEntries([...values].filter(([key]) => key.startsWith('batch_')))).toEqual({
      'batch_job_duration_seconds_bucket{queue="hourly",le="10"}': 1,
      'batch_job_duration_seconds_bucket{queue="hourly",le="300"}': 3,
      'batch_job_duration_seconds_bucket{queue="hourly",le="3600"}': 3,
      'batch_job_duration_seconds_bucket{queue="hourly",le="60"}': 3,
      'batch_job_duration_seconds_bucket{queue="hourly",le="900"}': 3,
      'batch_job_duration_seconds_bucket{queue="hourly",le="+Inf"}': 3,
      'batch_job_duration_seconds_bucket{queue="nightly",le="10"}': 0,
      'batch_job_duration_seconds_bucket{queue="nightly",le="300"}': 0,
      'batch_job_duration_seconds_bucket{queue="nightly",le="3600"}': 2,
      'batch_job_duration_seconds_bucket{queue="nightly",le="60"}': 0,
      'batch_job_duration_seconds_bucket{queue="nightly",le="900"}': 1,
      'batch_job_duration_seconds_bucket{queue="nightly",le="+Inf"}': 2,
      'batch_job_duration_seconds_count{queue="hourly"}': 3,
      'batch_job_duration_seconds_count{queue="nightly"}': 2,
      'batch_job_duration_seconds_sum{queue="hourly"}': expect.closeTo(83.2, 9),
      'batch_job_duration_seconds_sum{queue="nightly"}': expect.closeTo(2201.8, 9),
      'batch_job_last_exit_code{job_name="backup-db"}': 0,
      'batch_job_last_exit_code{job_name="etl-orders"}': 2,
      'batch_job_last_exit_code{job_name="reindex-search"}': 137,
      'batch_jobs_finished_total{job_name="backup-db",queue="nightly",outcome="succeeded"}': 1,
      'batch_jobs_finished_total{job_name="etl-orders",queue="hourly",outcome="failed"}': 1,
      'batch_jobs_finished_total{job_name="etl-orders",queue="hourly",outcome="succeeded"}': 2,
      'batch_jobs_finished_total{job_name="reindex-search",queue="nightly",outcome="failed"}': 1,
      'batch_queue_pending_jobs{queue="hourly"}': 3,
      'batch_queue_pending_jobs{queue="nightly"}': 0,
    });
    expect(values.get('vigil_log_files_followed')).toBe(1);
    expect(values.get('node_scrape_collector_success{collector="logs"}')).toBe(1);
    expect(promtoolCheckMetrics(body)).toBe('');
  });

  it('counts the lines another process writes while it runs, across a rename, exactly', async () => {
    const log = path.join(dir.path, 'app.log');
    fs.writeFileSync(log, '');
    const config = path.join(dir.path, 'vigil.yml');
    fs.writeFileSync(
      config,
      [
        'exporter:',
        '  collectors:',
        `    logs: { state_file: '${dir.path}/positions.json', poll_interval: 50ms }`,
        '  logs:',
        `    - files: ['${dir.path}/*.log']`,
        '      rules:',
        "        - { regex: '^line \\d+ ', metric: app_lines_total, type: counter }",
      ].join('\n'),
    );
    vigil = await startVigil('exporter', [
      '--config',
      config,
      '--collector.disable-defaults',
      '--collector.logs',
    ]);
    await waitFor(async () => series(await metricsText(vigil!)).get('vigil_log_files_followed') === 1);
    const writer = startProcess(process.execPath, [
      '--import',
      'tsx',
      LOG_WRITER,
      log,
      JSON.stringify([
        { write: 3000, burst: 50 },
        { rename: `${log}.1`, stragglers: 10 },
        { write: 2000, burst: 50 },
      ]),
    ]);
    expect(await writer.stop('SIGCONT')).toBe(0);
    const written = Number(writer.output().trim());
    expect(written).toBe(5010);
    await waitFor(async () => series(await metricsText(vigil!)).get('app_lines_total') === written, {
      what: `${written} lines`,
    });
    // Still exact a few rounds later: nothing was read twice.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const body = await metricsText(vigil);
    expect(series(body).get('app_lines_total')).toBe(written);
    expect(promtoolCheckMetrics(body)).toBe('');
  });

  it.each([
    ["regex: 'job (?<status>done'", 'exporter.logs[0].rules[0].regex: invalid regular expression'],
    ["regex: 'x', metric: 'batch-jobs_total'", 'exporter.logs[0].rules[0].metric: invalid metric name'],
    [
      "regex: '(?<status>x)', metric: jobs_total, labels: [state]",
      'exporter.logs[0].rules[0].labels[0]: no group named "state"',
    ],
    [
      "regex: 'x', metric: jobs_total, const_labels: { '__name': a }",
      'exporter.logs[0].rules[0].const_labels.__name: invalid label name',
    ],
    ["regex: 'x', metric: jobs", 'exporter.logs[0].rules[0].metric: a counter name ends in _total'],
  ])('rejects %s at start with its key path (exit 2, one line)', (rule, message) => {
    const config = path.join(dir.path, 'bad.yml');
    const fields = rule.includes('metric:') ? rule : `${rule}, metric: jobs_total`;
    fs.writeFileSync(
      config,
      `exporter:\n  logs:\n    - files: ['/tmp/*.log']\n      rules:\n        - { ${fields}, type: counter }\n`,
    );
    const result = runVigil(['exporter', '--config', config, '--check-config']);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining(message)]);
  });
});
