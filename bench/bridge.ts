/**
 * Bridge benchmark.
 *
 *  1. Graph render time: SVG + PNG of a typical alert graph (3 series x 360 points, threshold,
 *     alert marker) and of an anomaly graph (band + expected), median and p99 per graph, in a
 *     render worker thread as the bridge draws them (one at a time), and in this process' main
 *     thread.
 *  2. Webhook to mail: a spawned `vigil bridge` with a real Prometheus (backfilled) and a real SMTP
 *     server (smtp-server, in this process); time from POST to the SMTP server accepting the message,
 *     one notification at a time (query, render, CSV, MIME, SMTP included).
 *  3. Webhook ack latency under a sustained 200 requests/s from a second process, every request a
 *     distinct notification fsync'd to the spool before the 200: (a) intake only (no channels), (b) while
 *     the same bridge also enriches, renders and mails every notification. The load is open-loop and
 *     evenly spaced (one request every 5 ms, latency counted from the scheduled send time, so a slow
 *     answer cannot hide the requests queued behind it). autocannon at the same rate is run as a
 *     cross-check; its rate limiter sends each second's requests in a burst at the start of the
 *     second, so its figures show how the bridge absorbs bursts of 200 notifications.
 *  4. A storm: STORM distinct notifications at 200/s into a fresh `vigil bridge` that graphs and mails
 *     every one, (a) with Prometheus up, (b) with Prometheus down (a closed port): acks, mails per
 *     second at saturation (all mails / first post to last mail: the bridge is behind all along),
 *     time from the last post to the last mail, the bridge's peak RSS and event-loop delay (its own
 *     nodejs_eventloop_lag_* over its life), and the machine's load average.
 *
 * Run alone: npm run build && npx tsx bench/bridge.ts   (only the storm: npx tsx bench/bridge.ts storm,
 * only rendering: npx tsx bench/bridge.ts render;
 * BENCH_GRAPHS_DIR=/dev/shm keeps the graphs' files off the spool's disk)
 * Targets: ack p99 < 20 ms at 200 req/s, render < 25 ms per graph; storm with Prometheus down at
 * least as many mails per second as with it up.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import YAML from 'yaml';
import { renderChartSvg, type ChartSpec } from '../src/bridge/render/chart';
import type { RenderedGraph, RenderTask } from '../src/bridge/render-task';
import { svgToPng } from '../src/bridge/render/png';
import { WorkerPool } from '../src/bridge/worker-pool';
import { alertmanagerPayload } from '../test/bridge/fixtures';
import { startSmtpSink, type SmtpSink } from '../test/bridge/smtp-sink';
import { freePort } from '../test/helpers/net';
import { startPrometheus } from '../test/helpers/prometheus';
import { startProcess, waitForHttp, type StartedProcess } from '../test/helpers/process';
import { tempDir } from '../test/helpers/tmp';

const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');
// Same thread pool as `vigil bridge` uses, for the disk floor measured here.
process.env.UV_THREADPOOL_SIZE ??= '16';
const RENDERS = Number(process.env.BENCH_RENDERS ?? 200);
const MAILS = Number(process.env.BENCH_MAILS ?? 30);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const STORM = Number(process.env.BENCH_STORM ?? 2000);

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const ms = (v: number): string => `${v.toFixed(v < 10 ? 2 : 1)} ms`;

async function renderBench(): Promise<void> {
  const end = Date.UTC(2026, 10, 23, 15, 30);
  const ts = Array.from({ length: 360 }, (_, i) => end - (359 - i) * 15_000);
  const series = ['web-1', 'web-2', 'web-3'].map((instance, k) => ({
    name: `instance:node_cpu_busy:ratio{instance="${instance}", job="node"}`,
    timestamps: ts,
    values: ts.map((_, i) => 0.2 + 0.05 * k + 0.05 * Math.sin(i / 20 + k) + (k === 0 && i > 240 ? 0.6 : 0)),
  }));
  const typical: ChartSpec = {
    title: 'HostHighCpu: instance:node_cpu_busy:ratio',
    series,
    threshold: 0.8,
    startMs: ts[0],
    endMs: end,
    alertStartMs: ts[241],
    unit: 'ratio',
    timeZone: 'Europe/Berlin',
  };
  const anomaly: ChartSpec = {
    ...typical,
    title: 'QueueAnomaly: queue_depth',
    series: [series[0]],
    threshold: undefined,
    band: {
      timestamps: ts,
      expected: ts.map(() => 0.25),
      lower: ts.map(() => 0.2),
      upper: ts.map(() => 0.3),
    },
  };
  for (const [name, spec] of [
    ['typical (3 series, threshold)', typical],
    ['anomaly (series + band)', anomaly],
  ] as const) {
    svgToPng(renderChartSvg(spec)); // fonts, JIT
    const total: number[] = [];
    const svgOnly: number[] = [];
    for (let i = 0; i < RENDERS; i++) {
      const t0 = performance.now();
      const svg = renderChartSvg(spec);
      const t1 = performance.now();
      svgToPng(svg);
      total.push(performance.now() - t0);
      svgOnly.push(t1 - t0);
    }
    const inWorker = await renderInWorker(spec);
    console.log(
      `render ${name.padEnd(30)} in a render worker: median ${ms(quantile(inWorker, 0.5))}  p99 ${ms(quantile(inWorker, 0.99))}` +
        `  | in this process' main thread: median ${ms(quantile(total, 0.5))}  p99 ${ms(quantile(total, 0.99))}  (SVG alone: median ${ms(quantile(svgOnly, 0.5))})`,
    );
  }
}

/**
 * RENDERS charts drawn one after another in a worker thread at low priority, as `vigil bridge`'s
 * evidence worker draws them: the time each took to draw, rasterise and compress as the worker
 * reports it (not writing the files, not the hand-over), ms.
 */
