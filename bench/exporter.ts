/**
 * Exporter benchmark: vigil's exporter against Debian's node_exporter, in one run, with the same
 * collectors, scraped alternately over keep-alive HTTP as Prometheus does.
 *
 * Figures per exporter: scrape latency (median, p99) over SCRAPES scrapes, CPU time per scrape
 * (utime+stime of the exporter process from /proc/<pid>/stat), resident memory (VmRSS and its
 * peak VmHWM), bytes and series per scrape.
 *
 * Run alone: npm run build && npx tsx bench/exporter.ts
 * Targets: median latency <= node_exporter's, CPU/scrape <= 1.5x, RSS < 60 MiB.
 */
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../test/helpers/net';
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
const TICKS_PER_SECOND = 100; // USER_HZ
// A second vigil process runs as README recommends for production: glibc limited to two malloc
// arenas (V8's compiler threads otherwise each keep one, ~30 MiB resident after warm-up) and a
// 1 MiB young generation, which keeps the heap from growing with each scrape's garbage.
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=1').split(' ').filter(Boolean);
const TUNED_ENV = { MALLOC_ARENA_MAX: process.env.BENCH_MALLOC_ARENA_MAX ?? '2' };

interface Target {
  name: string;
  url: string;
  process: StartedProcess;
  latenciesMs: number[];
  bytes: number;
  series: number;
}

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

async function scrape(target: Target): Promise<void> {
  const start = process.hrtime.bigint();
  const response = await fetch(`${target.url}/metrics`);
  const body = await response.text();
  target.latenciesMs.push(Number(process.hrtime.bigint() - start) / 1e6);
  if (!response.ok) throw new Error(`${target.name}: HTTP ${response.status}`);
  target.bytes = Buffer.byteLength(body);
  target.series = body.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
}

async function main(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const startVigilExporter = async (flags: string[], env: NodeJS.ProcessEnv = {}) =>
    startProcess(
      process.execPath,
      [
        ...flags,
        CLI,
        'exporter',
        '--listen',
        `127.0.0.1:${await freePort()}`,
        '--log-level',
        'warn',
        '--collector.disable-defaults',
        ...COLLECTORS.map((name) => `--collector.${name}`),
      ],
      env,
    );
  const urlOf = (proc: StartedProcess) =>
    `http://${proc.child.spawnargs[proc.child.spawnargs.indexOf('--listen') + 1]}`;
  const nodePort = await freePort();
  const vigil = await startVigilExporter([]);
  const vigilTuned = await startVigilExporter(NODE_FLAGS, TUNED_ENV);
  const nodeExporter = startProcess(NODE_EXPORTER, [
    `--web.listen-address=127.0.0.1:${nodePort}`,
    '--collector.disable-defaults',
    ...COLLECTORS.map((name) => `--collector.${name}`),
  ]);
  const target = (name: string, url: string, proc: StartedProcess): Target => ({
    name,
    url,
    process: proc,
    latenciesMs: [],
    bytes: 0,
    series: 0,
  });
  const targets: Target[] = [
    target('vigil exporter', urlOf(vigil), vigil),
    target(
      `vigil exporter, MALLOC_ARENA_MAX=${TUNED_ENV.MALLOC_ARENA_MAX} node ${NODE_FLAGS.join(' ')}`,
      urlOf(vigilTuned),
      vigilTuned,
    ),
    target('node_exporter', `http://127.0.0.1:${nodePort}`, nodeExporter),
  ];
  try {
    for (const target of targets) await waitForHttp(`${target.url}/metrics`, target.process);
    for (let i = 0; i < WARMUP; i++) for (const target of targets) await scrape(target);
    const ticksBefore = targets.map((t) => cpuTicks(t.process.child.pid!));
    for (const target of targets) target.latenciesMs = [];
    for (let i = 0; i < SCRAPES; i++) {
      // Rotate who goes first, so none always scrapes right after another's burst.
      const order = [...targets.slice(i % targets.length), ...targets.slice(0, i % targets.length)];
      for (const target of order) await scrape(target);
    }
    const rows = targets.map((target, i) => {
      const pid = target.process.child.pid!;
      const sorted = [...target.latenciesMs].sort((a, b) => a - b);
      return {
        name: target.name,
        median: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        cpu: ((cpuTicks(pid) - ticksBefore[i]) * 1000) / TICKS_PER_SECOND / SCRAPES,
        rss: memoryMiB(pid, 'VmRSS'),
        peak: memoryMiB(pid, 'VmHWM'),
        bytes: target.bytes,
        series: target.series,
      };
    });
    const [ours, tuned, theirs] = rows;
    const lines = [
      `Collectors: ${COLLECTORS.join(', ')}; ${SCRAPES} scrapes each after ${WARMUP} warm-up, in turn, keep-alive HTTP.`,
      '',
      '| exporter | median latency | p99 latency | CPU per scrape | RSS (peak) | bytes/scrape | series/scrape |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map(
        (r) =>
          `| ${r.name} | ${r.median.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.cpu.toFixed(2)} ms | ${r.rss.toFixed(1)} MiB (${r.peak.toFixed(1)}) | ${r.bytes} | ${r.series} |`,
      ),
      '',
      ...[ours, tuned].map(
        (r) =>
          `${r.name} / node_exporter: median latency ${(r.median / theirs.median).toFixed(2)}x (target <= 1), ` +
          `CPU per scrape ${(r.cpu / theirs.cpu).toFixed(2)}x (target <= 1.5), RSS ${r.rss.toFixed(1)} MiB (target < 60)`,
      ),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await Promise.all(targets.map((t) => t.process.stop()));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/exporter: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
