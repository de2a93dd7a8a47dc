/**
 * Exporter benchmark: vigil's exporter against Debian's node_exporter, in one run, with the same
 * collectors, scraped alternately over keep-alive HTTP as Prometheus does.
 *
 * Two rounds: with `Accept-Encoding: gzip` (what Prometheus sends; both exporters then gzip) and
 * without (identity, what curl gets). Figures per exporter and round: scrape latency (median, p99)
 * until the last byte arrives (the client's gunzip is not counted, for either), CPU time per
 * scrape (utime+stime of the exporter process from /proc/<pid>/stat), bytes per scrape on the
 * wire and series per scrape. Resident memory (VmRSS) at rest, once both answer and before the
 * first scrape, and after at least 1,000 scrapes (both rounds, topped up with gzip scrapes), with
 * its peak (VmHWM).
 *
 * Run alone: npm run build && npx tsx bench/exporter.ts   (BENCH_SCRAPES=500 by default)
 * VIGIL_BASELINE_CLI=<another build's dist/cli.js> adds that build as a third exporter in the same
 * run, scraped in turn with the others: a change measured against the code before it, at the same
 * load.
 * Targets: median latency and CPU per scrape <= node_exporter's, RSS < 50 MiB.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { freePort, rawRequest } from '../test/helpers/net';
import { startProcess, waitForHttp, type StartedProcess } from '../test/helpers/process';

const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 500);
const WARMUP = 50;
const COLLECTORS = [
  'cpu',
  'meminfo',
  'filesystem',
  'diskstats',
  'netdev',
  'loadavg',
  'uname',
  'time',
  'stat',
];
const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');
const NODE_EXPORTER = process.env.VIGIL_NODE_EXPORTER_BIN ?? 'prometheus-node-exporter';
const BASELINE_CLI = process.env.VIGIL_BASELINE_CLI;
const TICKS_PER_SECOND = 100; // USER_HZ
const MEMORY_AFTER_SCRAPES = 1000;
const SETTLE_MS = 2000;

interface Target {
  name: string;
  url: string;
  process: StartedProcess;
  /** A page that answers once it listens, other than /metrics. */
  readyPath: string;
  /** One kept-alive connection, as Prometheus keeps one per target. */
  agent: http.Agent;
  latenciesMs: number[];
  /** Scrapes so far, warm-up included. */
  scrapes: number;
  bytes: number;
  series: number;
}

const ROUNDS = [
  { name: 'gzip', headers: { 'accept-encoding': 'gzip' } },
  { name: 'identity', headers: {} },
] as const;
type Round = (typeof ROUNDS)[number];

function cpuTicks(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function memoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) / 1024;
}

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function scrape(target: Target, round: Round): Promise<void> {
  const start = process.hrtime.bigint();
  const response = await rawRequest(`${target.url}/metrics`, { headers: round.headers, agent: target.agent });
  target.latenciesMs.push(Number(process.hrtime.bigint() - start) / 1e6);
  if (response.status !== 200) throw new Error(`${target.name}: HTTP ${response.status}`);
  const gzipped = response.headers['content-encoding'] === 'gzip';
  if (gzipped !== (round.name === 'gzip')) {
    throw new Error(
      `${target.name}: asked for ${round.name}, got ${response.headers['content-encoding'] ?? 'identity'}`,
    );
  }
  target.bytes = response.body.length;
  const text = (gzipped ? zlib.gunzipSync(response.body) : response.body).toString();
  target.series = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
}

const newTarget = (name: string, url: string, proc: StartedProcess, readyPath: string): Target => ({
  name,
  url,
  readyPath,
  process: proc,
  agent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
  latenciesMs: [],
  scrapes: 0,
  bytes: 0,
  series: 0,
});

