import fs from 'node:fs';
import path from 'node:path';
import { EvidencePool } from '../../src/bridge/evidence-pool';
import { gatherEvidence, type GatherTask } from '../../src/bridge/evidence';
import { parseNotification } from '../../src/bridge/payload';
import { PrometheusClient } from '../../src/common/prometheus-client';
import { prometheusConnectionSchema } from '../../src/config/types';
import { freePort } from '../helpers/net';
import { startPrometheus, type StartedPrometheus } from '../helpers/prometheus';
import { tempDir } from '../helpers/tmp';
import { alertmanagerPayload, GRAPH_SETTINGS } from './fixtures';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Two alerts, each with its own query: a constant series labelled with the alert's instance. */
function alerts(startsAt = new Date(Date.now() - 20 * 60_000).toISOString()) {
  return ['web-1', 'web-2'].map((instance, i) => {
    const parsed = parseNotification(
      alertmanagerPayload({
        instances: [instance],
        startsAt,
        annotations: { query: `label_replace(vector(${0.5 + i * 0.4}), "instance", "${instance}", "", "")` },
      }),
    );
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.notification.alerts[0];
  });
}

/** The two alerts' gathering, their graphs as `<name>-<i>.png` and `.csv` in `dir`; every query allowed. */
function gatherTask(dir: string, name: string, overrides: Partial<GatherTask> = {}): GatherTask {
  return {
    alerts: alerts(),
    now: Date.now(),
    graphFiles: [0, 1].map((i) => ({
      id: `${name}${i}`.padEnd(22, 'x'),
      file: path.join(dir, `${name}-${i}.png`),
      csvFile: path.join(dir, `${name}-${i}.csv`),
    })),
    settings: GRAPH_SETTINGS,
    allowance: 'all',
    skipReason: '',
    ...overrides,
  };
}

describe('evidence pool (a real Prometheus, graphs drawn in a worker thread)', () => {
  const dir = tempDir('vigil-evidence-pool-');
  let prometheus: StartedPrometheus;
  let pool: EvidencePool;

  beforeAll(async () => {
    prometheus = await startPrometheus();
    pool = new EvidencePool(prometheusConnectionSchema.parse({ url: prometheus.url }), 1, 4);
  });
  afterAll(async () => {
    await pool?.close();
    await prometheus?.stop();
    dir.remove();
  });

  const task = (name: string, overrides: Partial<GatherTask> = {}): GatherTask =>
    gatherTask(dir.path, name, { settings: { ...GRAPH_SETTINGS, width: 500 }, ...overrides });

  it("asks Prometheus, draws each alert's graph and writes its PNG and CSV, the same as in-process", async () => {
    const inWorker = task('worker');
    const gathered = await pool.gather(inWorker);
    // Prometheus answered both queries: two successes for the circuit breaker, two renders counted.
    expect(gathered.outcomes).toEqual([undefined, undefined]);
    expect(gathered.events.map((e) => e.kind)).toEqual(['render', 'render']);
    expect(gathered.alerts.map((a) => [a.query, a.graphError, a.graph?.lastValue])).toEqual([
      [inWorker.alerts[0].annotations.query, undefined, 0.5],
      [inWorker.alerts[1].annotations.query, undefined, 0.9],
    ]);
    // No alert object comes back: the event loop has it.
    expect(gathered.alerts.some((a) => 'alert' in a)).toBe(false);
    for (const [i, evidence] of gathered.alerts.entries()) {
      const png = fs.readFileSync(path.join(dir.path, `worker-${i}.png`));
      expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
      expect(png.readUInt32BE(16)).toBe(500);
      expect(evidence.graph).toMatchObject({ id: inWorker.graphFiles[i].id, bytes: png.length });
      const csv = fs.readFileSync(path.join(dir.path, `worker-${i}.csv`), 'utf8');
      expect(csv).toContain(`instance=""web-${i + 1}""`);
      expect(evidence.graph?.csvBytes).toBe(Buffer.byteLength(csv));
    }
    // In this thread, from the same Prometheus and the same moment: the same files.
    const here = task('here', { now: inWorker.now, alerts: inWorker.alerts });
    const client = new PrometheusClient(prometheusConnectionSchema.parse({ url: prometheus.url }));
    const inProcess = await gatherEvidence(client, here);
    for (const i of [0, 1]) {
      for (const extension of ['png', 'csv']) {
        expect(fs.readFileSync(path.join(dir.path, `worker-${i}.${extension}`))).toEqual(
          fs.readFileSync(path.join(dir.path, `here-${i}.${extension}`)),
        );
      }
    }
    expect(inProcess.alerts.map((a) => a.graph?.bytes)).toEqual(gathered.alerts.map((a) => a.graph?.bytes));
  });

  it('asks nothing while the circuit is open: each alert says why, counted as skipped', async () => {
    const reason = 'circuit open since 2026-12-02T10:00:00Z, last error: ECONNREFUSED';
    const gathered = await pool.gather(task('open', { allowance: 'none', skipReason: reason }));
    expect(gathered.outcomes).toEqual([]);
    expect(gathered.alerts.map((a) => a.graphError)).toEqual([
      `graph unavailable: Prometheus at ${prometheus.url} unreachable (${reason})`,
      `graph unavailable: Prometheus at ${prometheus.url} unreachable (${reason})`,
    ]);
    expect(gathered.events.map((e) => e.kind)).toEqual([
      'graph_error',
      'graph_skipped',
      'graph_error',
      'graph_skipped',
    ]);
    expect(fs.existsSync(path.join(dir.path, 'open-0.png'))).toBe(false);
  });
});

describe('evidence pool with Prometheus down (a closed port)', () => {
  const dir = tempDir('vigil-evidence-down-');
  let pool: EvidencePool;
  let url: string;

  beforeAll(async () => {
    url = `http://127.0.0.1:${await freePort()}`;
    pool = new EvidencePool(prometheusConnectionSchema.parse({ url, retries: 0 }), 1, 4);
  });
  afterAll(async () => {
    await pool?.close();
    dir.remove();
  });

  const task = (allowance: GatherTask['allowance']): GatherTask =>
    gatherTask(dir.path, allowance, {
      allowance,
      skipReason: 'circuit open since 2026-12-02T10:00:00Z, last error: timed out',
    });

  it('reports each refused query to the circuit breaker as an outage, and the alerts say why', async () => {
    const gathered = await pool.gather(task('all'));
    expect(gathered.outcomes).toEqual([
      expect.stringMatching(/ECONNREFUSED/),
      expect.stringMatching(/ECONNREFUSED/),
    ]);
    for (const alert of gathered.alerts) {
      expect(alert.graphError).toMatch(/^graph unavailable: .*\/api\/v1\/query_range: ECONNREFUSED/);
    }
  });

  it('half-open: one query is the probe, the other alert waits for nothing and says the circuit is open', async () => {
    const gathered = await pool.gather(task('probe'));
    expect(gathered.outcomes).toEqual([expect.stringMatching(/ECONNREFUSED/)]);
    expect(gathered.alerts.map((a) => a.graphError)).toEqual([
      expect.stringMatching(/ECONNREFUSED/),
      `graph unavailable: Prometheus at ${url} unreachable (circuit open since 2026-12-02T10:00:00Z, last error: timed out)`,
    ]);
  });
});
