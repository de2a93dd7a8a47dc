export interface SockstatProtocol {
  /** `TCP`, `UDP6`, `FRAG`, ... as the file names it. */
  readonly protocol: string;
  /** `inuse`, `orphan`, `tw`, `alloc`, `mem`, `memory`: whichever the line has. */
  readonly fields: ReadonlyArray<readonly [string, number]>;
}

export interface Sockstat {
  /** `sockets: used N` (IPv4 file only). */
  readonly used?: number;
  readonly protocols: SockstatProtocol[];
}

/** /proc/net/sockstat and sockstat6: `TCP: inuse 17 orphan 0 tw 0 alloc 17 mem 266`. */
export function parseSockstat(text: string): Sockstat {
  let used: number | undefined;
  const protocols: SockstatProtocol[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\w+):\s+(.*)$/.exec(line.trim());
    if (!match) continue;
    const words = match[2].split(/\s+/);
    const fields: Array<[string, number]> = [];
    for (let i = 0; i + 1 < words.length; i += 2) fields.push([words[i], Number(words[i + 1])]);
    if (match[1] === 'sockets') used = fields.find(([name]) => name === 'used')?.[1];
    else protocols.push({ protocol: match[1], fields });
  }
  return { used, protocols };
}