async function renderInWorker(chart: ChartSpec): Promise<number[]> {
  const pool = new WorkerPool<RenderTask, RenderedGraph>(
    path.join(__dirname, 'lib', 'render-worker.ts'),
    1,
    'render worker',
  );
  const dir = tempDir('vigil-bench-render-');
  const task = {
    chart,
    file: path.join(dir.path, 'g.png'),
    csvFile: path.join(dir.path, 'g.csv'),
    bandSeries: [],
  };
  try {
    await pool.run(task); // the worker's start, fonts, JIT
    const times: number[] = [];
    for (let i = 0; i < RENDERS; i++) times.push((await pool.run(task)).seconds * 1000);
    return times;
  } finally {
    await pool.close();
    dir.remove();
  }
}

interface Bridge {
  url: string;
  process: StartedProcess;
}

async function startBridge(dir: string, name: string, bridge: Record<string, unknown>): Promise<Bridge> {
  const port = await freePort();
  // BENCH_GRAPHS_DIR: the graphs' directory elsewhere (a symbolic link), e.g. on tmpfs, to see what
  // writing them costs the spool's commits on the same disk.
  if (process.env.BENCH_GRAPHS_DIR) {
    fs.mkdirSync(path.join(dir, `${name}-spool`), { recursive: true });
    const graphs = fs.mkdtempSync(path.join(process.env.BENCH_GRAPHS_DIR, `${name}-graphs-`));
    fs.symlinkSync(graphs, path.join(dir, `${name}-spool`, 'graphs'));
    process.on('exit', () => fs.rmSync(graphs, { recursive: true, force: true }));
  }
  const file = path.join(dir, `${name}.yml`);
  fs.writeFileSync(
    file,
    YAML.stringify({
      bridge: { spool_dir: path.join(dir, `${name}-spool`), listen: `127.0.0.1:${port}`, ...bridge },
    }),
  );
  // BENCH_BRIDGE_NODE_ARGS: node options for the bridge alone, e.g. `--cpu-prof --cpu-prof-dir=DIR`.
  const nodeArgs = (process.env.BENCH_BRIDGE_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
  const proc = startProcess(process.execPath, [
    ...nodeArgs,
    CLI,
    'bridge',
    '--config',
    file,
    '--log-level',
    'error',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc);
  return { url, process: proc };
}

let sequence = 0;
function uniquePayload(startsAt: string, generatorURL: string): string {
  sequence++;
  return JSON.stringify(
    alertmanagerPayload({
      instances: [`web-${sequence % 3 === 0 ? 1 : (sequence % 3) + 1}`],
      groupKey: `{}:{bench="${sequence}"}`,
      labels: { bench: String(sequence) },
      startsAt,
      generatorURL,
    }),
  );
}

interface LoadResult {
  sent: number;
  ok: number;
  p50: number;
  p99: number;
  max: number;
  /** The p99 of the requests sent after the first second: without the start of a storm. */
  p99AfterFirstSecond?: number;
  /**
   * The p99 counted from when each request was actually sent rather than scheduled: without the
   * load generator's own lateness (its timers and sends wait for a CPU too on a shared machine).
   */
  p99FromSend?: number;
  /** How late the load generator sent, p99: the difference between the two. */
  lateP99?: number;
}

/**
 * The second process: every 1000/RATE ms for SECONDS, open loop, POSTs a distinct notification to
 * `target`, or GETs it when it is a health endpoint (the floor of HTTP on this machine).
 */
async function generateLoad(target: string, startsAt: string, generatorURL: string): Promise<void> {
  const get = target.endsWith('/-/healthy');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const interval = 1000 / RATE;
  const total = RATE * SECONDS;
  const latencies: number[] = [];
  const afterFirstSecond: number[] = [];
  const fromSend: number[] = [];
  const lateness: number[] = [];
  let ok = 0;
  const start = performance.now() + 50;
  await new Promise<void>((resolve) => {
    let sent = 0;
    let done = 0;
    const fire = (): void => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        const scheduled = start + sent * interval;
        const body = get ? undefined : uniquePayload(startsAt, generatorURL);
        sent++;
        const sentAt = performance.now();
        lateness.push(sentAt - scheduled);
        const request = http.request(
          target,
          { method: get ? 'GET' : 'POST', agent, headers: { 'content-type': 'application/json' } },
          (response) => {
            response.resume();
            response.on('end', () => {
              latencies.push(performance.now() - scheduled);
              fromSend.push(performance.now() - sentAt);
              if (scheduled - start >= 1000) afterFirstSecond.push(performance.now() - scheduled);
              if (response.statusCode === 200) ok++;
              if (++done === total) resolve();
            });
          },
        );
        request.on('error', () => {
          if (++done === total) resolve();
        });
        request.end(body);
      }
      if (sent < total) setTimeout(fire, Math.max(0, start + sent * interval - performance.now()));
    };
    fire();
  });
  agent.destroy();
  const result: LoadResult = {
    sent: total,
    ok,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: quantile(latencies, 1),
    p99AfterFirstSecond: quantile(afterFirstSecond, 0.99),
    p99FromSend: quantile(fromSend, 0.99),
    lateP99: quantile(lateness, 0.99),
  };
  process.stdout.write(JSON.stringify(result));
}

