import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProcFileReader } from '../common/proc-files';
import { adjtimex, pageSize, type ClockState } from './libc';
import { parseTzif, zoneNameAt, type ZoneName } from './tzif';

/** Where the host's filesystems are: `/proc`, `/sys`, `/` normally; elsewhere in a container. */
export interface HostPaths {
  readonly procfs: string;
  readonly sysfs: string;
  readonly rootfs: string;
}

export interface FsStats {
  readonly blockSize: number;
  readonly blocks: number;
  readonly blocksFree: number;
  readonly blocksAvailable: number;
  readonly files: number;
  readonly filesFree: number;
}

export interface Uname {
  readonly sysname: string;
  readonly nodename: string;
  readonly release: string;
  readonly version: string;
  readonly machine: string;
}

/**
 * Everything the collectors read from the host. Tests and the golden file replace the parts that
 * change from run to run (clock, statfs, uname) to make the output deterministic.
 */
export interface Host {
  readonly paths: HostPaths;
  /** Reads a /proc or /sys file. Synchronous on purpose: these are in-memory files read in
   * microseconds, and a thread-pool round trip per file would cost more than the read. */
  readText(file: string): string;
  /**
   * Reads a /sys file through a descriptor kept open between scrapes (see ProcFileReader): for a
   * path that names the same device for as long as the caller does not `forget` it.
   */
  readKept(file: string): string;
  /** Closes the descriptors readKept keeps for files under `dir`. */
  forget(dir: string): void;
  /** Names of the subdirectories (and symlinks, as in /sys/class/net) of a directory. */
  listDirs(dir: string): string[];
  /** Whether a path exists; unlike a failed read, this makes no error object when it does not. */
  exists(file: string): boolean;
  /** statfs(2); may hang on a dead network mount, so it is asynchronous. */
  statfs(mountPoint: string): Promise<FsStats>;
  /** Milliseconds since the epoch. */
  now(): number;
  timeZone(): { name: string; offsetSeconds: number };
  uname(): Uname;
  /** adjtimex(2) read-only: the kernel clock's synchronisation state (Linux). */
  clock(): Promise<ClockState>;
  /** The kernel's page size in bytes (Linux). */
  pageSize(): Promise<number>;
}

export function procPath(host: Host, ...parts: string[]): string {
  return path.join(host.paths.procfs, ...parts);
}

export function sysPath(host: Host, ...parts: string[]): string {
  return path.join(host.paths.sysfs, ...parts);
}

/** A /proc or /sys file holding one number (`nf_conntrack_max`, `entropy_avail`). */
export function readNumber(host: Host, file: string): number {
  const text = host.readText(file).trim();
  const value = Number(text);
  if (text === '' || Number.isNaN(value))
    throw new Error(`${file}: expected a number, got ${JSON.stringify(text)}`);
  return value;
}

/** A file that may be absent (`/proc/net/snmp6` where IPv6 is off): undefined then. */
export function readIfExists(host: Host, file: string): string | undefined {
  try {
    return host.readText(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function rootfsPath(host: Host, ...parts: string[]): string {
  return path.join(host.paths.rootfs, ...parts);
}

export const DEFAULT_PATHS: HostPaths = { procfs: '/proc', sysfs: '/sys', rootfs: '/' };

/** The real machine. */
export function realHost(paths: HostPaths = DEFAULT_PATHS): Host {
  const files = new ProcFileReader(paths.procfs);
  return {
    paths,
    readText: (file) => files.read(file),
    readKept: (file) => files.read(file, true),
    forget: (dir) => files.forget(dir),
    listDirs: (dir) =>
      fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() || entry.isSymbolicLink())
        .map((entry) => entry.name),
    exists: (file) => fs.existsSync(file),
    statfs: async (mountPoint) => {
      const stats = await fs.promises.statfs(mountPoint);
      return {
        blockSize: stats.bsize,
        blocks: stats.blocks,
        blocksFree: stats.bfree,
        blocksAvailable: stats.bavail,
        files: stats.files,
        filesFree: stats.ffree,
      };
    },
    now: () => Date.now(),
    timeZone: () => {
      const offsetSeconds = -new Date().getTimezoneOffset() * 60;
      return { name: zoneName(offsetSeconds), offsetSeconds };
    },
    uname: () => ({
      sysname: os.type(),
      nodename: os.hostname(),
      release: os.release(),
      version: os.version(),
      machine: os.machine(),
    }),
    clock: adjtimex,
    pageSize,
  };
}

// Where Go's time package (and so node_exporter) looks for a zone named by TZ.
const ZONEINFO_DIRS = [
  '/usr/share/zoneinfo',
  '/usr/share/lib/zoneinfo',
  '/usr/lib/locale/TZ',
  '/etc/zoneinfo',
];

let localZoneNames: ZoneName[] | undefined;

/**
 * The local zone's abbreviations, read once from its TZif file as Go reads time.Local: TZ names
 * the zone (empty: UTC), else /etc/localtime. Intl would name it too, but loading its time zone
 * data costs about 7 MiB of resident memory and 0.2 s of CPU, and its en-US names are
 * "GMT+1" where Go says "CET".
 */
function readLocalZoneNames(): ZoneName[] {
  const tz = process.env.TZ;
  if (tz === '') return [];
  const file = tz === undefined ? '/etc/localtime' : tz.replace(/^:/, '');
  for (const candidate of file.startsWith('/') ? [file] : ZONEINFO_DIRS.map((dir) => path.join(dir, file))) {
    try {
      const names = parseTzif(fs.readFileSync(candidate));
      if (names) return names;
    } catch {
      // Not there: the next place, then UTC.
    }
  }
  return [];
}

// Formatting a zone name through Intl costs half a millisecond; it changes only with the offset (DST).
let cachedZone: { offsetSeconds: number; name: string } | undefined;

function zoneName(offsetSeconds: number): string {
  localZoneNames ??= readLocalZoneNames();
  const named = zoneNameAt(localZoneNames, offsetSeconds) ?? (offsetSeconds === 0 ? 'UTC' : undefined);
  if (named !== undefined) return named;
  // A zone the file does not describe (TZ set to a POSIX rule): Intl's name.
  if (cachedZone?.offsetSeconds !== offsetSeconds) {
    const name =
      new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
        .formatToParts(new Date())
        .find((part) => part.type === 'timeZoneName')?.value ?? 'UTC';
    cachedZone = { offsetSeconds, name };
  }
  return cachedZone.name;
}
