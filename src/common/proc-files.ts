import fs from 'node:fs';
import path from 'node:path';

// One buffer for every /proc and /sys read. fs.readFileSync allocates a fresh 64 KiB buffer per
// call for these size-0 files; at a dozen files per scrape that churn kept glibc's heap, and so the
// exporter's resident size, growing by tens of MiB (see bench/exporter.ts).
let readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

/** The whole content of an open file, read from offset 0 into readBuffer. */
function readFrom(fd: number): string {
  let length = 0;
  for (;;) {
    if (length === readBuffer.length) {
      const bigger = Buffer.allocUnsafeSlow(readBuffer.length * 2);
      readBuffer.copy(bigger);
      readBuffer = bigger;
    }
    const read = fs.readSync(fd, readBuffer, length, readBuffer.length - length, length);
    if (read === 0) break;
    length += read;
  }
  return readBuffer.toString('latin1', 0, length);
}

/** A kept file not read for this long is closed (a collector turned off, a file gone). */
const IDLE_CLOSE_MS = 5 * 60_000;
/** At most this many files are kept open; more are opened on each read. */
const MAX_KEPT_FILES = 1024;

/**
 * Reads /proc files through descriptors kept open between scrapes. The kernel makes such a file's
 * content anew on every read from offset 0 (seq_file and sysctl files alike, and /sys attributes),
 * so a kept descriptor reads the current values, and a scrape saves an open and a close per file,
 * half the CPU of reading it. Other files are opened on every read unless the caller asks to keep
 * them: a /sys path names a device by a name that a rename may give to another device (a kept
 * descriptor would still read the first), so only the caller knows when a name still names the
 * same thing, and forgets the descriptors when it may not (`forget`); udev's database is replaced
 * by renaming. A kept descriptor whose read fails (its device is gone) is closed and the file
 * opened anew.
 */
export class ProcFileReader {
  private readonly kept = new Map<string, { fd: number; lastRead: number }>();
  private lastSweep = Date.now();

  private readonly root: string;

  /** Files under `procfs` are kept open; any other file only when `read` is asked to keep it. */
  constructor(procfs = '/proc') {
    this.root = path.join(procfs, '/');
  }

  read(file: string, keep = file.startsWith(this.root)): string {
    const now = Date.now();
    if (now - this.lastSweep > IDLE_CLOSE_MS) this.closeIdle(now);
    const kept = this.kept.get(file);
    if (kept) {
      kept.lastRead = now;
      try {
        return readFrom(kept.fd);
      } catch {
        this.close(file, kept.fd);
      }
    }
    const fd = fs.openSync(file, 'r');
    let text: string;
    try {
      text = readFrom(fd);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    if (keep && this.kept.size < MAX_KEPT_FILES) this.kept.set(file, { fd, lastRead: now });
    else fs.closeSync(fd);
    return text;
  }

  /** Closes the kept descriptors of the files under `dir`: the next reads open them anew. */
  forget(dir: string): void {
    const prefix = path.join(dir, '/');
    for (const [file, { fd }] of this.kept) if (file.startsWith(prefix)) this.close(file, fd);
  }

  private closeIdle(now: number): void {
    for (const [file, { fd, lastRead }] of this.kept) {
      if (now - lastRead > IDLE_CLOSE_MS) this.close(file, fd);
    }
    this.lastSweep = now;
  }

  private close(file: string, fd: number): void {
    this.kept.delete(file);
    fs.closeSync(fd);
  }
}

/** This process' own /proc/self files (its process_* metrics). */
export const procSelf = new ProcFileReader();
