import fs from 'node:fs';
import { UserError } from './errors';

/** A file the user named (data, labels, secrets), or a one-line error that names it. */
export function readUserFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message);
    throw new UserError(`${file}: cannot read: ${reason}`);
  }
}
