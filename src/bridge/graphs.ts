import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../common/files';

/**
 * Rendered graphs for channels that link images rather than attach them (GET /graph/<id>.png), on
 * disk beside the spool, so links in chat and mail keep answering across restarts until `ttlMs`.
 * Each alert of each notification has one id, the same on every retry and after a restart: a keyed
 * hash (HMAC-SHA256, key made once and kept in the directory) of the spool id and the alert's place,
 * so a retry replaces its graph instead of adding one, and no id can be guessed from another.
 */
export class GraphStore {
  private readonly key: Buffer;

  constructor(
    readonly dir: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    const keyFile = path.join(dir, '.key');
    try {
      this.key = fs.readFileSync(keyFile);
    } catch {
      this.key = randomBytes(32);
      fs.writeFileSync(keyFile, this.key, { mode: 0o600 });
    }
  }

  /** The id of alert `index` of spool entry `entryId`: 22 URL-safe characters. */
  idFor(entryId: string, index: number): string {
    return createHmac('sha256', this.key).update(`${entryId}\n${index}`).digest('base64url').slice(0, 22);
  }

  /**
   * Where the PNG of graph `id` is kept: the evidence worker that draws it writes it there
   * (writeGraph), and channels read it from there when they send.
   */
  fileFor(id: string): string {
    return this.pathFor(id, 'png');
  }

  /**
   * Where the data of graph `id` is kept as CSV, beside its PNG and for the same reason: the
   * evidence of deliveries in flight, and the messages that hand it to the delivery workers, hold
   * a path rather than the text.
   */
  csvFileFor(id: string): string {
    return this.pathFor(id, 'csv');
  }

  /** The PNG, or undefined when there is none or it is older than the TTL. */
  async get(id: string): Promise<Buffer | undefined> {
    try {
      const file = this.fileFor(id);
      const stat = await fs.promises.stat(file);
      if (stat.mtimeMs + this.ttlMs <= this.now()) return undefined;
      return await fs.promises.readFile(file);
    } catch {
      return undefined;
    }
  }

  /** Removes graphs' files (PNG and CSV) past the TTL; returns how many. */
  async prune(): Promise<number> {
    let removed = 0;
    for (const name of await fs.promises.readdir(this.dir)) {
      if (!name.endsWith('.png') && !name.endsWith('.csv')) continue;
      const file = path.join(this.dir, name);
      const stat = await fs.promises.stat(file).catch(() => undefined);
      if (stat === undefined || stat.mtimeMs + this.ttlMs > this.now()) continue;
      await fs.promises.rm(file, { force: true });
      removed++;
    }
    return removed;
  }

  private pathFor(id: string, extension: 'png' | 'csv'): string {
    if (!/^[A-Za-z0-9_-]{22}$/.test(id)) throw new Error(`invalid graph id ${JSON.stringify(id)}`);
    return path.join(this.dir, `${id}.${extension}`);
  }
}

/**
 * Stores a graph's PNG or CSV at its GraphStore path. Not synced to disk: a graph is drawn again by
 * a retry, and a wait on the disk per graph would hold up the fsyncs that acknowledge webhooks.
 */
export async function writeGraph(file: string, data: string | Uint8Array): Promise<void> {
  await writeFileAtomic(file, data, { durable: false });
}
