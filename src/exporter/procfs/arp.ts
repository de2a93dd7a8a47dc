/** /proc/net/arp: the number of neighbour entries per device (its last column). */
export function parseArpEntries(text: string): Map<string, number> {
  const entries = new Map<string, number>();
  for (const line of text.split('\n')) {
    const columns = line.trim().split(/\s+/);
    if (line.trim() === '' || columns[0] === 'IP') continue;
    if (columns.length < 6) throw new Error('arp: unexpected table format');
    const device = columns[columns.length - 1];
    entries.set(device, (entries.get(device) ?? 0) + 1);
  }
  return entries;
}