/**
 * Runs the load generator in a second process (this file with --load), so it does not share our
 * CPU time; `seconds` of RATE requests a second.
 */
function constantLoad(
  target: string,
  startsAt: string,
  generatorURL: string,
  seconds = SECONDS,
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', __filename, '--load', target, startsAt, generatorURL],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, BENCH_SECONDS: String(seconds) },
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as LoadResult)
        : reject(new Error(`load generator exited ${code}`)),
    );
  });
}

async function autocannonLoad(url: string, body: () => string): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/webhook`,
    connections: 50,
    overallRate: RATE,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: body() }),
      },
    ],
  });
}

/** The disk's own floor in this run: write + fsync of a 2 KB file (and its directory), 200 per second. */
async function diskFloor(dir: string): Promise<LoadResult> {
  const interval = 1000 / RATE;
  const total = RATE * SECONDS;
  const body = 'x'.repeat(2048);
  const latencies: number[] = [];
  const start = performance.now();
  const write = async (i: number): Promise<void> => {
    const handle = await fs.promises.open(path.join(dir, `${i}.json`), 'wx');
    await handle.writeFile(body);
    await handle.sync();
    await handle.close();
    const directory = await fs.promises.open(dir, 'r');
    await directory.sync();
    await directory.close();
  };
  await new Promise<void>((resolve) => {
    let sent = 0;
    let done = 0;
    const fire = (): void => {
      while (sent < total && start + sent * interval <= performance.now()) {
        const scheduled = start + sent * interval;
        void write(sent++).then(() => {
          latencies.push(performance.now() - scheduled);
          if (++done === total) resolve();
        });
      }
      if (sent < total) setTimeout(fire, Math.max(0, start + sent * interval - performance.now()));
    };
    fire();
  });
  return {
    sent: total,
    ok: total,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: quantile(latencies, 1),
  };
}

function reportAck(label: string, load: LoadResult, cannon: autocannon.Result): void {
  console.log(
    `ack ${label.padEnd(34)} ${load.ok}/${load.sent} 2xx  median ${ms(load.p50)}  p99 ${ms(load.p99)} (from the moment sent ${ms(load.p99FromSend ?? NaN)}, sent late by ${ms(load.lateP99 ?? NaN)} p99)  max ${ms(load.max)}` +
      `   | autocannon (bursty): median ${cannon.latency.p50} ms  p99 ${cannon.latency.p99} ms, ${cannon['2xx']}/${cannon.requests.total} 2xx`,
  );
}

/** The bridge's peak resident memory so far (VmHWM), in MiB. */
function peakRssMiB(bridge: Bridge): number {
  const status = fs.readFileSync(`/proc/${bridge.process.child.pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
}

