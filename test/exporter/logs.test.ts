import fs from 'node:fs';
import path from 'node:path';
import type { MetricFamily } from '../../src/common/exposition';
import { logsSchema } from '../../src/config/logs';
import { MetricSink } from '../../src/exporter/exposition';
import { LogCollector } from '../../src/exporter/collectors/logs';
import { FileFollower } from '../../src/exporter/logs/follower';
import { LOG_WRITER, type WriterStep } from '../helpers/log-writer';
import { startProcess } from '../helpers/process';
import { tempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';

const POLL_MS = 20;

// Each test starts writer processes (tsx) and waits for whole files on a shared 2-core machine.
/**
 * Two rotations within one polling interval lose the file in between (the middle one is never
 * seen at the path), as with `tail -F`; real rotations are hours apart, and the tests leave this
 * much time between two for a loaded machine.
 */
const BETWEEN_ROTATIONS_MS = 1000;
const quiet = { warn: () => undefined };

let dir: ReturnType<typeof tempDir>;
let running: LogCollector[] = [];

beforeEach(() => {
  dir = tempDir('vigil-logs-');
});
afterEach(async () => {
  for (const collector of running) await collector.close();
  running = [];
  dir.remove();
});

function startCollector(files: string[], group: Record<string, unknown> = {}) {
  const groups = logsSchema.parse([
    {
      files,
      rules: [{ regex: '^line (?<n>\\d+) ', metric: 'test_lines_total', type: 'counter' }],
      ...group,
    },
  ]);
  const collector = new LogCollector(
    groups,
    { stateFile: path.join(dir.path, 'state.json'), pollIntervalMs: POLL_MS, maxSeriesPerMetric: 1000 },
    quiet,
  );
  collector.start();
  running.push(collector);
  return collector;
}

function scrape(collector: LogCollector): Map<string, MetricFamily> {
  const sink = new MetricSink();
  collector.collect(sink);
  return new Map(sink.families.map((family) => [family.name, family]));
}

function total(collector: LogCollector, name: string): number {
  return (scrape(collector).get(name)?.samples ?? []).reduce((sum, sample) => sum + sample.value, 0);
}

/** Runs the writer as its own process; resolves with the number of numbered lines it wrote. */
async function runWriter(file: string, steps: WriterStep[]): Promise<number> {
  const writer = startProcess(process.execPath, ['--import', 'tsx', LOG_WRITER, file, JSON.stringify(steps)]);
  const code = await writer.stop('SIGCONT');
  if (code !== 0) throw new Error(`writer failed: ${writer.output()}`);
  return Number(writer.output().trim());
}

const rounds = (n: number) => new Promise((resolve) => setTimeout(resolve, n * POLL_MS * 3));

/** Waits until every file is read to its end, then a few rounds more, and returns the count. */
async function settledCount(collector: LogCollector, expected: number): Promise<number> {
  await waitFor(
    () => total(collector, 'test_lines_total') >= expected && total(collector, 'vigil_log_lag_bytes') === 0,
    {
      timeoutMs: 20_000,
      what: `${expected} lines (counted ${total(collector, 'test_lines_total')}, lag ${total(collector, 'vigil_log_lag_bytes')} bytes)`,
    },
  );
  await rounds(5);
  return total(collector, 'test_lines_total');
}

describe('log collector following files written by another process', () => {
  it('counts every appended line once, starting at the end of a file that was there', async () => {
    const file = path.join(dir.path, 'app.log');
    fs.writeFileSync(file, 'line 0 written before the start\n');
    const collector = startCollector([path.join(dir.path, '*.log')]);
    await waitFor(() => total(collector, 'vigil_log_files_followed') === 1);
    const written = await runWriter(file, [{ write: 3000, burst: 50 }]);
    expect(await settledCount(collector, written)).toBe(written);
    expect(total(collector, 'vigil_log_lines_read_total')).toBe(written);
  });

  it('reads a file from its beginning with from_beginning, and a file that appears later whole', async () => {
    const first = path.join(dir.path, 'a.log');
    fs.writeFileSync(first, 'line 1 \nline 2 \n');
    const collector = startCollector([path.join(dir.path, '*.log')], { from_beginning: true });
    expect(await settledCount(collector, 2)).toBe(2);
    const written = await runWriter(path.join(dir.path, 'b.log'), [{ write: 500 }]);
    expect(await settledCount(collector, 2 + written)).toBe(2 + written);
    expect(total(collector, 'vigil_log_files_followed')).toBe(2);
  });

  it('loses and repeats nothing when the file is renamed in the middle of a burst (with late writes to the old file)', async () => {
    const file = path.join(dir.path, 'app.log');
    fs.writeFileSync(file, '');
    const collector = startCollector([file]);
    await waitFor(() => total(collector, 'vigil_log_files_followed') === 1);
    const written = await runWriter(file, [
      { write: 2000, burst: 25 },
      { rename: `${file}.1`, stragglers: 30 },
      { write: 2000, burst: 25 },
      { sleepMs: BETWEEN_ROTATIONS_MS },
      { write: 300, burst: 25 },
      { rename: `${file}.2`, stragglers: 0 },
      { write: 500, burst: 25 },
    ]);
    expect(written).toBe(4830);
    expect(await settledCount(collector, written)).toBe(written);
    expect(total(collector, 'vigil_log_rotations_total')).toBeGreaterThanOrEqual(2);
  });

  it('loses and repeats nothing when the file is copied and truncated in the middle of a burst', async () => {
    const file = path.join(dir.path, 'app.log');
    fs.writeFileSync(file, '');
    const collector = startCollector([file]);
    await waitFor(() => total(collector, 'vigil_log_files_followed') === 1);
    const written = await runWriter(file, [
      // Read up to here first: a copytruncate is recognised by the bytes before the position.
      { write: 100 },
      { sleepMs: BETWEEN_ROTATIONS_MS },
      { write: 3000, burst: 25 },
      { copytruncate: `${file}.1` },
      { write: 3000, burst: 25 },
      { sleepMs: BETWEEN_ROTATIONS_MS },
      { write: 300, burst: 25 },
      { copytruncate: `${file}-20260101` },
      { write: 100, burst: 25 },
    ]);
    expect(await settledCount(collector, written)).toBe(written);
    const rotations = scrape(collector).get('vigil_log_rotations_total')!.samples;
    expect(rotations.find((sample) => sample.labels.kind === 'truncate')?.value).toBe(2);
  });

  it('follows a file deleted and created again', async () => {
    const file = path.join(dir.path, 'app.log');
    fs.writeFileSync(file, '');
    const collector = startCollector([file]);
    await waitFor(() => total(collector, 'vigil_log_files_followed') === 1);
    const written = await runWriter(file, [
      { write: 1000, burst: 20 },
      { recreateAfterMs: 10 * POLL_MS },
      { write: 1000, burst: 20 },
      { sleepMs: BETWEEN_ROTATIONS_MS },
      { write: 300, burst: 20 },
      { recreateAfterMs: 0 },
      { write: 1000, burst: 20 },
    ]);
    expect(await settledCount(collector, written)).toBe(written);
  });

  it('resumes after a restart in the middle of a burst without rereading or skipping', async () => {
    const file = path.join(dir.path, 'app.log');
    fs.writeFileSync(file, '');
    const first = startCollector([file]);
    await waitFor(() => total(first, 'vigil_log_files_followed') === 1);
    const writing = runWriter(file, [{ write: 6000, burst: 20, pauseMs: 1 }]);
    await waitFor(() => total(first, 'test_lines_total') > 500);
    await first.close();
    running = running.filter((collector) => collector !== first);
    const beforeRestart = total(first, 'test_lines_total');
    // Lines written while no collector runs are read by the next one, from the saved position.
    await rounds(3);
    const second = startCollector([file]);
    const written = await writing;
    const afterRestart = await settledCount(second, written - beforeRestart);
    expect(beforeRestart).toBeLessThan(written);
    expect(beforeRestart + afterRestart).toBe(written);
  });

  it.each([
    ['renamed', { rename: 'app.log.1' }],
    ['copied and truncated', { copytruncate: 'app.log.1' }],
  ])(
    'after a restart, reads the rest of a file %s while it was stopped, then the new one',
    async (_, rotation) => {
      const file = path.join(dir.path, 'app.log');
      fs.writeFileSync(file, '');
      const first = startCollector([file]);
      await waitFor(() => total(first, 'vigil_log_files_followed') === 1);
      const before = await runWriter(file, [{ write: 1000 }]);
      expect(await settledCount(first, before)).toBe(before);
      await first.close();
      running = running.filter((collector) => collector !== first);

      const target = path.join(dir.path, Object.values(rotation)[0]);
      const step = 'rename' in rotation ? { rename: target } : { copytruncate: target };
      const writtenWhileStopped = await runWriter(file, [{ write: 500 }, step, { write: 700 }]);
      const second = startCollector([file]);
      expect(await settledCount(second, writtenWhileStopped)).toBe(writtenWhileStopped);
    },
  );

  it('skips a 10 MB line with bounded memory and counts it, and waits for the newline of a partial line', async () => {
    const file = path.join(dir.path, 'app.log');
    fs.writeFileSync(file, '');
    const collector = startCollector([file]);
    await waitFor(() => total(collector, 'vigil_log_files_followed') === 1);
    const written = await runWriter(file, [
      { write: 1000, burst: 50 },
      { longLine: 10 * 1024 * 1024 },
      { write: 1000, burst: 50 },
    ]);
    expect(await settledCount(collector, written)).toBe(written);
    expect(total(collector, 'vigil_log_lines_too_long_total')).toBe(1);

    fs.appendFileSync(file, 'line 9999 half of a line');
    await rounds(5);
    expect(total(collector, 'test_lines_total')).toBe(written);
    fs.appendFileSync(file, ' and its end\n');
    expect(await settledCount(collector, written + 1)).toBe(written + 1);
  });

  it('reads a large file in bounded rounds, reporting the bytes behind its end, and never makes a scrape wait', async () => {
    const file = path.join(dir.path, 'big.log');
    const line = `line 1 ${'x'.repeat(92)}\n`; // 100 bytes
    fs.writeFileSync(file, line.repeat(50_000)); // 5 MB
    const lines: string[] = [];
    const follower = new FileFollower(
      file,
      { onLine: (text) => lines.push(text), maxLineBytes: 1024, buffer: Buffer.alloc(64 * 1024) },
      'start',
      () => undefined,
    );
    try {
      // Each round stops once a 1 MiB budget is spent, at a line boundary.
      expect(await follower.poll(1024 * 1024)).toBe(true);
      const afterOne = lines.length;
      expect(afterOne * 100).toBeGreaterThanOrEqual(1024 * 1024);
      expect(follower.stats.lagBytes).toBe(5_000_000 - afterOne * 100);
      while (await follower.poll(1024 * 1024));
      expect(lines.length).toBe(50_000);
      expect(follower.stats.lagBytes).toBe(0);
    } finally {
      await follower.close();
    }

    // A scrape copies what the rounds counted: collect() is synchronous, it never awaits a read.
    const collector = startCollector([file], { from_beginning: true });
    expect(collector.collect(new MetricSink())).toBeUndefined();
  });
});
