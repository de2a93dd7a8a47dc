import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../common/errors';
import { GroupCommit } from '../common/group-commit';
import { describeIssue } from '../common/issues';
import { labelSet, type Notification } from './payload';

/**
 * The durable spool: one JSON file per accepted notification with the state of each delivery.
 * New entries are group-committed: the ones arriving while the previous commit runs are written
 * together in place, one file and one fsync for all of them (removed again if that fails, so nothing
 * unacknowledged is delivered), and each is acknowledged once its group is on disk; an entry alone
 * is its own file. Later writes of an entry go to its own file: a temporary file that is fsync'd
 * and renamed into place. Directories are fsync'd after each create, so an acknowledged
 * notification survives kill -9 and power loss.
 * Layout:
 *   pending/<id>.json     deliveries still to do
 *   pending/<id>.batch    new entries committed together (one JSON line each; <id> is the first's),
 *                         removed once each of them has a file of its own
 *   done/<id>.json        all delivered or superseded (kept for de-duplication and the status page, then pruned)
 *   dead/<id>.json        at least one delivery given up (kept until a person removes it)
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

/** A spool file is read back as untrusted input: anything else than what add() wrote goes to corrupt/. */
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

const DIRS = ['pending', 'done', 'dead', 'corrupt'] as const;
type Dir = (typeof DIRS)[number];

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
  /** After each group commit of new entries: how long it took, and how many it stored. */
  onCommit?(seconds: number, entries: number): void;
}

export class Spool {
  private readonly syncers = new Map<Dir, DirSyncer>();
  /** New entries to pending/, committed in groups. */
  private readonly intake = new GroupCommit<SpoolEntry>((entries) => this.addGroup(entries));
  /** The batch on disk of each id in one without a file of its own yet (unsettled). */
  private readonly unsettledIn = new Map<string, Batch>();
  /** Settled ids whose batch is still on disk: their final state must outlive it (see prune()). */
  private readonly heldBy = new Map<string, Batch>();

  private constructor(
    readonly dir: string,
    private readonly hooks: SpoolHooks,
  ) {
    for (const d of DIRS) this.syncers.set(d, new DirSyncer(path.join(dir, d)));
  }

  /** Creates the layout if needed and reads what a previous run left. */
  static async open(dir: string, hooks: SpoolHooks = {}): Promise<{ spool: Spool; contents: SpoolContents }> {
    for (const d of DIRS) await fs.mkdir(path.join(dir, d), { recursive: true });
    const spool = new Spool(dir, hooks);
    const contents: SpoolContents = { pending: [], finished: [], corrupt: [] };
    const finishedFiles = new Set<string>();
    /** Ids read from a file of their own: their copy in a batch is older. */
    const ownFile = new Set<string>();
    const batchFiles: string[] = [];
    // pending/ last: an entry it finishes moves into done/, which must not be read twice.
    for (const d of ['done', 'dead', 'pending'] as const) {
      for (const file of (await fs.readdir(path.join(dir, d))).sort()) {
        const full = path.join(dir, d, file);
        if (file.endsWith('.tmp') || (d === 'pending' && finishedFiles.has(file))) {
          // A write that never reached its rename: the notification was never acknowledged. Or a
          // crash between writing the final state and removing pending/<id>: the final state counts.
          await fs.rm(full, { force: true });
          continue;
        }
        if (d === 'pending' && file.endsWith(BATCH)) batchFiles.push(file);
        if (!file.endsWith('.json')) continue;
        const read = await readEntry(full, file);
        if (typeof read === 'string') {
          await fs.rename(full, path.join(dir, 'corrupt', file));
          contents.corrupt.push({ file: path.join(d, file), reason: read });
          continue;
        }
        const entry = read;
        ownFile.add(entry.id);
        if (d === 'pending' && isFinished(entry)) {
          // Crashed between the last state write and the move: finish the move now.
          await spool.finish(entry);
          contents.finished.push(entry);
        } else if (d === 'pending') {
          contents.pending.push(entry);
        } else {
          contents.finished.push(entry);
          finishedFiles.add(file);
        }
      }
    }
    for (const file of batchFiles) {
      contents.pending.push(...(await spool.unbatch(file, ownFile, contents)));
    }
    contents.pending.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    contents.finished.sort((a, b) => a.receivedAt - b.receivedAt);
    return { spool, contents };
  }

  /**
   * Stores a newly accepted notification (in done/ if it has nothing to deliver); resolves once it is
   * on disk, with the others of its group. Written in place rather than renamed: a torn file can only
   * be one that was never acknowledged (open() sets it aside).
   */
  async add(entry: SpoolEntry): Promise<void> {
    if (isFinished(entry)) {
      const dir = outcomeOf(entry);
      await this.create(dir, this.file(dir, entry.id), JSON.stringify(entry));
    } else {
      await this.intake.add(entry);
    }
  }

  /** Records delivery progress of a pending entry. */
  async save(entry: SpoolEntry): Promise<void> {
    await this.write('pending', entry);
    await this.settle(entry.id);
  }

  /**
   * Writes the final state and moves the entry out of pending/. The removal is not synced here:
   * should a crash undo it, open() finds the final state beside it; prune() syncs it before the
   * final state may go.
   */
  async finish(entry: SpoolEntry): Promise<Outcome> {
    const outcome = outcomeOf(entry);
    await this.write(outcome, entry);
    if (this.unsettledIn.has(entry.id)) await this.settle(entry.id);
    else await fs.rm(this.file('pending', entry.id), { force: true });
    return outcome;
  }