/**
 * The disk as any process sees it while the storm runs: a 2 KB file written and fsync'd (with its
 * directory) every 50 ms from the benchmark's process, one at a time; stop() gives the times, ms.
 */
function fsyncProbe(dir: string): { stop(): Promise<{ p50: number; p99: number; max: number }> } {
  fs.mkdirSync(dir, { recursive: true });
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const started = performance.now();
      const handle = await fs.promises.open(path.join(dir, `${i}.json`), 'wx');
      await handle.writeFile('x'.repeat(2048));
      await handle.sync();
      await handle.close();
      const directory = await fs.promises.open(dir, 'r');
      await directory.sync();
      await directory.close();
      times.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      times.sort((a, b) => a - b);
      return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: quantile(times, 1) };
    },
  };
}

/** Bridge settings for one e-mail channel to the SMTP server in this process. */
function mailingBridge(prometheusUrl: string, smtpPort: number): Record<string, unknown> {
  return {
    prometheus: { url: prometheusUrl },
    retry: { concurrency: Number(process.env.BENCH_CONCURRENCY ?? 8) },
    channels: [
      {
        name: 'mail',
        type: 'email',
        from: 'vigil@example.com',
        to: ['ops@example.com'],
        smtp: { host: '127.0.0.1', port: smtpPort },
      },
    ],
  };
}

interface StormResult {
  load: LoadResult;
  /** The bridge's event-loop delay over the storm beyond prom-client's 10 ms sampling interval, ms. */
  loopDelay: { p50: number; p99: number; max: number };
  /** The bridge's own ack time (vigil_bridge_webhook_duration_seconds): the bucket bound of each quantile, ms. */
  bridgeAck: { p50: number; p99: number };
  /** The same of its group commits to the spool (vigil_bridge_spool_commit_duration_seconds). */
  spoolCommit: { p50: number; p99: number };
  mailsPerSecond: number;
  lastMailAfterS: number;
  peakRssMiB: number;
  withGraph: boolean;
  /** The machine's 1-minute load average at the start and at the end. */
  load1: [number, number];
  /** fsyncProbe() over the storm: what the disk gave a process doing nothing else. */
  disk: { p50: number; p99: number; max: number };
  /**
   * The bridge's event-loop thread while the notifications were posted: ms on a CPU, and ms it was
   * ready to run but waited for one (Linux schedstat); undefined elsewhere.
   */
  loopThread?: { runMs: number; waitMs: number };
  /** Young-generation collections over the bridge's life, and those that took 10 ms or more. */
  scavenges: { total: number; over10ms: number };
}

