import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../common/files';

/** Where reading of one file stopped: the start of its first line not yet read in full. */
export interface FilePosition {
  dev: number;
  ino: number;
  offset: number;
  /** The first bytes of the file (base64), to notice a file truncated and written again. */
  head?: string;
  /** The bytes just before `offset` (base64), for the same. */
  tail: string;
  /** Inside a line too long to keep: reading resumes by skipping to its end. */
  skipping: boolean;
}

interface StateFile {
  version: 1;
  files: Record<string, FilePosition>;
}

/**
 * The positions saved by the last run (`exporter.collectors.logs.state_file`). A missing file is
 * a first start; an unreadable one is reported by throwing, and the caller starts afresh.
 */
export function readPositions(file: string): Map<string, FilePosition> {
  let state: StateFile;
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8')) as StateFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  if (state?.version !== 1 || typeof state.files !== 'object' || state.files === null)
    throw new Error('not a vigil log position file');
  return new Map(Object.entries(state.files));
}

export async function writePositions(file: string, positions: Map<string, FilePosition>): Promise<void> {
  const state: StateFile = { version: 1, files: Object.fromEntries(positions) };
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(state));
}
