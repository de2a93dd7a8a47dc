import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { errorMessage, UserError } from './errors';

/**
 * A file the user named (data, labels, secrets), or a one-line error that names it, after the
 * configuration key that named it when there is one.
 */
export function readUserFile(file: string, key?: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : (code ?? errorMessage(err));
    throw new UserError(`${key === undefined ? '' : `${key}: `}${file}: cannot read: ${reason}`);
  }
}

/**
 * Replaces `file` atomically: a temporary file beside it, renamed over it, so that a reader or a
 * restart after a crash finds the old content or the new, never a torn mix. `durable` syncs the
 * data before the rename, so that it also survives the machine crashing (the directory's sync, which
 * makes the new name itself durable, is the caller's: syncDirectory); files that can be made again
 * skip that wait on the disk. A failed write leaves no temporary file behind (a full disk would
 * otherwise collect one per try).
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  { durable = true }: { durable?: boolean } = {},
): Promise<void> {
  // Unique per call, not per process: worker threads share the pid, and two writes of one file at
  // once must not write into, or rename away, each other's temporary file.
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await fs.promises.open(temporary, 'w');
    try {
      await handle.writeFile(data);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temporary, file);
  } catch (err) {
    await fs.promises.rm(temporary, { force: true });
    throw err;
  }
}

/** fsync of a directory: the names created, renamed or removed in it survive the machine crashing. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
