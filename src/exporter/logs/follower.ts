import fs from 'node:fs';
import path from 'node:path';
import type { FilePosition } from './state';

/**
 * How many bytes at the start of a file, and before the read position, are kept to recognise the
 * same content later: enough to span several lines, so that a file truncated and refilled past the
 * position is not taken for the same file because a few bytes there happen to agree.
 */
const MARK_BYTES = 512;

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

/** How a call of readLines ended. */
type ReadEnd = 'end' | 'budget' | 'replaced';

/**
 * What was read of a file, to recognise it later: its first bytes (the head) and the bytes before
 * the position (the tail), at most MARK_BYTES each. While the position is within the first
 * MARK_BYTES, the two are the same bytes.
 */
interface Marks {
  offset: number;
  head: Buffer;
  tail: Buffer;
}

/**
 * One open file being read line by line with positional reads. The position is always the start
 * of the first line not yet complete, so a partial last line waits in the file for its newline
 * instead of in memory; a line longer than maxLineBytes is skipped without being held.
 *
 * A file truncated in place (copytruncate) keeps its inode, and is recognised by its content: it is
 * shorter than the position, or its head or the bytes before the position are not those read
 * there. The check runs before a poll reads and again after each read, before any line of that
 * read is passed on, so a truncation while reading never passes the new file's bytes off as the
 * old file's. What it cannot see: a file refilled, between two checks, past the position with the
 * very same bytes at its head and before the position (a log of identical lines without
 * timestamps); those lines are taken as the old file's, and the rest of the old file is not read.
 */
class OpenFile {
  private seenMtimeMs = -1;