/**
 * STORM notifications at RATE/s into a fresh bridge mailing each; waits for every mail, sampling
 * when each arrived (every 5 ms).
 */
async function storm(
  dir: string,
  name: string,
  prometheusUrl: string,
  smtp: SmtpSink,
  startsAt: string,
  generatorURL: string,
): Promise<StormResult> {
  const bridge = await startBridge(dir, name, mailingBridge(prometheusUrl, smtp.port));
  const loadAtStart = os.loadavg()[0];
  try {
    const before = smtp.accepted();
    const started = performance.now();
    let lastMailAt = started;
    let seen = before;
    const probe = fsyncProbe(path.join(dir, `${name}-probe`));
    const sampler = setInterval(() => {
      if (smtp.accepted() !== seen) {
        seen = smtp.accepted();
        lastMailAt = performance.now();
      }
    }, 5);
    const scheduledBefore = loopThreadSchedule(bridge);
    const load = await constantLoad(`${bridge.url}/webhook`, startsAt, generatorURL, STORM / RATE);
    const lastPostAt = performance.now();
    const scheduledAfter = loopThreadSchedule(bridge);
    const deadline = Date.now() + 600_000;
    while (smtp.accepted() - before < load.ok && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    clearInterval(sampler);
    const disk = await probe.stop();
    if (smtp.accepted() !== seen) lastMailAt = performance.now();
    const mailed = smtp.accepted() - before;
    if (mailed < load.ok) throw new Error(`${name}: only ${mailed} of ${load.ok} mailed after 600 s`);
    // Not scraped before: the percentiles cover the bridge's whole life, the storm included.
    const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
    const lag = (name: string): number =>
      1000 * Number(new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(metrics)?.[1]) - 10;
    const minorGcs = gcCount(metrics, '+Inf');
    return {
      load,
      loopDelay: { p50: lag('p50'), p99: lag('p99'), max: lag('max') },
      bridgeAck: bucketBounds(metrics, 'vigil_bridge_webhook_duration_seconds'),
      spoolCommit: bucketBounds(metrics, 'vigil_bridge_spool_commit_duration_seconds'),
      load1: [loadAtStart, os.loadavg()[0]],
      disk,
      loopThread:
        scheduledBefore && scheduledAfter
          ? {
              runMs: scheduledAfter.runMs - scheduledBefore.runMs,
              waitMs: scheduledAfter.waitMs - scheduledBefore.waitMs,
            }
          : undefined,
      scavenges: { total: minorGcs, over10ms: minorGcs - gcCount(metrics, '0.01') },
      mailsPerSecond: mailed / ((lastMailAt - started) / 1000),
      lastMailAfterS: (lastMailAt - lastPostAt) / 1000,
      peakRssMiB: peakRssMiB(bridge),
      withGraph: /Content-Type: image\/png/i.test(smtp.lastRaw()),
    };
  } finally {
    await bridge.process.stop();
  }
}

/**
 * The bridge's main thread (the event loop that acknowledges webhooks) as the scheduler saw it so
 * far: ms run on a CPU and ms spent runnable waiting for one. Linux only (schedstat).
 */
function loopThreadSchedule(bridge: Bridge): { runMs: number; waitMs: number } | undefined {
  const pid = bridge.process.child.pid;
  try {
    const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { runMs: run / 1e6, waitMs: wait / 1e6 };
  } catch {
    return undefined;
  }
}

/** Young-generation collections on /metrics that took at most `le` seconds (prom-client's gc histogram). */
function gcCount(metrics: string, le: string): number {
  const line = metrics
    .split('\n')
    .find(
      (l) =>
        l.startsWith('nodejs_gc_duration_seconds_bucket{') &&
        l.includes('kind="minor"') &&
        l.includes(`le="${le}"`),
    );
  return Number(line?.split(' ').at(-1) ?? NaN);
}

/** The upper bounds (ms) of the buckets holding the median and the p99 of a histogram on /metrics. */
function bucketBounds(metrics: string, name: string): { p50: number; p99: number } {
  const buckets = [...metrics.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm'))].map(
    ([, le, count]) => ({ le: 1000 * Number(le.replace('Inf', 'Infinity')), count: Number(count) }),
  );
  const bound = (q: number): number =>
    buckets.find((b) => b.count >= q * buckets[buckets.length - 1].count)?.le ?? NaN;
  return { p50: bound(0.5), p99: bound(0.99) };
}

function reportStorm(label: string, r: StormResult): void {
  console.log(
    `storm ${label.padEnd(16)} ${r.load.ok}/${r.load.sent} 2xx  ack median ${ms(r.load.p50)}  p99 ${ms(r.load.p99)} (after the first second ${ms(r.load.p99AfterFirstSecond ?? NaN)}; from the moment sent ${ms(r.load.p99FromSend ?? NaN)}, sent late by ${ms(r.load.lateP99 ?? NaN)} p99)  max ${ms(r.load.max)}` +
      `  | ${r.mailsPerSecond.toFixed(1)} mails/s, last mail ${r.lastMailAfterS.toFixed(1)} s after the last post, peak RSS ${r.peakRssMiB.toFixed(0)} MiB, graph attached: ${r.withGraph}` +
      `  | load average ${r.load1.map((l) => l.toFixed(1)).join('-')}  | in the bridge: ack median <= ${r.bridgeAck.p50} ms  p99 <= ${r.bridgeAck.p99} ms, spool commit median <= ${r.spoolCommit.p50} ms  p99 <= ${r.spoolCommit.p99} ms, event-loop delay median ${ms(r.loopDelay.p50)}  p99 ${ms(r.loopDelay.p99)}  max ${ms(r.loopDelay.max)}` +
      `  | beside it, write+fsync of 2 KB every 50 ms: median ${ms(r.disk.p50)}  p99 ${ms(r.disk.p99)}  max ${ms(r.disk.max)}` +
      (r.loopThread
        ? `  | its event-loop thread while posting: ${r.loopThread.runMs.toFixed(0)} ms on a CPU, ${r.loopThread.waitMs.toFixed(0)} ms ready but waiting for one`
        : '') +
      `, young-generation GCs of 10 ms or more: ${r.scavenges.over10ms} of ${r.scavenges.total}`,
  );
}

/** Section 4: the same storm with Prometheus up and down, in one run. */
async function stormBench(
  dir: string,
  prometheusUrl: string,
  smtp: SmtpSink,
  startsAt: string,
  generatorURL: string,
): Promise<void> {
  console.log(
    `storm: ${STORM} distinct notifications at ${RATE}/s, each graphed and mailed (default graph.render_concurrency and retry.concurrency)`,
  );
  const up = await storm(dir, 'storm-up', prometheusUrl, smtp, startsAt, generatorURL);
  reportStorm('Prometheus up', up);
  const down = await storm(
    dir,
    'storm-down',
    `http://127.0.0.1:${await freePort()}`,
    smtp,
    startsAt,
    generatorURL,
  );
  reportStorm('Prometheus down', down);
  console.log(
    `  down / up mails per second: ${(down.mailsPerSecond / up.mailsPerSecond).toFixed(2)} (target >= 1); ack p99 target < 20 ms`,
  );
}

async function main(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const stormOnly = process.argv[2] === 'storm';
  console.log(`node ${process.version}, ${RENDERS} renders, ${MAILS} mails, ${RATE} req/s for ${SECONDS} s`);
  if (!stormOnly) await renderBench();
  if (process.argv[2] === 'render') return;

  const dir = tempDir('vigil-bench-bridge-');
  const now = Math.floor(Date.now() / 1000 / 60) * 60;
  const lines = ['# TYPE instance:node_cpu_busy:ratio gauge'];
  for (const instance of ['web-1', 'web-2', 'web-3']) {
    for (let t = now - 3 * 3600; t <= now - 60; t += 15) {
      lines.push(
        `instance:node_cpu_busy:ratio{instance="${instance}",job="node"} ${(0.3 + 0.1 * Math.sin(t / 900)).toFixed(4)} ${t}`,
      );
    }
  }
  const prometheus = await startPrometheus({ backfillOpenMetrics: `${lines.join('\n')}\n# EOF\n` });
  const smtpPort = await freePort();
  let smtp: SmtpSink | undefined;
  const bridges: Bridge[] = [];
  try {
    smtp = await startSmtpSink(smtpPort, { starttls: false, parse: false });
    const startsAt = new Date((now - 30 * 60) * 1000).toISOString();
    const generatorURL = `${prometheus.url}/graph?g0.expr=${encodeURIComponent('instance:node_cpu_busy:ratio > 0.8')}`;
    if (stormOnly) {
      await stormBench(dir.path, prometheus.url, smtp, startsAt, generatorURL);
      return;
    }
    const mailing = await startBridge(dir.path, 'mailing', mailingBridge(prometheus.url, smtpPort));
    bridges.push(mailing);

    // 2. Webhook -> mail accepted by SMTP, one at a time.
    const toMail: number[] = [];
    for (let i = 0; i < MAILS + 3; i++) {
      const before = smtp.accepted();
      const t0 = performance.now();
      const response = await fetch(`${mailing.url}/webhook`, {
        method: 'POST',
        body: uniquePayload(startsAt, generatorURL),
      });
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
      while (smtp.accepted() === before) await new Promise((resolve) => setImmediate(resolve));
      if (i >= 3) toMail.push(performance.now() - t0); // the first ones load fonts and warm up
    }
    const withGraph = /Content-Type: image\/png/i.test(smtp.lastRaw());
    console.log(
      `webhook -> mail accepted by SMTP          median ${ms(quantile(toMail, 0.5))}  p99 ${ms(quantile(toMail, 0.99))}  (${MAILS} mails, graph attached: ${withGraph})`,
    );

    // 3. Ack latency, beside what the disk itself gives at the same rate.
    const floorDir = path.join(dir.path, 'floor');
    fs.mkdirSync(floorDir);
    const floor = await diskFloor(floorDir);
    console.log(
      `disk floor: write+fsync 2 KB at ${RATE}/s          median ${ms(floor.p50)}  p99 ${ms(floor.p99)}  max ${ms(floor.max)}`,
    );
    // 3a. Intake only.
    const intake = await startBridge(dir.path, 'intake', {});
    bridges.push(intake);
    const payload = () => uniquePayload(startsAt, generatorURL);
    const healthy = await constantLoad(`${intake.url}/-/healthy`, startsAt, generatorURL);
    console.log(
      `HTTP floor: GET /-/healthy at ${RATE}/s           median ${ms(healthy.p50)}  p99 ${ms(healthy.p99)}  max ${ms(healthy.max)}`,
    );
    const intakeLoad = await constantLoad(`${intake.url}/webhook`, startsAt, generatorURL);
    reportAck('intake only (fsync, no channels)', intakeLoad, await autocannonLoad(intake.url, payload));
    // 3b. Ack latency while every notification is also enriched, rendered and mailed.
    const mailsBefore = smtp.accepted();
    const mailingLoad = await constantLoad(`${mailing.url}/webhook`, startsAt, generatorURL);
    const mailsAfter = smtp.accepted();
    reportAck('while enriching + mailing each', mailingLoad, await autocannonLoad(mailing.url, payload));
    console.log(
      `  mails accepted by SMTP during the constant-rate run: ${mailsAfter - mailsBefore} of ${mailingLoad.ok} (the rest wait in the spool)`,
    );
    for (const b of bridges.splice(0)) await b.process.stop();
    await stormBench(dir.path, prometheus.url, smtp, startsAt, generatorURL);
  } finally {
    for (const b of bridges) await b.process.stop();
    await smtp?.stop();
    await prometheus.stop();
    dir.remove();
  }
}

const run =
  process.argv[2] === '--load' ? generateLoad(process.argv[3], process.argv[4], process.argv[5]) : main();
run.catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
