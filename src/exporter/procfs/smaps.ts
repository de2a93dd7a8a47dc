/** A mapping of a file into the process' memory, as /proc/self/smaps lists it. */
export interface FileMapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly path: string;
  /** Its pages resident in this process, in bytes. */
  readonly residentBytes: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-][ps]) \S+ \S+ \S+\s*(.*)$/;

/**
 * The mappings of /proc/self/smaps whose resident pages are all clean copies of a file: private,
 * read-only, backed by a file, with no page of their own (`Anonymous: 0 kB`, so nothing was ever
 * written to them, unlike the part the dynamic linker relocates). Dropping such a page loses
 * nothing: the next access reads it back from the page cache, as after the kernel reclaimed it.
 */
export function cleanFileMappings(smaps: string): FileMapping[] {
  const mappings: FileMapping[] = [];
  let current: { start: bigint; end: bigint; path: string; eligible: boolean; rss: number } | undefined;
  const finish = (anonymousKiB: number) => {
    if (current?.eligible && anonymousKiB === 0) {
      mappings.push({
        start: current.start,
        end: current.end,
        path: current.path,
        residentBytes: current.rss,
      });
    }
    current = undefined;
  };
  for (const line of smaps.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      const [, start, end, perms, path] = header;
      current = {
        start: BigInt(`0x${start}`),
        end: BigInt(`0x${end}`),
        path,
        // Not [heap], [stack], [vdso], anonymous memory nor a memfd, and never writable.
        eligible: perms[1] === '-' && perms[3] === 'p' && path.startsWith('/') && !path.startsWith('/memfd:'),
        rss: 0,
      };
      continue;
    }
    if (!current) continue;
    const field = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (field?.[1] === 'Rss') current.rss = Number(field[2]) * 1024;
    else if (field?.[1] === 'Anonymous') finish(Number(field[2]));
  }
  return mappings;
}
