import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../common/errors';
import { syncDirectory, writeFileAtomic } from '../common/files';
import { GroupCommit } from '../common/group-commit';
import { describeIssue } from '../common/issues';
import { labelSet, type Notification } from './payload';
import { SegmentLog } from './spool-log';

/**
 * The durable spool. Accepted notifications and the state of each delivery are records of a
 * write-ahead log (spool-log.ts): a new entry is acknowledged once the group commit holding it is
 * durable, one write for every record arriving while the previous commit ran; each change of state
 * is a record of the same log, and a finished entry stays in it until pruned (de-duplication, the
 * status page). A dead letter is a file of its own in dead/, durably, before it leaves the log.
 * Layout:
 *   log/<n>.log     the log's segment (one; a new one replaces it when full)
 *   dead/<id>.json  at least one delivery given up (kept until a person removes it)
 *   corrupt/        what could not be read, set aside with why
 * Spools of earlier versions (pending/<id>.json, pending/<id>.batch, done/<id>.json) are read once
 * into the log at start, then removed.
 */

/** `superseded`: a newer notification of the same alert group replaced it while it was pending. */
export type DeliveryStateName = 'pending' | 'delivered' | 'dead' | 'superseded';

export interface DeliveryRecord {
  channel: string;
  state: DeliveryStateName;
  attempts: number;
  /** Unix ms of the next attempt while pending. */
  nextAttemptAt: number;
  lastError?: string;
  /** The peer's answer to the successful attempt. */
  detail?: string;
  finishedAt?: number;
}

export interface SpoolEntry {
  id: string;
  dedupKey: string;
  receivedAt: number;
  route: string;
  notification: Notification;
  deliveries: DeliveryRecord[];
}

export type Outcome = 'done' | 'dead';

export interface SpoolContents {
  pending: SpoolEntry[];
  /** Finished entries, oldest first. */
  finished: SpoolEntry[];
  /** Files that could not be read or are not spool entries, moved aside to corrupt/, with why. */
  corrupt: Array<{ file: string; reason: string }>;
}

/** What newEntryId() makes: arrival time, part of the de-duplication key, a random part. */
const ENTRY_ID = /^\d{13}-[0-9a-f]{1,12}-[0-9a-f]{6}$/;

const alertStatus = z.enum(['firing', 'resolved']);

/** The spool is read back as untrusted input: anything else than what was written goes to corrupt/. */
const entrySchema = z.object({
  id: z.string(),
  dedupKey: z.string(),
  receivedAt: z.number(),
  route: z.string(),
  notification: z.object({
    receiver: z.string(),
    status: alertStatus,
    alerts: z.array(
      z.object({
        status: alertStatus,
        labels: labelSet,
        annotations: labelSet,
        startsAt: z.number(),
        endsAt: z.number().nullable(),
        generatorURL: z.string(),
        fingerprint: z.string(),
      }),
    ),
    groupLabels: labelSet,
    commonLabels: labelSet,
    commonAnnotations: labelSet,
    externalURL: z.string(),
    groupKey: z.string(),
    truncatedAlerts: z.number(),
  }),
  deliveries: z.array(
    z.object({
      channel: z.string(),
      state: z.enum(['pending', 'delivered', 'dead', 'superseded']),
      attempts: z.number().int().min(0),
      nextAttemptAt: z.number(),
      lastError: z.string().optional(),
      detail: z.string().optional(),
      finishedAt: z.number().optional(),
    }),
  ),
}) satisfies z.ZodType<SpoolEntry>;

export function newEntryId(receivedAt: number, dedupKey: string): string {
  // Sortable by arrival; the random part keeps ids unique when the same content arrives again later.
  return `${String(receivedAt).padStart(13, '0')}-${dedupKey.slice(0, 12)}-${randomBytes(3).toString('hex')}`;
}

export function isFinished(entry: SpoolEntry): boolean {
  return entry.deliveries.every((d) => d.state !== 'pending');
}

export function outcomeOf(entry: SpoolEntry): Outcome {
  return entry.deliveries.some((d) => d.state === 'dead') ? 'dead' : 'done';
}

export interface SpoolHooks {
  /** Once per new entry: how long it waited to be durable (the commit in flight, then its own). */
  onStored?(seconds: number): void;
}

export interface SpoolOptions extends SpoolHooks {
  /** The log's smallest segment (tests make it small to see segments replaced). */
  minSegmentBytes?: number;
}

