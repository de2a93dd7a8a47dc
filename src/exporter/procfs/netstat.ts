/** `Protocol_Field` -> value, e.g. `TcpExt_ListenDrops`, `Ip6_InOctets`. */
export type NetStatistics = Map<string, number>;

/**
 * /proc/net/netstat and /proc/net/snmp: pairs of lines, a header `Tcp: RtoAlgorithm RtoMin ...`
 * and its values `Tcp: 1 200 ...`.
 */
export function parseNetstat(text: string, into: NetStatistics = new Map()): NetStatistics {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i].trim().split(/\s+/);
    const values = lines[i + 1].trim().split(/\s+/);
    const protocol = names[0].replace(/:$/, '');
    if (names.length !== values.length || values[0] !== names[0]) {
      throw new Error(`mismatched field count for ${protocol}`);
    }
    for (let j = 1; j < names.length; j++) into.set(`${protocol}_${names[j]}`, Number(values[j]));
  }
  return into;
}

/** /proc/net/snmp6: one `Ip6InReceives 123` per line; the protocol is the name up to its `6`. */
export function parseSnmp6(text: string, into: NetStatistics = new Map()): NetStatistics {
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    const six = name?.indexOf('6') ?? -1;
    if (value === undefined || six === -1) continue;
    into.set(`${name.slice(0, six + 1)}_${name.slice(six + 1)}`, Number(value));
  }
  return into;
}
