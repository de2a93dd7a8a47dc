/**
 * A program that writes a log file the way applications and logrotate do, run as its own process
 * beside the exporter under test: `node --import tsx log-writer.ts FILE STEPS_JSON`.
 *
 * Lines are `line <n> <padding>`, numbered from 1 across all steps, written through a descriptor
 * opened with O_APPEND and kept open as an application keeps its log open.
 */
import fs from 'node:fs';

export type WriterStep =
  /** `lines` lines in bursts of `burst`, with a pause of `pauseMs` between bursts. */
  | { write: number; burst?: number; pauseMs?: number }
  /** logrotate's default: rename the file, write `stragglers` more lines to the old descriptor, then reopen. */
  | { rename: string; stragglers?: number }
  /** logrotate's copytruncate: copy the file, then truncate it in place; the descriptor stays. */
  | { copytruncate: string }
  /** Delete the file, then create it again after `pauseMs`. */
  | { recreateAfterMs: number }
  /** One line of `bytes` bytes (not numbered, not counted). */
  | { longLine: number }
  /** Write `text` as is (for partial lines). */
  | { raw: string }
  | { sleepMs: number };

export const LOG_WRITER = __filename;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const [file, stepsJson] = process.argv.slice(2);
  const steps = JSON.parse(stepsJson) as WriterStep[];
  const open = () => fs.openSync(file, 'a');
  let fd = open();
  let n = 0;
  const line = () => `line ${++n} ${'x'.repeat(n % 50)}\n`;
  for (const step of steps) {
    if ('write' in step) {
      const burst = step.burst ?? 100;
      for (let written = 0; written < step.write;) {
        let chunk = '';
        for (let i = 0; i < burst && written < step.write; i++, written++) chunk += line();
        fs.writeSync(fd, chunk);
        if (step.pauseMs) await sleep(step.pauseMs);
        else await new Promise((resolve) => setImmediate(resolve));
      }
    } else if ('rename' in step) {
      fs.renameSync(file, step.rename);
      for (let i = 0; i < (step.stragglers ?? 0); i++) fs.writeSync(fd, line());
      fs.closeSync(fd);
      fd = open();
    } else if ('copytruncate' in step) {
      fs.copyFileSync(file, step.copytruncate);
      fs.ftruncateSync(fd, 0);
    } else if ('recreateAfterMs' in step) {
      fs.closeSync(fd);
      fs.unlinkSync(file);
      await sleep(step.recreateAfterMs);
      fd = open();
    } else if ('longLine' in step) {
      fs.writeSync(fd, `${'y'.repeat(step.longLine)}\n`);
    } else if ('raw' in step) {
      fs.writeSync(fd, step.raw);
    } else {
      await sleep(step.sleepMs);
    }
  }
  fs.closeSync(fd);
  process.stdout.write(`${n}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}