  /**
   * Deletes finished entries from done/ (dead/ stays for a person to see). One whose batch is still
   * on disk (others of it wait for their first attempt) goes with the batch: a crash must not bring
   * back an entry whose final state is gone.
   */
  async prune(ids: string[]): Promise<void> {
    const now = ids.filter((id) => {
      this.heldBy.get(id)?.pruneAfter.push(id);
      return !this.heldBy.has(id);
    });
    if (now.length === 0) return;
    // Their removals from pending/ first, for the same reason.
    await this.syncers.get('pending')!.sync();
    for (const id of now) await fs.rm(this.file('done', id), { force: true });
  }

  private file(dir: Dir, id: string): string {
    return path.join(this.dir, dir, `${id}.json`);
  }

  /** One commit of new pending entries: alone, its own file; together, one batch file. */
  private async addGroup(entries: SpoolEntry[]): Promise<void> {
    const started = performance.now();
    const alone = entries.length === 1;
    const file = alone
      ? this.file('pending', entries[0].id)
      : path.join(this.dir, 'pending', `${entries[0].id}${BATCH}`);
    const data = alone ? JSON.stringify(entries[0]) : entries.map((e) => `${JSON.stringify(e)}\n`).join('');
    await this.create('pending', file, data);
    this.hooks.onCommit?.((performance.now() - started) / 1000, entries.length);
    if (alone) return;
    const batch: Batch = { file, unsettled: new Set(entries.map((e) => e.id)), settled: [], pruneAfter: [] };
    for (const id of batch.unsettled) this.unsettledIn.set(id, batch);
  }

  /**
   * Creates `file` with `data`, durably; removed again if any step fails. The directory's sync runs
   * beside the file's own: the name is in the directory once open() returns.
   */
  private async create(dir: Dir, file: string, data: string): Promise<void> {
    const handle = await fs.open(file, 'wx');
    try {
      const dirSynced = this.syncers.get(dir)!.sync();
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
        // Awaited even when the write failed, so that its rejection is never left unhandled.
        await dirSynced.catch(() => undefined);
      }
      await dirSynced;
    } catch (err) {
      // The sender is told to retry and will resend under a new id: this copy must not be delivered.
      await fs.rm(file, { force: true });
      throw err;
    }
  }

  /** The entry has a file of its own now: its batch goes once none of the batch's entries needs it. */
  private async settle(id: string): Promise<void> {
    const batch = this.unsettledIn.get(id);
    if (batch === undefined) return;
    if (batch.unsettled.size > 1) {
      batch.unsettled.delete(id);
      this.unsettledIn.delete(id);
      batch.settled.push(id);
      this.heldBy.set(id, batch);
      return;
    }
    // Removed before the bookkeeping: if that fails, the caller's write is retried and settles again.
    await fs.rm(batch.file, { force: true });
    this.unsettledIn.delete(id);
    for (const held of batch.settled) this.heldBy.delete(held);
    await this.prune(batch.pruneAfter);
  }

  /**
   * A batch left by a previous run: each entry without a file of its own gets one, then the batch
   * goes (to corrupt/ if a line of it was unreadable: a torn batch was never acknowledged).
   */
  private async unbatch(file: string, ownFile: Set<string>, contents: SpoolContents): Promise<SpoolEntry[]> {
    const full = path.join(this.dir, 'pending', file);
    const restored: SpoolEntry[] = [];
    const problems: string[] = [];
    const lines = (await fs.readFile(full, 'utf8')).split('\n').filter((line) => line !== '');
    for (const [n, line] of lines.entries()) {
      const read = parseEntry(line);
      if (typeof read === 'string') {
        problems.push(`line ${n + 1}: ${read}`);
      } else if (!ENTRY_ID.test(read.id)) {
        // Paths are made from it: content can never point a write elsewhere.
        problems.push(
          `line ${n + 1}: the entry's id ${JSON.stringify(read.id).slice(0, 100)} is not an entry id`,
        );
      } else if (!ownFile.has(read.id)) {
        await this.write('pending', read);
        ownFile.add(read.id);
        restored.push(read);
      }
    }
    if (problems.length > 0) {
      await fs.rename(full, path.join(this.dir, 'corrupt', file));
      contents.corrupt.push({ file: path.join('pending', file), reason: problems.join('; ') });
    } else {
      await fs.rm(full, { force: true });
    }
    return restored;
  }

  private async write(dir: Dir, entry: SpoolEntry): Promise<void> {
    const target = this.file(dir, entry.id);
    const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const handle = await fs.open(tmp, 'w');
      try {
        await handle.writeFile(JSON.stringify(entry));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(tmp, target);
    } catch (err) {
      // A full disk must not leave a 0-byte temporary file behind each failed try.
      await fs.rm(tmp, { force: true });
      throw err;
    }
    await this.syncers.get(dir)!.sync();
  }
}

const BATCH = '.batch';

interface Batch {
  file: string;
  unsettled: Set<string>;
  settled: string[];
  /** Settled ids whose done/ file prune() was asked to delete while the batch was on disk. */
  pruneAfter: string[];
}

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

  private async syncOnce(): Promise<void> {
    const handle = await fs.open(this.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
