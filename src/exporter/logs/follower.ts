import fs from 'node:fs';
import path from 'node:path';
import type { FilePosition } from './state';

/**
 * How many bytes before the read position are kept to recognise the same content later: enough to
 * span several lines, so that a file truncated and refilled past the position is not taken for
 * the same file because a few bytes there happen to agree.
 */
const TAIL_BYTES = 512;

export interface FollowerStats {
  linesRead: number;
  linesTooLong: number;
  renames: number;
  truncations: number;
  readErrors: number;
  /** Bytes between the read position and the end of the file (and of a rotated file still read). */
  lagBytes: number;
}

/** What one follower needs from the tailer that runs it. */
export interface FollowContext {
  /** Called with each complete line, without its newline (and without a CR before it). */
  readonly onLine: (line: string) => void;
  readonly maxLineBytes: number;
  /** One read buffer shared by every follower of a tailer (they read one at a time); longer than maxLineBytes. */
  readonly buffer: Buffer;
}

/**
 * One open file being read line by line with positional reads. The position is always the start
 * of the first line not yet complete, so a partial last line waits in the file for its newline
 * instead of in memory; a line longer than maxLineBytes is skipped without being held.
 */
class OpenFile {
  private seenMtimeMs = -1;

  private constructor(
    readonly handle: fs.promises.FileHandle,
    readonly dev: number,
    readonly ino: number,
    public offset: number,
    private tail: Buffer,
    /** Inside a line already known to be too long: its rest is skipped up to the next newline. */
    public skipping: boolean,
    private readonly context: FollowContext,
    private readonly stats: FollowerStats,
  ) {}