  private constructor(
    readonly handle: fs.promises.FileHandle,
    readonly dev: number,
    readonly ino: number,
    private marks: Marks,
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
      const empty = Buffer.alloc(0);
      const opened = new OpenFile(
        handle,
        dev,
        ino,
        { offset: 0, head: empty, tail: empty },
        false,
        context,
        stats,
      );
      if (start === 'end') await opened.moveTo(size);
      return opened;
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  get offset(): number {
    return this.marks.offset;
  }

  position(): FilePosition {
    return {
      dev: this.dev,
      ino: this.ino,
      offset: this.marks.offset,
      head: this.marks.head.toString('base64'),
      tail: this.marks.tail.toString('base64'),
      skipping: this.skipping,
    };
  }

  /** Moves to a saved position; true when the file still holds what was read before it. */
  async resume(position: FilePosition): Promise<boolean> {
    const tail = Buffer.from(position.tail, 'base64');
    this.marks = {
      offset: position.offset,
      // Positions saved before heads were kept are checked by their tail alone.
      head: Buffer.from(position.head ?? '', 'base64'),
      tail,
    };
    this.skipping = position.skipping === true;
    return (await this.size()) >= position.offset && (await this.sameContent());
  }

  /** Whether the file still holds, at its start and before the position, the bytes read there. */
  sameContent(): Promise<boolean> {
    return this.holds(this.marks);
  }

  /** Starts over at the beginning (the file was truncated). */
  rewind(): void {
    const empty = Buffer.alloc(0);
    this.marks = { offset: 0, head: empty, tail: empty };
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
    const changed = size !== this.marks.offset || mtimeMs !== this.seenMtimeMs;
    this.seenMtimeMs = mtimeMs;
    return { size, changed };
  }

  /**
   * Reads the complete lines between the position and `end`, about `budget` bytes at most. Ends
   * early when the budget runs out, or when the file no longer holds what was read before (it
   * was truncated, possibly during the read): then the position stays before that read.
   */
  async readLines(end: number, budget = Infinity): Promise<ReadEnd> {
    const { buffer, maxLineBytes } = this.context;
    let consumedTotal = 0;
    while (this.marks.offset < end) {
      if (consumedTotal >= budget) return 'budget';
      const want = Math.min(buffer.length, end - this.marks.offset);
      const { bytesRead } = await this.handle.read(buffer, 0, want, this.marks.offset);
      if (bytesRead === 0) break;
      const lastNewline = buffer.lastIndexOf(10, bytesRead - 1);
      // Still inside a line too long, or no newline within maxLineBytes: what is here is dropped
      // and the rest of the line skipped.
      const overlong = (lastNewline === -1 && this.skipping) || bytesRead - (lastNewline + 1) > maxLineBytes;
      const consumed = overlong ? bytesRead : lastNewline + 1;
      // A partial line at the end of what the file holds waits for its newline.
      if (consumed === 0) break;
      const next = this.marksAfter(buffer.subarray(0, consumed));
      // Checked after the read: a truncation before or during it shows in the file now.
      if (!(await this.holds(next))) return 'replaced';
      this.passLines(buffer.subarray(0, consumed), overlong);
      this.marks = next;
      consumedTotal += consumed;
      if (this.marks.offset + (bytesRead - consumed) >= end) break;
    }
    return 'end';
  }

  /** The file will not grow again (rotated away long enough): its last line counts without a newline. */
  async finish(): Promise<void> {
    const size = await this.size();
    if ((await this.readLines(size)) === 'replaced') return;
    if (size <= this.marks.offset) return;
    if (this.skipping || size - this.marks.offset > this.context.maxLineBytes) this.stats.linesTooLong++;
    else {
      const { buffer } = this.context;
      const { bytesRead } = await this.handle.read(buffer, 0, size - this.marks.offset, this.marks.offset);
      this.stats.linesRead++;
      this.context.onLine(buffer.toString('utf8', 0, bytesRead));
    }
    await this.moveTo(size);
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  /** Passes on the complete lines of `chunk`; `overlong`: its end is part of a line too long. */
  private passLines(chunk: Buffer, overlong: boolean): void {
    const { maxLineBytes, onLine } = this.context;
    let lineStart = 0;
    for (;;) {
      const newline = chunk.indexOf(10, lineStart);
      if (newline === -1) break;
      if (this.skipping || newline - lineStart > maxLineBytes) {
        this.skipping = false;
        this.stats.linesTooLong++;
      } else {
        const lineEnd = newline > lineStart && chunk[newline - 1] === 13 ? newline - 1 : newline;
        this.stats.linesRead++;
        onLine(chunk.toString('utf8', lineStart, lineEnd));
      }
      lineStart = newline + 1;
    }
    if (overlong) this.skipping = true;
  }

  /** The marks once `chunk`, read at the position, is consumed. */
  private marksAfter(chunk: Buffer): Marks {
    const { offset, head, tail } = this.marks;
    return {
      offset: offset + chunk.length,
      // Copied out of the shared read buffer (concat always allocates).
      head:
        head.length >= MARK_BYTES ? head : Buffer.concat([head, chunk.subarray(0, MARK_BYTES - head.length)]),
      tail: Buffer.concat([tail, chunk.subarray(-MARK_BYTES)]).subarray(-MARK_BYTES),
    };
  }

  /** Whether the file holds `marks.head` at its start and `marks.tail` just before `marks.offset`. */
  private async holds({ offset, head, tail }: Marks): Promise<boolean> {
    const matches = async (expected: Buffer, at: number) => {
      if (expected.length === 0) return true;
      const found = Buffer.alloc(expected.length);
      const { bytesRead } = await this.handle.read(found, 0, found.length, at);
      return bytesRead === found.length && found.equals(expected);
    };
    // Near the start the tail covers the head.
    const headApart = offset - tail.length > 0;
    return (await matches(tail, offset - tail.length)) && (!headApart || (await matches(head, 0)));
  }

  private async moveTo(offset: number): Promise<void> {
    const read = async (at: number, length: number) => {
      const bytes = Buffer.alloc(length);
      const { bytesRead } = await this.handle.read(bytes, 0, length, at);
      return bytes.subarray(0, bytesRead);
    };
    const tailLength = Math.min(MARK_BYTES, offset);
    this.marks = {
      offset,
      head: await read(0, Math.min(MARK_BYTES, offset)),
      tail: await read(offset - tailLength, tailLength),
    };
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
    if (size < file.offset || !(await file.sameContent())) await this.truncated(file);
    const end = await file.readLines(size, budget);
    // Truncated while reading: the next round, right away, reads the new content from its start.
    if (end === 'replaced') await this.truncated(file);
    return end !== 'end';
  }

  /** The file at the path was truncated: the rest of what it held is read from its copy, if any. */
  private async truncated(file: OpenFile): Promise<void> {
    this.stats.truncations++;
    await this.readRest(file.position());
    file.rewind();
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
   * head and bytes before the position (a copy). Read to its end, or not at all when none is found.
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
