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
  const vigilPort = await freePort();
  const nodePort = await freePort();
  const vigil = startProcess(process.execPath, [
    CLI,
    'exporter',
    '--listen',
    `127.0.0.1:${vigilPort}`,
    '--log-level',
    'warn',
    '--collector.disable-defaults',
    ...COLLECTORS.map((name) => `--collector.${name}`),
  ]);
  const nodeExporter = startProcess(NODE_EXPORTER, [
    `--web.listen-address=127.0.0.1:${nodePort}`,
    '--collector.disable-defaults',
    ...COLLECTORS.map((name) => `--collector.${name}`),
  ]);
  const targets: Target[] = [
    {
      name: 'vigil exporter',
      url: `http://127.0.0.1:${vigilPort}`,
      process: vigil,
      latenciesMs: [],
      bytes: 0,
      series: 0,
    },
    {
      name: 'node_exporter',
      url: `http://127.0.0.1:${nodePort}`,
      process: nodeExporter,
      latenciesMs: [],
      bytes: 0,
      series: 0,
    },
  ];
  try {
    for (const target of targets) await waitForHttp(`${target.url}/metrics`, target.process);
    for (let i = 0; i < WARMUP; i++) for (const target of targets) await scrape(target);
    const ticksBefore = targets.map((t) => cpuTicks(t.process.child.pid!));
    for (const target of targets) target.latenciesMs = [];
    for (let i = 0; i < SCRAPES; i++) {
      // Alternate who goes first, so neither always scrapes right after the other's burst.
      const order = i % 2 === 0 ? targets : [...targets].reverse();
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
    const [ours, theirs] = rows;
    const lines = [
      `Collectors: ${COLLECTORS.join(', ')}; ${SCRAPES} scrapes each after ${WARMUP} warm-up, alternating, keep-alive HTTP.`,
      '',
      '| exporter | median latency | p99 latency | CPU per scrape | RSS (peak) | bytes/scrape | series/scrape |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map(
        (r) =>
          `| ${r.name} | ${r.median.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.cpu.toFixed(2)} ms | ${r.rss.toFixed(1)} MiB (${r.peak.toFixed(1)}) | ${r.bytes} | ${r.series} |`,
      ),
      '',
      `vigil / node_exporter: median latency ${(ours.median / theirs.median).toFixed(2)}x (target <= 1), ` +
        `CPU per scrape ${(ours.cpu / theirs.cpu).toFixed(2)}x (target <= 1.5), RSS ${ours.rss.toFixed(1)} MiB (target < 60)`,
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
