import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from '../common/errors';
import { syncDirectory } from '../common/files';
import { GroupCommit } from '../common/group-commit';

/**
 * The spool's write-ahead log: records of keyed values (one JSON line each, the last line of a key
 * wins, `{"forget":key}` drops it), appended in group commits to a segment file written with zeros
 * beforehand. Overwriting bytes already on disk changes no file-system metadata, so a commit is one
 * write that returns once the data is durable (O_DSYNC: no fsync of its own, no wait on the
 * journal that every other file's creation goes through), instead of a file, an fsync and a
 * directory sync per record. A full segment is replaced by a new one holding only the live records
 * (written under a temporary name, renamed into place once durable, then the old one is deleted):
 * the newest segment is always complete, and reading it alone gives the whole state.
 *
 * What follows the last whole line was never acknowledged (a commit cut short by a crash, or the
 * zeros not yet written over) and is ignored.
 */

interface Segment {
  seq: number;
  file: string;
  handle: fsp.FileHandle;
  /** Bytes preallocated. */
  size: number;
  /** Where the next record goes. */
  offset: number;
}

interface Span {
  offset: number;
  length: number;
}

/** A change to the log: the key's new record, or (line undefined) the key forgotten. */
interface Change {
  key: string;
  line?: string;
}

export interface SegmentLogOptions {
  /** The smallest segment; one is made twice as large as its live records when they need more. */
  minSegmentBytes?: number;
}

/** What a previous run left: each live key's line and parsed value, and the lines that are not records. */
export interface RecoveredLog<T> {
  /** Each line without its newline, as start() takes it back. */
  live: Map<string, { line: string; value: T }>;
  /** The segment read, when there was one. */
  file?: string;
  /** Unreadable lines of it, each with why (the data after them is still read). */
  problems: string[];
}

/** What a line of the log holds, or why it is not a record. */
export type RecordParser<T> = (json: unknown) => { key: string; value: T } | string;

const SEGMENT = /^(\d{16})\.log$/;
const PAGE = 4096;
const MIB = 1024 * 1024;
const DEFAULT_SEGMENT_BYTES = 16 * MIB;
/** Where defined (Linux, macOS), each write returns once its data is durable; elsewhere a datasync follows it. */
const O_DSYNC = fs.constants.O_DSYNC as number | undefined;

export class SegmentLog {
  private readonly commits = new GroupCommit<Change>((changes) => this.append(changes));
  /** The latest record of each live key, in the current segment. */
  private index = new Map<string, Span>();
  /** The next segment, written with zeros in the background once the current one is half full. */
  private spare: Promise<Segment> | undefined;
  /** A write failed part-way: the next commit starts a new segment without what it may have left. */
  private broken = false;

  private constructor(
    private readonly dir: string,
    private segment: Segment,
    private readonly minBytes: number,
  ) {}

  /** Reads the newest segment in `dir` (older ones and unfinished ones are superseded by it). */
  static async recover<T>(dir: string, parse: RecordParser<T>): Promise<RecoveredLog<T>> {
    await fsp.mkdir(dir, { recursive: true });
    const newest = (await segmentsIn(dir)).pop();
    const recovered: RecoveredLog<T> = { live: new Map(), problems: [] };
    if (newest === undefined) return recovered;
    recovered.file = path.join(dir, newest.name);
    const data = await fsp.readFile(recovered.file);
    const end = data.indexOf(0);
    const lines = data.toString('utf8', 0, end < 0 ? data.length : end).split('\n');
    // The text after the last newline is a commit cut short: never acknowledged.
    lines.pop();
    for (const [n, line] of lines.entries()) {
      const read = parseLine(line, parse);
      if (typeof read === 'string') recovered.problems.push(`line ${n + 1}: ${read}`);
      else if (read.forget !== undefined) recovered.live.delete(read.forget);
      else recovered.live.set(read.key, { line, value: read.value });
    }
    return recovered;
  }

  /**
   * Starts a new segment holding `live` (key to its record, one line without the newline), durably,
   * and removes every other segment of `dir`.
   */
  static async start(
    dir: string,
    live: Map<string, string>,
    options: SegmentLogOptions = {},
  ): Promise<SegmentLog> {
    await fsp.mkdir(dir, { recursive: true });
    const existing = await segmentsIn(dir);
    const seq = (existing.at(-1)?.seq ?? 0) + 1;
    const minBytes = options.minSegmentBytes ?? DEFAULT_SEGMENT_BYTES;
    const records = [...live].map(([key, line]): [string, Buffer] => [key, Buffer.from(`${line}\n`)]);
    const bytes = records.reduce((sum, [, line]) => sum + line.length, 0);
    const segment = await createSegment(dir, seq, segmentSize(bytes, minBytes));
    const log = new SegmentLog(dir, segment, minBytes);
    await log.switchTo(segment, records);
    for (const old of existing) await fsp.rm(path.join(dir, old.name), { force: true });
    return log;
  }

  /** Records `line` (one line of JSON, without the newline) as the key's value; resolves once durable. */
  put(key: string, line: string): Promise<void> {
    return this.commits.add({ key, line: `${line}\n` });
  }

  /** Drops the key's record; resolves once durable. */
  forget(key: string): Promise<void> {
    return this.commits.add({ key });
  }

  /** After the commits under way. */
  async close(): Promise<void> {
    await this.commits.settled();
    const spare = await this.spare?.catch(() => undefined);
    if (spare) await discard(spare);
    await this.segment.handle.close();
  }

