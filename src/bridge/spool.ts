import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../common/errors';
import { describeIssue } from '../common/issues';
import { labelSet, type Notification } from './payload';

/**
 * The durable spool: one JSON file per accepted notification with the state of each delivery.
 * A new entry is written in place and fsync'd (removed again if that fails, so nothing unacknowledged
 * is delivered); later writes go to a temporary file that is fsync'd and renamed into place. The
 * directory is fsync'd after each, so an acknowledged notification survives kill -9 and power loss.
 * Layout:
 *   pending/<id>.json   deliveries still to do
 *   done/<id>.json      all delivered (kept for de-duplication and the status page, then pruned)
 *   dead/<id>.json      at least one delivery given up (kept until a person removes it)
 */

export type DeliveryStateName = 'pending' | 'delivered' | 'dead';

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
      state: z.enum(['pending', 'delivered', 'dead']),
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

export class Spool {
  private readonly syncers = new Map<Dir, DirSyncer>();

  private constructor(readonly dir: string) {
    for (const d of DIRS) this.syncers.set(d, new DirSyncer(path.join(dir, d)));
  }

  /** Creates the layout if needed and reads what a previous run left. */
  static async open(dir: string): Promise<{ spool: Spool; contents: SpoolContents }> {
    for (const d of DIRS) await fs.mkdir(path.join(dir, d), { recursive: true });
    const spool = new Spool(dir);
    const contents: SpoolContents = { pending: [], finished: [], corrupt: [] };
    const finishedFiles = new Set<string>();
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
        if (!file.endsWith('.json')) continue;
        const read = await readEntry(full, file);
        if (typeof read === 'string') {
          await fs.rename(full, path.join(dir, 'corrupt', file));
          contents.corrupt.push({ file: path.join(d, file), reason: read });
          continue;
        }
        const entry = read;
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
    contents.finished.sort((a, b) => a.receivedAt - b.receivedAt);
    return { spool, contents };
  }

  /**
   * Stores a newly accepted notification (in done/ if it has nothing to deliver); resolves once it is
   * on disk. Written in place rather than renamed: a torn file can only be one that was never
   * acknowledged (open() sets it aside), and on ext4 the file's fsync then commits its directory
   * entry too, so the directory fsync that follows is nearly free.
   */
  async add(entry: SpoolEntry): Promise<void> {
    const dir: Dir = isFinished(entry) ? outcomeOf(entry) : 'pending';
    const file = this.file(dir, entry.id);
    const handle = await fs.open(file, 'wx');
    try {
      try {
        await handle.writeFile(JSON.stringify(entry));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await this.syncers.get(dir)!.sync();
    } catch (err) {
      // The sender is told to retry and will resend under a new id: this copy must not be delivered.
      await fs.rm(file, { force: true });
      throw err;
    }
  }

  /** Records delivery progress of a pending entry. */
  async save(entry: SpoolEntry): Promise<void> {
    await this.write('pending', entry);
  }

  /** Writes the final state and moves the entry out of pending/. */
  async finish(entry: SpoolEntry): Promise<Outcome> {
    const outcome = outcomeOf(entry);
    await this.write(outcome, entry);
    await fs.rm(this.file('pending', entry.id), { force: true });
    await this.syncers.get('pending')!.sync();
    return outcome;
  }

  /** Deletes finished entries from done/ (dead/ stays for a person to see). */
  async prune(ids: string[]): Promise<void> {
    for (const id of ids) await fs.rm(this.file('done', id), { force: true });
  }

  private file(dir: Dir, id: string): string {
    return path.join(this.dir, dir, `${id}.json`);
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

/**
 * The entry in a spool file, or why it is not one. Its id, from which every later path is made,
 * must be the file's own name: content can never point a write or a delete elsewhere.
 */
async function readEntry(full: string, file: string): Promise<SpoolEntry | string> {
  const id = file.slice(0, -'.json'.length);
  if (!ENTRY_ID.test(id)) return 'the file name is not an entry id';
  let json: unknown;
  try {
    json = JSON.parse(await fs.readFile(full, 'utf8'));
  } catch (err) {
    return `unreadable: ${errorMessage(err)}`;
  }
  const parsed = entrySchema.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `not a spool entry: ${describeIssue(issue)}`;
  }
  if (parsed.data.id !== id) return `the entry's id ${JSON.stringify(parsed.data.id)} is not its file name`;
  return parsed.data;
}

/**
 * fsync of a directory, shared: requests arriving while one runs wait for the next single sync,
 * so a burst of accepts costs two directory syncs, not one each.
 */
class DirSyncer {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly dir: string) {}

  sync(): Promise<void> {
    if (this.running === undefined) {
      this.running = this.syncOnce().finally(() => (this.running = undefined));
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.sync();
      });
    return this.queued;
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
