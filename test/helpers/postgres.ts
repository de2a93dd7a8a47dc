import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from './net';

export interface StartedPostgres {
  port: number;
  /** A superuser that connects without a password (trust auth on 127.0.0.1). */
  user: string;
  /** Runs psql against `database` with `sql` on stdin; fails on the first error. */
  psql(database: string, sql: string | Buffer): string;
  stop(): void;
}

/** Debian keeps the server binaries under /usr/lib/postgresql/<major>/bin, off PATH. */
export function postgresBin(program: string): string {
  const root = '/usr/lib/postgresql';
  const majors = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const major of majors) {
    const candidate = path.join(root, major, 'bin', program);
    if (fs.existsSync(candidate)) return candidate;
  }
  return program;
}

/**
 * A throwaway PostgreSQL cluster in `dir` on 127.0.0.1 and a free port. The server refuses to run as
 * root, so when the tests run as root (CI) it runs as the `postgres` user Debian's package creates.
 * Durability is switched off: the cluster lives for one test file.
 */
export async function startPostgres(dir: string, user = 'vigil'): Promise<StartedPostgres> {
  const dataDir = path.join(dir, 'pgdata');
  fs.mkdirSync(dataDir, { mode: 0o700 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    fs.chmodSync(dir, 0o755);
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    fs.chownSync(dataDir, uid, gid);
  }
  const run = (program: string, args: string[]): void => {
    const [command, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', postgresBin(program), ...args]]
      : [postgresBin(program), args];
    execFileSync(command, argv, { stdio: 'pipe', cwd: dataDir });
  };
  run('initdb', ['-D', dataDir, '-U', user, '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dataDir}`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c wal_level=minimal',
    '-c max_wal_senders=0',
    '-c max_wal_size=1GB',
  ].join(' ');
  run('pg_ctl', [
    '-D',
    dataDir,
    '-o',
    options,
    '-l',
    path.join(dataDir, 'server.log'),
    '-w',
    '-t',
    '60',
    'start',
  ]);
  return {
    port,
    user,
    psql(database, sql) {
      return execFileSync(
        'psql',
        ['-q', '-X', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', user, database],
        { input: sql, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] },
      );
    },
    stop() {
      try {
        run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already gone: nothing to stop.
      }
    },
  };
}