  private async append(changes: Change[]): Promise<void> {
    // A key never recorded (or already forgotten) needs no line to forget it.
    const recorded = new Set<string>();
    const lines = changes.map(({ key, line }) => {
      if (line !== undefined) recorded.add(key);
      else if (recorded.delete(key) || this.index.has(key)) return `${JSON.stringify({ forget: key })}\n`;
      return line ?? '';
    });
    const data = Buffer.from(lines.join(''));
    if (data.length > 0) {
      if (this.broken || this.segment.offset + data.length > this.segment.size)
        await this.rotate(data.length);
      try {
        await writeDurably(this.segment, data, this.segment.offset);
      } catch (err) {
        this.broken = true;
        throw err;
      }
    }
    let at = this.segment.offset;
    for (const [i, change] of changes.entries()) {
      const length = Buffer.byteLength(lines[i]);
      if (change.line === undefined) this.index.delete(change.key);
      else this.index.set(change.key, { offset: at, length });
      at += length;
    }
    this.segment.offset = at;
    if (this.spare === undefined && this.segment.offset > this.segment.size / 2) this.prepareSpare();
  }

  /** Moves the live records to a new segment with room for `extra` more bytes. */
  private async rotate(extra: number): Promise<void> {
    const old = this.segment;
    const data = Buffer.alloc(old.offset);
    await old.handle.read(data, 0, old.offset, 0);
    const records = [...this.index].map(([key, { offset, length }]): [string, Buffer] => [
      key,
      data.subarray(offset, offset + length),
    ]);
    const size = segmentSize(records.reduce((sum, [, line]) => sum + line.length, 0) + extra, this.minBytes);
    let next = await this.takeSpare();
    if (next === undefined || next.size < size) {
      if (next) await discard(next);
      next = await createSegment(this.dir, old.seq + 1, size);
    }
    await this.switchTo(next, records);
    await old.handle.close();
    await fsp.rm(old.file, { force: true });
  }

  /** Writes `records` at the start of `next`, renames it into place durably, and appends there from now on. */
  private async switchTo(next: Segment, records: Array<[string, Buffer]>): Promise<void> {
    const index = new Map<string, Span>();
    let at = 0;
    for (const [key, line] of records) {
      index.set(key, { offset: at, length: line.length });
      at += line.length;
    }
    if (at > 0) await writeDurably(next, Buffer.concat(records.map(([, line]) => line)), 0);
    const file = path.join(this.dir, segmentName(next.seq));
    await fsp.rename(next.file, file);
    await syncDirectory(this.dir);
    Object.assign(next, { file, offset: at });
    this.segment = next;
    this.index = index;
    this.broken = false;
  }

  private prepareSpare(): void {
    const size = segmentSize(this.segment.offset, this.minBytes);
    const spare = createSegment(this.dir, this.segment.seq + 1, size);
    // A failure here is met again, and reported, by the rotation that needs the segment.
    spare.catch(() => {
      if (this.spare === spare) this.spare = undefined;
    });
    this.spare = spare;
  }

  private async takeSpare(): Promise<Segment | undefined> {
    const spare = this.spare;
    this.spare = undefined;
    return spare?.catch(() => undefined);
  }
}

/** A line as read back: a record, a key forgotten, or why it is neither. */
function parseLine<T>(
  line: string,
  parse: RecordParser<T>,
): { forget: string } | { forget?: undefined; key: string; value: T } | string {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    return `unreadable: ${errorMessage(err)}`;
  }
  if (typeof json === 'object' && json !== null && 'forget' in json) {
    const { forget } = json;
    return typeof forget === 'string' ? { forget } : 'unreadable: "forget" is not a key';
  }
  return parse(json);
}

function segmentName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.log`;
}

/** The complete segments in `dir`, oldest first; unfinished ones (a crash while making one) are removed. */
async function segmentsIn(dir: string): Promise<Array<{ seq: number; name: string }>> {
  const segments: Array<{ seq: number; name: string }> = [];
  for (const name of await fsp.readdir(dir)) {
    const match = SEGMENT.exec(name);
    if (match) segments.push({ seq: Number(match[1]), name });
    else if (name.endsWith('.tmp')) await fsp.rm(path.join(dir, name), { force: true });
  }
  return segments.sort((a, b) => a.seq - b.seq);
}

/** Twice the live records, in whole pages, and at least `minBytes`: a replacement is needed again only after as much is written. */
function segmentSize(liveBytes: number, minBytes: number): number {
  return Math.max(minBytes, Math.ceil((2 * liveBytes) / PAGE) * PAGE);
}

/**
 * A new segment under a temporary name, `size` bytes of zeros on disk, open for durable writes.
 * The zeros are written, not merely reserved: writing over reserved space would change metadata.
 */
async function createSegment(dir: string, seq: number, size: number): Promise<Segment> {
  const file = path.join(dir, `${segmentName(seq)}.tmp`);
  const filling = await fsp.open(file, 'w');
  try {
    const zeros = Buffer.alloc(Math.min(MIB, size));
    for (let at = 0; at < size; at += zeros.length) {
      await filling.write(zeros, 0, Math.min(zeros.length, size - at), at);
    }
    await filling.datasync();
  } finally {
    await filling.close();
  }
  const handle = await fsp.open(file, fs.constants.O_RDWR | (O_DSYNC ?? 0));
  return { seq, file, handle, size, offset: 0 };
}

async function discard(segment: Segment): Promise<void> {
  await segment.handle.close();
  await fsp.rm(segment.file, { force: true });
}

async function writeDurably(segment: Segment, data: Buffer, position: number): Promise<void> {
  await segment.handle.write(data, 0, data.length, position);
  if (O_DSYNC === undefined) await segment.handle.datasync();
}
