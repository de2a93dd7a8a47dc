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
 * Replaces `file` atomically: a temporary file beside it, synced before the rename, so that after
 * a crash the file holds the old content or the new, never a torn mix.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await fs.promises.open(temporary, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(temporary, file);
}
