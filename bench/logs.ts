/**
 * Log collector benchmark: vigil's exporter (only its logs collector) against Debian's mtail, in
 * one run, on the same lines through one rule (a counter of finished batch jobs).
 *
 * Each follows FILES empty files from their start; then LINES lines of a batch scheduler's log
 * are appended across them at once, and each is timed until its counter reaches LINES.
 * Figures per program: lines per second, CPU seconds per million lines (utime+stime from
 * /proc/<pid>/stat; vigil parses on one thread), resident memory after reading (VmRSS, VmHWM).
 *
 * Run alone: npm run build && npx tsx bench/logs.ts
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/helpers/net';
import { startProcess, waitForHttp, type StartedProcess } from '../test/helpers/process';

const LINES = Number(process.env.BENCH_LOG_LINES ?? 500_000);
const FILES = 10;
const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');
const MTAIL = process.env.VIGIL_MTAIL_BIN ?? 'mtail';
const TICKS_PER_SECOND = 100; // USER_HZ

function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

function memoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) / 1024;
}

/** The value of the first sample of `metric` in a text exposition, or 0. */
async function counterValue(url: string, metric: string): Promise<number> {
  const body = await (await fetch(url)).text();
  const line = body.split('\n').find((l) => l.startsWith(metric) && !l.startsWith('#'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

function logLines(count: number, file: number): string {
  let out = '';
  for (let i = 0; i < count; i++) {
    const id = 40_000 + i * FILES + file;
    out +=
      i % 2 === 0
        ? `2026-11-30T02:00:00.087Z batchd[2211]: job=etl-${file} id=${id} queue=hourly state=started host=node07\n`
        : `2026-11-30T02:00:39.966Z batchd[2211]: job=etl-${file} id=${id} queue=hourly state=finished exit=0 runtime=39.9s\n`;
  }
  return out;
}

interface Result {
  name: string;
  seconds: number;
  cpu: number;
  rss: number;
  hwm: number;
}

async function measure(
  name: string,
  dir: string,
  proc: StartedProcess,
  metricsUrl: string,
  metric: string,
  ready: () => Promise<boolean>,
): Promise<Result> {
  try {
    await waitForHttp(metricsUrl, proc);
    const deadline = Date.now() + 20_000;
    while (!(await ready())) {
      if (Date.now() > deadline) throw new Error(`${name}: files not followed`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const pid = proc.child.pid!;
    const cpuBefore = cpuSeconds(pid);
    const start = process.hrtime.bigint();
    const perFile = LINES / FILES;
    for (let f = 0; f < FILES; f++) fs.appendFileSync(path.join(dir, `batch-${f}.log`), logLines(perFile, f));
    const finished = LINES / 2;
    while ((await counterValue(metricsUrl, metric)) < finished) {
      if (Number(process.hrtime.bigint() - start) / 1e9 > 300)
        throw new Error(`${name}: not done after 300 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return {
      name,
      seconds,
      cpu: cpuSeconds(pid) - cpuBefore,
      rss: memoryMiB(pid, 'VmRSS'),
      hwm: memoryMiB(pid, 'VmHWM'),
    };
  } finally {
    await proc.stop();
  }
}

function freshDir(root: string, name: string): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  for (let f = 0; f < FILES; f++) fs.writeFileSync(path.join(dir, `batch-${f}.log`), '');
  return dir;
}

async function main(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-logs-'));
  try {
    const results: Result[] = [];

    const vigilDir = freshDir(root, 'vigil');
    const config = path.join(root, 'vigil.yml');
    fs.writeFileSync(
      config,
      [
        'exporter:',
        '  collectors:',
        `    logs: { state_file: '${root}/positions.json', poll_interval: 250ms }`,
        '  logs:',
        `    - files: ['${vigilDir}/*.log']`,
        '      rules:',
        "        - { regex: 'state=finished exit=(?<code>\\d+) ', metric: batch_jobs_finished_total, type: counter }",
      ].join('\n'),
    );
    const vigilPort = await freePort();
    const vigilUrl = `http://127.0.0.1:${vigilPort}/metrics`;
    const vigil = startProcess(process.execPath, [
      CLI,
      'exporter',
      '--config',
      config,
      '--listen',
      `127.0.0.1:${vigilPort}`,
      '--log-level',
      'warn',
      '--collector.disable-defaults',
      '--collector.logs',
    ]);
    results.push(
      await measure(
        'vigil exporter (logs)',
        vigilDir,
        vigil,
        vigilUrl,
        'batch_jobs_finished_total',
        async () => (await counterValue(vigilUrl, 'vigil_log_files_followed')) === FILES,
      ),
    );

    if (spawnSync(MTAIL, ['--version']).error) {
      console.log(`${MTAIL} is not installed (Debian: apt-get install mtail): measuring vigil alone`);
    } else {
      results.push(await measureMtail(root));
    }
    report(results);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function measureMtail(root: string): Promise<Result> {
  const mtailDir = freshDir(root, 'mtail');
  const progs = path.join(root, 'progs');
  fs.mkdirSync(progs);
  fs.writeFileSync(
    path.join(progs, 'batch.mtail'),
    'counter batch_jobs_finished_total\n/state=finished exit=(\\d+) / {\n  batch_jobs_finished_total++\n}\n',
  );
  const mtailPort = await freePort();
  const mtailUrl = `http://127.0.0.1:${mtailPort}/metrics`;
  const mtail = startProcess(MTAIL, [
    '--progs',
    progs,
    '--logs',
    `${mtailDir}/*.log`,
    '--address',
    '127.0.0.1',
    '--port',
    String(mtailPort),
    '--emit_prog_label=false',
    '--logtostderr',
  ]);
  return measure(
    `mtail ${MTAIL === 'mtail' ? '(Debian)' : MTAIL}`,
    mtailDir,
    mtail,
    mtailUrl,
    'batch_jobs_finished_total',
    // mtail opens the files it finds at start; a moment for its first poll.
    async () => (await new Promise((resolve) => setTimeout(resolve, 1000)), true),
  );
}

function report(results: Result[]): void {
  console.log(`${LINES} lines (${FILES} files, appended at once), one rule, counted to the last line:`);
  console.log('program                      lines/s   CPU s per 1M lines   RSS MiB   peak RSS MiB');
  for (const r of results) {
    const linesPerSecond = String(Math.round(LINES / r.seconds)).padStart(9);
    const cpuPerMillion = ((r.cpu / LINES) * 1e6).toFixed(2).padStart(18);
    const rss = r.rss.toFixed(1).padStart(7);
    const peak = r.hwm.toFixed(1).padStart(12);
    console.log(`${r.name.padEnd(26)} ${linesPerSecond}   ${cpuPerMillion}   ${rss}   ${peak}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