export class Spool {
  private readonly deadSyncer: DirSyncer;

  private constructor(
    readonly dir: string,
    private readonly log: SegmentLog,
    private readonly hooks: SpoolHooks,
  ) {
    this.deadSyncer = new DirSyncer(path.join(dir, 'dead'));
  }

  /** Creates the layout if needed and reads what a previous run left. */
  static async open(
    dir: string,
    options: SpoolOptions = {},
  ): Promise<{ spool: Spool; contents: SpoolContents }> {
    for (const d of ['dead', 'corrupt']) await fs.mkdir(path.join(dir, d), { recursive: true });
    const contents: SpoolContents = { pending: [], finished: [], corrupt: [] };
    const dead = await readDeadLetters(dir, contents);
    // Oldest first, each later source's copy of an entry newer: an earlier version's files, the log.
    const live = await readEarlierLayout(dir, contents);
    const recovered = await SegmentLog.recover(path.join(dir, 'log'), parseRecord);
    if (recovered.file !== undefined && recovered.problems.length > 0) {
      const name = path.basename(recovered.file);
      await fs.copyFile(recovered.file, path.join(dir, 'corrupt', name));
      contents.corrupt.push({ file: path.join('log', name), reason: recovered.problems.join('; ') });
    }
    for (const [id, { value }] of recovered.live) live.set(id, value);
    const kept = new Map<string, string>();
    for (const entry of live.values()) {
      if (dead.has(entry.id)) continue;
      if (isFinished(entry) && outcomeOf(entry) === 'dead') {
        // An earlier version's crash between the final state and its move to dead/.
        await writeFileAtomic(path.join(dir, 'dead', `${entry.id}.json`), JSON.stringify(entry));
        await syncDirectory(path.join(dir, 'dead'));
        contents.finished.push(entry);
        continue;
      }
      (isFinished(entry) ? contents.finished : contents.pending).push(entry);
      kept.set(entry.id, recovered.live.get(entry.id)?.line ?? JSON.stringify(entry));
    }
    const log = await SegmentLog.start(path.join(dir, 'log'), kept, options);
    // Everything of an earlier layout is in the log now.
    for (const d of EARLIER_DIRS) await fs.rm(path.join(dir, d), { recursive: true, force: true });
    contents.pending.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    contents.finished.sort((a, b) => a.receivedAt - b.receivedAt);
    return { spool: new Spool(dir, log, options), contents };
  }

  /** Stores a newly accepted notification; resolves once it is durable, with the others of its group. */
  async add(entry: SpoolEntry): Promise<void> {
    if (isFinished(entry) && outcomeOf(entry) === 'dead') {
      await this.deadLetter(entry);
      return;
    }
    const started = performance.now();
    await this.log.put(entry.id, JSON.stringify(entry));
    this.hooks.onStored?.((performance.now() - started) / 1000);
  }

  /** Records delivery progress of a pending entry. */
  async save(entry: SpoolEntry): Promise<void> {
    await this.log.put(entry.id, JSON.stringify(entry));
  }

  /** Records the final state: kept in the log until pruned, or moved to dead/. */
  async finish(entry: SpoolEntry): Promise<Outcome> {
    const outcome = outcomeOf(entry);
    if (outcome === 'dead') await this.deadLetter(entry);
    else await this.log.put(entry.id, JSON.stringify(entry));
    return outcome;
  }

  /** Forgets finished entries (dead/ stays for a person to see). */
  async prune(ids: string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.log.forget(id)));
  }

  close(): Promise<void> {
    return this.log.close();
  }

  /** dead/<id>.json, durably, then out of the log: a crash in between finds it in both, and dead/ wins. */
  private async deadLetter(entry: SpoolEntry): Promise<void> {
    await writeFileAtomic(path.join(this.dir, 'dead', `${entry.id}.json`), JSON.stringify(entry));
    await this.deadSyncer.sync();
    await this.log.forget(entry.id);
  }
}

/** Directories of the spool layout before the log. */
const EARLIER_DIRS = ['pending', 'done'] as const;

/** A log record: an entry whose id could safely name a file (dead/<id>.json), or why it is not one. */
function parseRecord(json: unknown): { key: string; value: SpoolEntry } | string {
  return keyed(checkEntry(json));
}