async function main(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const startVigilExporter = async (
    collectors = COLLECTORS.map((name) => `--collector.${name}`),
    cli = CLI,
  ) =>
    startProcess(process.execPath, [
      cli,
      'exporter',
      '--listen',
      `127.0.0.1:${await freePort()}`,
      '--log-level',
      'warn',
      ...(collectors.length > 0 ? ['--collector.disable-defaults', ...collectors] : []),
    ]);
  const urlOf = (proc: StartedProcess) =>
    `http://${proc.child.spawnargs[proc.child.spawnargs.indexOf('--listen') + 1]}`;
  const nodePort = await freePort();
  const vigil = await startVigilExporter();
  const baseline = BASELINE_CLI ? await startVigilExporter(undefined, path.resolve(BASELINE_CLI)) : undefined;
  const nodeExporter = startProcess(NODE_EXPORTER, [
    `--web.listen-address=127.0.0.1:${nodePort}`,
    '--collector.disable-defaults',
    ...COLLECTORS.map((name) => `--collector.${name}`),
  ]);
  const targets: Target[] = [
    newTarget('vigil exporter', urlOf(vigil), vigil, '/-/ready'),
    ...(baseline ? [newTarget('vigil exporter (baseline)', urlOf(baseline), baseline, '/-/ready')] : []),
    newTarget('node_exporter', `http://127.0.0.1:${nodePort}`, nodeExporter, '/'),
  ];
  try {
    for (const target of targets) await waitForHttp(`${target.url}${target.readyPath}`, target.process);
    // At rest: started, settled and idle, nothing scraped yet (the wait asked a page other than /metrics).
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const atRest = targets.map((t) => memoryMiB(t.process.child.pid!, 'VmRSS'));
    const lines = [
      `Collectors: ${COLLECTORS.join(', ')}; per round ${SCRAPES} scrapes each after ${WARMUP} warm-up, in turn, keep-alive HTTP.`,
      '',
      '| exporter | Accept-Encoding | median latency | p99 latency | CPU per scrape | bytes/scrape on the wire | series/scrape |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ];
    const ratios: string[] = [];
    for (const round of ROUNDS) {
      for (let i = 0; i < WARMUP; i++) for (const target of targets) await scrape(target, round);
      const ticksBefore = targets.map((t) => cpuTicks(t.process.child.pid!));
      for (const target of targets) target.latenciesMs = [];
      for (let i = 0; i < SCRAPES; i++) {
        // Rotate who goes first, so none always scrapes right after another's burst.
        const order = [...targets.slice(i % targets.length), ...targets.slice(0, i % targets.length)];
        for (const target of order) await scrape(target, round);
      }
      const rows = targets.map((target, i) => {
        const sorted = [...target.latenciesMs].sort((a, b) => a - b);
        return {
          name: target.name,
          median: quantile(sorted, 0.5),
          p99: quantile(sorted, 0.99),
          cpu: ((cpuTicks(target.process.child.pid!) - ticksBefore[i]) * 1000) / TICKS_PER_SECOND / SCRAPES,
          bytes: target.bytes,
          series: target.series,
        };
      });
      for (const target of targets) target.scrapes += WARMUP + SCRAPES;
      const encoding = round.name === 'gzip' ? 'gzip' : '(none)';
      lines.push(
        ...rows.map(
          (r) =>
            `| ${r.name} | ${encoding} | ${r.median.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.cpu.toFixed(2)} ms | ${r.bytes} | ${r.series} |`,
        ),
      );
      const theirs = rows[rows.length - 1];
      ratios.push(
        ...rows
          .slice(0, -1)
          .map(
            (r) =>
              `${r.name} / node_exporter, Accept-Encoding ${encoding}: median latency ${(r.median / theirs.median).toFixed(2)}x (target <= 1), ` +
              `CPU per scrape ${(r.cpu / theirs.cpu).toFixed(2)}x (target <= 1), bytes on the wire ${(r.bytes / theirs.bytes).toFixed(2)}x`,
          ),
      );
    }
    // Topped up with Prometheus' kind of scrape, so memory is read after as many for every run.
    for (const target of targets) {
      while (target.scrapes < MEMORY_AFTER_SCRAPES) {
        await scrape(target, ROUNDS[0]);
        target.scrapes++;
      }
    }
    lines.push(
      '',
      `| exporter | RSS at rest | RSS after ${targets[0].scrapes} scrapes (peak) |`,
      '| --- | ---: | ---: |',
      ...targets.map((t, i) => {
        const pid = t.process.child.pid!;
        return `| ${t.name} | ${atRest[i].toFixed(1)} MiB | ${memoryMiB(pid, 'VmRSS').toFixed(1)} MiB (${memoryMiB(pid, 'VmHWM').toFixed(1)}) |`;
      }),
      '',
      ...ratios,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const target of targets) target.agent.destroy();
    await Promise.all(targets.map((t) => t.process.stop()));
  }
  await defaultCollectorsMemory(await startVigilExporter([]), urlOf);
}

/**
 * vigil with its default collectors, as deployed (node_exporter has no run to match it): RSS at
 * rest and after 1,000 gzipped scrapes, alone on the machine's attention.
 */
async function defaultCollectorsMemory(
  proc: StartedProcess,
  urlOf: (proc: StartedProcess) => string,
): Promise<void> {
  const vigil = newTarget('vigil exporter, default collectors', urlOf(proc), proc, '/-/ready');
  try {
    await waitForHttp(`${vigil.url}${vigil.readyPath}`, proc);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const pid = proc.child.pid!;
    const atRest = memoryMiB(pid, 'VmRSS');
    for (; vigil.scrapes < MEMORY_AFTER_SCRAPES; vigil.scrapes++) await scrape(vigil, ROUNDS[0]);
    process.stdout.write(
      `| ${vigil.name} (${vigil.series} series) | ${atRest.toFixed(1)} MiB | ${memoryMiB(pid, 'VmRSS').toFixed(1)} MiB (${memoryMiB(pid, 'VmHWM').toFixed(1)}) |\n`,
    );
  } finally {
    vigil.agent.destroy();
    await proc.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/exporter: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
