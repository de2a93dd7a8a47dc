import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PrometheusClient } from '../../src/common/prometheus-client';
import { parseConfig } from '../../src/config/load';
import { freePort } from '../helpers/net';
import { startProcess, waitForHttp, type StartedProcess } from '../helpers/process';
import { PROMTOOL_BIN, startPrometheus, type StartedPrometheus } from '../helpers/prometheus';
import { tempDir } from '../helpers/tmp';
import { VIGIL_CLI } from '../helpers/vigil';
import { waitFor } from '../helpers/wait';
import { noise } from '../detector/series';

const MINUTE = 60_000;

/**
 * Four hours of history at 1-minute steps for two hosts whose load dips to idle (5) for 15
 * minutes every hour and is busy (60) otherwise: a season of one hour keeps the test short.
 * Host "a" skips its last dip (busy when it is always idle: the anomaly); host "b" does not.
 * History ends on a 5-minute boundary so the dips line up with the seasonal buckets.
 */
function history(end: number): string {
  const lines = ['# HELP vigil_test_load Generated load.', '# TYPE vigil_test_load gauge'];
  for (const host of ['a', 'b']) {
    const rand = noise(host === 'a' ? 1 : 2);
    for (let k = 4 * 60; k >= 0; k--) {
      const t = end - k * MINUTE;
      const dip = k % 60 < 15;
      const anomaly = host === 'a' && k < 15;
      const value = (dip && !anomaly ? 5 : 60) + rand();
      lines.push(`vigil_test_load{host="${host}"} ${value.toFixed(3)} ${t / 1000}`);
    }
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

const value = (result: Array<{ value: [number, string] }>) => Number(result[0]?.value[1]);

describe('detector against a real Prometheus', () => {
  let prometheus: StartedPrometheus;
  let detector: StartedProcess;
  let dir: ReturnType<typeof tempDir>;
  let detectorUrl: string;
  let config: string;

  beforeAll(async () => {
    dir = tempDir();
    const end = Math.floor(Date.now() / (5 * MINUTE)) * 5 * MINUTE - 5 * MINUTE;
    const port = await freePort();
    prometheus = await startPrometheus({
      backfillOpenMetrics: history(end),
      scrapeTargets: [{ job: 'vigil-detector', targets: [`127.0.0.1:${port}`] }],
    });
    // The detector evaluates `now - lag` (floored to the step). Host a is flagged from 8 minutes
    // before the history's end to 1 minute before it (the first 6 points of its skipped dip are
    // not yet an episode; at the end the seasonal bucket holds the busy minutes that follow the dip
    // in past seasons). With lag 10m the first evaluated point fell 1 to 5 minutes before the end,
    // and a slow start-up or test could carry it past: a not flagged. Measured after Prometheus
    // started, however long that took, the lag puts the first point at 8 minutes before the end:
    // every test here has 7 minutes of wall clock before a is no longer flagged.
    const lagSeconds = Math.floor((Date.now() - (end - 8 * MINUTE)) / 1000);
    config = path.join(dir.path, 'vigil.yml');
    fs.writeFileSync(
      config,
      `detector:
  prometheus: { url: "${prometheus.url}", retries: 1 }
  lag: ${lagSeconds}s
  state_file: ${path.join(dir.path, 'state.json')}
  defaults:
    step: 1m
    combine: last
    floor: 1
    # The 4-sigma bands this test reads; four hours of history are too short for the range
    # detector's one day of warm-up, so the seasonal detector decides.
    zscore: { window: 2h, min_points: 10, threshold: 4 }
    seasonal: { period: 1h, seasons: 3, resolution: 5m, min_seasons: 2, threshold: 4 }
    range: { window: 2h }
  rules:
    - { name: load, query: vigil_test_load }
    - { name: broken, query: "rate(vigil_test_load[5m]" }
`,
    );
    detector = startProcess(process.execPath, [
      VIGIL_CLI,
      'detector',
      '--config',
      config,
      '--listen',
      `127.0.0.1:${port}`,
    ]);
    detectorUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${detectorUrl}/-/ready`, detector);
  });

  afterAll(async () => {
    await detector?.stop();
    await prometheus?.stop();
    dir?.remove();
  });

  test('flags the skipped dip of host a, not the hourly dips of host b; Prometheus scrapes the scores back', async () => {
    const flagged = await waitFor(
      async () => {
        const result = await prometheus.query('vigil_anomaly{rule="load"}');
        return result.length === 2 ? result : undefined;
      },
      { what: 'vigil_anomaly scraped by Prometheus' },
    );
    const byHost = Object.fromEntries(flagged.map((r) => [r.metric.host, Number(r.value[1])]));
    expect(byHost).toEqual({ a: 1, b: 0 });
    // Source labels kept (host), rule and detector added, the source's __name__ gone.
    const scores = await prometheus.query('vigil_anomaly_score{rule="load",detector="seasonal"}');
    const a = scores.find((r) => r.metric.host === 'a')!;
    const b = scores.find((r) => r.metric.host === 'b')!;
    expect(a.metric).toMatchObject({
      __name__: 'vigil_anomaly_score',
      host: 'a',
      rule: 'load',
      detector: 'seasonal',
      job: 'vigil-detector',
    });
    expect(Number(a.value[1])).toBeGreaterThan(4);
    expect(Math.abs(Number(b.value[1]))).toBeLessThan(4);
    // Host a is busy where the last three hours say idle: the baseline and band say so too (the
    // baseline has crept up a little toward the busy level: the level correction).
    expect(
      value(await prometheus.query('vigil_anomaly_expected{host="a",detector="seasonal"}')),
    ).toBeLessThan(20);
    // Its load (60-61) lies above the normal band.
    expect(value(await prometheus.query('vigil_anomaly_upper{host="a",detector="seasonal"}'))).toBeLessThan(
      60,
    );
    expect(value(await prometheus.query('vigil_anomaly_lower{host="b",detector="zscore"}'))).toBeLessThan(
      value(await prometheus.query('vigil_anomaly_upper{host="b",detector="zscore"}')),
    );
    // The backfill fetched the history the models need (3 seasons of 60 points per host).
    expect(
      value(await prometheus.query('vigil_detector_samples_fetched_total{rule="load"}')),
    ).toBeGreaterThanOrEqual(2 * 180);
    expect(value(await prometheus.query('vigil_detector_series{rule="load"}'))).toBe(2);
  });

  test('invalid PromQL: that rule reports the error in a metric and the log, the other goes on', async () => {
    await waitFor(async () => (await prometheus.query('vigil_detector_rule_up')).length === 2, {
      what: 'rule_up scraped',
    });
    expect(value(await prometheus.query('vigil_detector_rule_up{rule="broken"}'))).toBe(0);
    expect(value(await prometheus.query('vigil_detector_rule_up{rule="load"}'))).toBe(1);
    expect(value(await prometheus.query('vigil_detector_up'))).toBe(1);
    expect(
      value(await prometheus.query('vigil_detector_query_errors_total{rule="broken",kind="bad_query"}')),
    ).toBeGreaterThanOrEqual(1);
    const log = detector
      .output()
      .split('\n')
      .filter((line) => line.includes('"rule":"broken"'));
    expect(log.length).toBeGreaterThan(0);
    expect(JSON.parse(log[0])).toMatchObject({ level: 'error', rule: 'broken', kind: 'bad_query' });
    expect(JSON.parse(log[0]).err).toMatch(/parse error/);
  });

  test('/metrics passes promtool check metrics', async () => {
    const text = await (await fetch(`${detectorUrl}/metrics`)).text();
    expect(text).toMatch(/^vigil_anomaly_score\{host="a",rule="load",detector="seasonal"\} /m);
    // promtool prints lint problems and exits 1 (3 for a parse error); clean output passes.
    const out = execFileSync(PROMTOOL_BIN, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(out).toBe('');
  });

  test('the shipped rules are valid PromQL: each runs against Prometheus without error', async () => {
    const config = path.join(dir.path, 'shipped.yml');
    fs.writeFileSync(config, `detector:\n  prometheus: { url: "${prometheus.url}", retries: 0 }\n`);
    const port = await freePort();
    const shipped = startProcess(process.execPath, [
      VIGIL_CLI,
      'detector',
      '--config',
      config,
      '--listen',
      `127.0.0.1:${port}`,
    ]);
    try {
      await waitForHttp(`http://127.0.0.1:${port}/-/ready`, shipped);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const ruleUp = text.split('\n').filter((line) => line.startsWith('vigil_detector_rule_up{'));
      expect(ruleUp).toHaveLength(6);
      expect(ruleUp.every((line) => line.endsWith(' 1'))).toBe(true);
    } finally {
      await shipped.stop();
    }
  });

  test('query_range chunking: Prometheus refuses 12,001 steps in one query, the chunks return them all once', async () => {
    const client = new PrometheusClient({
      ...parseConfig({}).detector.prometheus,
      url: prometheus.url,
      retries: 0,
    });
    const end = Math.floor(Date.now() / 1000) * 1000 - 20 * MINUTE;
    const start = end - 12_000 * 1000;
    await expect(client.queryRange('vigil_test_load{host="b"}', start, end, 1000)).rejects.toMatchObject({
      kind: 'bad_query',
      message: expect.stringMatching(/11,?000 points/),
    });
    const timestamps: number[] = [];
    let chunks = 0;
    await client.queryRangeEach('vigil_test_load{host="b"}', start, end, 1000, (series) => {
      chunks++;
      timestamps.push(...series.timestamps);
    });
    expect(chunks).toBe(2);
    expect(timestamps).toHaveLength(12_001);
    expect(timestamps.every((t, i) => t === start + i * 1000)).toBe(true);
  });

  test('state_file: written at shutdown, and a restart resumes from it instead of refetching history', async () => {
    expect(await detector.stop()).toBe(0);
    const snapshot = JSON.parse(fs.readFileSync(path.join(dir.path, 'state.json'), 'utf8'));
    expect(snapshot.rules.map((r: { name: string }) => r.name)).toEqual(['load']);
    expect(snapshot.rules[0].series).toHaveLength(2);
    detector = startProcess(process.execPath, [
      VIGIL_CLI,
      'detector',
      '--config',
      config,
      '--listen',
      detectorUrl.replace('http://', ''),
    ]);
    await waitForHttp(`${detectorUrl}/-/ready`, detector);
    expect(detector.output()).toMatch(/"rule":"load","series":2,"msg":"state restored from snapshot"/);
    const text = await (await fetch(`${detectorUrl}/metrics`)).text();
    // Only the steps since the snapshot plus the 1-minute overlap, not 3 hours per series.
    const fetched = Number(/^vigil_detector_samples_fetched_total\{rule="load"\} (\d+)/m.exec(text)![1]);
    expect(fetched).toBeGreaterThan(0);
    expect(fetched).toBeLessThan(2 * 20);
    expect(text).toMatch(/^vigil_anomaly\{host="a",rule="load"\} 1$/m);
  });
});