  static async open(
    file: string,
    context: FollowContext,
    stats: FollowerStats,
    start: 'start' | 'end',
  ): Promise<OpenFile> {
    const handle = await fs.promises.open(file, 'r');
    try {
      const { dev, ino, size } = await handle.stat();
      const opened = new OpenFile(handle, dev, ino, 0, Buffer.alloc(0), false, context, stats);
      if (start === 'end') await opened.moveTo(size);
      return opened;
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  position(): FilePosition {
    return {
      dev: this.dev,
      ino: this.ino,
      offset: this.offset,
      tail: this.tail.toString('base64'),
      skipping: this.skipping,
    };
  }

  /** Moves to a saved position; true when the file still holds there what was read before it. */
  async resume(position: FilePosition): Promise<boolean> {
    this.offset = position.offset;
    this.tail = Buffer.from(position.tail, 'base64');
    this.skipping = position.skipping === true;
    return (await this.size()) >= position.offset && (await this.sameContent());
  }

  /** Whether the bytes before the position are still those that were read there. */
  async sameContent(): Promise<boolean> {
    if (this.tail.length === 0) return true;
    const check = Buffer.alloc(this.tail.length);
    const { bytesRead } = await this.handle.read(check, 0, check.length, this.offset - check.length);
    return bytesRead === check.length && check.equals(this.tail);
  }

  /** Starts over at the beginning (the file was truncated). */
  rewind(): void {
    this.offset = 0;
    this.tail = Buffer.alloc(0);
    this.skipping = false;
  }

  async size(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  /**
   * Whether the file may hold something new: it is not at the position, or it was written since
   * the last call (possibly truncated and refilled to the same size).
   */
  async changed(): Promise<{ size: number; changed: boolean }> {
    const { size, mtimeMs } = await this.handle.stat();
    const changed = size !== this.offset || mtimeMs !== this.seenMtimeMs;
    this.seenMtimeMs = mtimeMs;
    return { size, changed };
  }

  /**
   * Reads the complete lines between the position and `end`, about `budget` bytes at most.
   * True when the budget ran out first.
   */
  async readLines(end: number, budget = Infinity): Promise<boolean> {
    const { buffer, maxLineBytes, onLine } = this.context;
    let consumedTotal = 0;
    while (this.offset < end) {
      if (consumedTotal >= budget) return true;
      const want = Math.min(buffer.length, end - this.offset);
      const { bytesRead } = await this.handle.read(buffer, 0, want, this.offset);
      if (bytesRead === 0) break;
      let lineStart = 0;
      for (;;) {
        const newline = buffer.indexOf(10, lineStart);
        if (newline === -1 || newline >= bytesRead) break;
        if (this.skipping || newline - lineStart > maxLineBytes) {
          this.skipping = false;
          this.stats.linesTooLong++;
        } else {
          const lineEnd = newline > lineStart && buffer[newline - 1] === 13 ? newline - 1 : newline;
          this.stats.linesRead++;
          onLine(buffer.toString('utf8', lineStart, lineEnd));
        }
        lineStart = newline + 1;
      }
      let consumed = lineStart;
      if (this.skipping || bytesRead - lineStart > maxLineBytes) {
        // No newline within maxLineBytes: drop what is here and skip the rest of the line.
        this.skipping = true;
        consumed = bytesRead;
      }
      this.advance(consumed);
      consumedTotal += consumed;
      // A partial line at the end of what the file holds waits for its newline.
      if (consumed === 0 || this.offset + (bytesRead - consumed) >= end) break;
    }
    return false;
  }

  /** The file will not grow again (rotated away long enough): its last line counts without a newline. */
  async finish(): Promise<void> {
    const size = await this.size();
    await this.readLines(size);
    if (size <= this.offset) return;
    if (this.skipping || size - this.offset > this.context.maxLineBytes) this.stats.linesTooLong++;
    else {
      const { buffer } = this.context;
      const { bytesRead } = await this.handle.read(buffer, 0, size - this.offset, this.offset);
      this.stats.linesRead++;
      this.context.onLine(buffer.toString('utf8', 0, bytesRead));
    }
    await this.moveTo(size);
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  private advance(consumed: number): void {
    if (consumed === 0) return;
    const { buffer } = this.context;
    const fresh = buffer.subarray(Math.max(0, consumed - TAIL_BYTES), consumed);
    this.tail =
      fresh.length >= TAIL_BYTES
        ? Buffer.from(fresh)
        : Buffer.concat([this.tail, fresh]).subarray(-TAIL_BYTES);
    this.offset += consumed;
  }

  private async moveTo(offset: number): Promise<void> {
    const length = Math.min(TAIL_BYTES, offset);
    const tail = Buffer.alloc(length);
    const { bytesRead } = await this.handle.read(tail, 0, length, offset - length);
    this.tail = tail.subarray(0, bytesRead);
    this.offset = offset;
    this.skipping = false;
  }
}

/**
 * Follows one path like `tail -F`. A file renamed or deleted is read to its end through the handle
 * still open (and until it stops growing, for writers that have not reopened yet) while the new
 * file at the path is read from its start. A truncated file (copytruncate) is read again from its
 * start, after the lines it held beyond the position are read from the copy beside it.
 */
export class FileFollower {
  readonly stats: FollowerStats = {
    linesRead: 0,
    linesTooLong: 0,
    renames: 0,
    truncations: 0,
    readErrors: 0,
    lagBytes: 0,
  };
  private current?: OpenFile;
  /** Files rotated away from the path, read until they stop growing. */
  private rotated: Array<{ file: OpenFile; size: number }> = [];
  private lastError?: string;

  constructor(
    readonly path: string,
    private readonly context: FollowContext,
    /** Where to start when the path is first opened; later files at the path start at 0. */
    private start: 'start' | 'end' | FilePosition,
    private readonly onError: (path: string, message: string) => void,
  ) {}

  /** The position to save, while a file is open at the path. */
  position(): FilePosition | undefined {
    return this.current?.position();
  }

  /** Whether a file is open at the path. */
  get following(): boolean {
    return this.current !== undefined;
  }

  /** Nothing at the path and nothing rotated still read: the tailer may forget this follower. */
  get idle(): boolean {
    return !this.current && this.rotated.length === 0;
  }

  /** One round of reading; true when the budget ran out before the end of the file. */
  async poll(budget: number): Promise<boolean> {
    try {
      await this.readRotated();
      const identity = await fs.promises.stat(this.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (this.current && (identity?.ino !== this.current.ino || identity?.dev !== this.current.dev)) {
        this.stats.renames++;
        const file = this.current;
        this.current = undefined;
        const size = await file.size();
        await file.readLines(size);
        this.rotated.push({ file, size });
      }
      if (!this.current && identity) await this.open();
      const more = this.current ? await this.readCurrent(budget) : false;
      this.lastError = undefined;
      return more;
    } catch (err) {
      this.stats.readErrors++;
      const message = (err as Error).message;
      if (message !== this.lastError) this.onError(this.path, message);
      this.lastError = message;
      return false;
    } finally {
      await this.updateLag();
    }
  }

  async close(): Promise<void> {
    await this.current?.close();
    for (const { file } of this.rotated) await file.close();
    this.current = undefined;
    this.rotated = [];
  }

  private async open(): Promise<void> {
    const start = this.start;
    this.start = 'start';
    const file = await OpenFile.open(this.path, this.context, this.stats, start === 'end' ? 'end' : 'start');
    this.current = file;
    if (typeof start !== 'object') return;
    const same = start.dev === file.dev && start.ino === file.ino;
    if (same && (await file.resume(start))) return;
    // Rotated while vigil was not running: the saved file's rest is in a copy or under a new name.
    if (same) this.stats.truncations++;
    else this.stats.renames++;
    file.rewind();
    await this.readRest(start);
  }

  private async readCurrent(budget: number): Promise<boolean> {
    const file = this.current!;
    const { size, changed } = await file.changed();
    if (!changed) return false;
    if (size < file.offset || !(await file.sameContent())) {
      this.stats.truncations++;
      await this.readRest(file.position());
      file.rewind();
    }
    return file.readLines(size, budget);
  }

  private async readRotated(): Promise<void> {
    const still: Array<{ file: OpenFile; size: number }> = [];
    for (const entry of this.rotated) {
      const size = await entry.file.size();
      if (size !== entry.size) {
        await entry.file.readLines(size);
        still.push({ file: entry.file, size });
      } else {
        // Still for a whole poll: the writer has moved to the new file.
        await entry.file.finish();
        await entry.file.close();
      }
    }
    this.rotated = still;
  }

  /**
   * The lines after `from` of a file no longer at the path with that content: a sibling named
   * after it (`app.log.1`, `app.log-20240101`) that is the same file (renamed) or holds the same
   * bytes before the position (a copy). Read to its end, or not at all when none is found.
   */
  private async readRest(from: FilePosition): Promise<void> {
    if (from.offset === 0) return;
    const dir = path.dirname(this.path);
    const base = path.basename(this.path);
    const names = (await fs.promises.readdir(dir)).filter((name) => name !== base && name.startsWith(base));
    const candidates: Array<{ file: string; mtimeMs: number; same: boolean }> = [];
    for (const name of names) {
      const file = path.join(dir, name);
      const stat = await fs.promises.stat(file).catch(() => undefined);
      if (!stat?.isFile() || stat.size < from.offset) continue;
      candidates.push({ file, mtimeMs: stat.mtimeMs, same: stat.dev === from.dev && stat.ino === from.ino });
    }
    // The renamed file itself first, then the newest copies.
    candidates.sort((a, b) => Number(b.same) - Number(a.same) || b.mtimeMs - a.mtimeMs);
    for (const candidate of candidates) {
      const rest = await OpenFile.open(candidate.file, this.context, this.stats, 'start').catch(
        () => undefined,
      );
      if (!rest) continue;
      try {
        if ((await rest.resume(from)) || candidate.same) {
          await rest.finish();
          return;
        }
      } finally {
        await rest.close();
      }
    }
  }

  private async updateLag(): Promise<void> {
    let lag = 0;
    for (const file of [this.current, ...this.rotated.map((entry) => entry.file)]) {
      if (!file) continue;
      const size = await file.size().catch(() => file.offset);
      lag += Math.max(0, size - file.offset);
    }
    this.stats.lagBytes = lag;
  }
}