/** Paths are made from an entry's id: content can never point a write elsewhere. */
function keyed(entry: SpoolEntry | string): { key: string; value: SpoolEntry } | string {
  if (typeof entry === 'string') return entry;
  if (!ENTRY_ID.test(entry.id))
    return `the entry's id ${JSON.stringify(entry.id).slice(0, 100)} is not an entry id`;
  return { key: entry.id, value: entry };
}

/** The entries of dead/ into `contents.finished` (unreadable ones to corrupt/); their ids. */
async function readDeadLetters(dir: string, contents: SpoolContents): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const file of (await fs.readdir(path.join(dir, 'dead'))).sort()) {
    const full = path.join(dir, 'dead', file);
    if (file.endsWith('.tmp')) {
      // A write that never reached its rename: the entry is still in the log.
      await fs.rm(full, { force: true });
      continue;
    }
    const read = await readEntry(full, file);
    if (typeof read === 'string') {
      await setAside(dir, 'dead', file, read, contents);
    } else {
      contents.finished.push(read);
      ids.add(read.id);
    }
  }
  return ids;
}

/**
 * The entries of an earlier version's spool (pending/<id>.json, its .batch files, done/<id>.json),
 * later copies of an entry over earlier ones: a batch, then the entry's own file, then done/.
 */
async function readEarlierLayout(dir: string, contents: SpoolContents): Promise<Map<string, SpoolEntry>> {
  const entries = new Map<string, SpoolEntry>();
  for (const d of ['pending', 'done'] as const) {
    let files: string[];
    try {
      files = (await fs.readdir(path.join(dir, d))).sort(
        (a, b) => Number(b.endsWith(BATCH)) - Number(a.endsWith(BATCH)),
      );
    } catch {
      continue;
    }
    for (const file of files) {
      const full = path.join(dir, d, file);
      if (file.endsWith(BATCH)) {
        const problems: string[] = [];
        const lines = (await fs.readFile(full, 'utf8')).split('\n').filter((line) => line !== '');
        for (const [n, line] of lines.entries()) {
          const record = keyed(parseEntry(line));
          if (typeof record === 'string') problems.push(`line ${n + 1}: ${record}`);
          else if (!entries.has(record.key)) entries.set(record.key, record.value);
        }
        if (problems.length > 0) await setAside(dir, d, file, problems.join('; '), contents);
      } else if (file.endsWith('.json')) {
        const read = await readEntry(full, file);
        if (typeof read === 'string') await setAside(dir, d, file, read, contents);
        else entries.set(read.id, read);
      }
    }
  }
  return entries;
}

async function setAside(
  dir: string,
  from: string,
  file: string,
  reason: string,
  contents: SpoolContents,
): Promise<void> {
  await fs.rename(path.join(dir, from, file), path.join(dir, 'corrupt', file));
  contents.corrupt.push({ file: path.join(from, file), reason });
}

const BATCH = '.batch';

/**
 * The entry in a spool file, or why it is not one. Its id, from which every later path is made,
 * must be the file's own name: content can never point a write or a delete elsewhere.
 */
async function readEntry(full: string, file: string): Promise<SpoolEntry | string> {
  const id = file.slice(0, -'.json'.length);
  if (!ENTRY_ID.test(id)) return 'the file name is not an entry id';
  let text: string;
  try {
    text = await fs.readFile(full, 'utf8');
  } catch (err) {
    return `unreadable: ${errorMessage(err)}`;
  }
  const entry = parseEntry(text);
  if (typeof entry === 'string') return entry;
  if (entry.id !== id) return `the entry's id ${JSON.stringify(entry.id)} is not its file name`;
  return entry;
}

/** One entry's JSON, or why it is not one. */
function parseEntry(text: string): SpoolEntry | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return `unreadable: ${errorMessage(err)}`;
  }
  return checkEntry(json);
}

function checkEntry(json: unknown): SpoolEntry | string {
  const parsed = entrySchema.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `not a spool entry: ${describeIssue(issue)}`;
  }
  return parsed.data;
}

/**
 * fsync of a directory, shared: requests arriving while one runs wait for the next single sync,
 * so a burst of creates costs two directory syncs, not one each.
 */
class DirSyncer {
  private readonly commits = new GroupCommit<void>(() => this.syncOnce());

  constructor(private readonly dir: string) {}

  sync(): Promise<void> {
    return this.commits.add();
  }

  private syncOnce(): Promise<void> {
    return syncDirectory(this.dir);
  }
}
