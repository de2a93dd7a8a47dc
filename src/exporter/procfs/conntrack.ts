/**
 * /proc/net/stat/nf_conntrack: a header of column names, then one line of hexadecimal counters per
 * CPU. Returns each column summed over the CPUs, by name (`found`, `insert_failed`, ...).
 */
export function parseConntrackStat(text: string): Map<string, number> {
  const [header, ...rows] = text.split('\n').filter((line) => line.trim() !== '');
  const names = (header ?? '').trim().split(/\s+/);
  const totals = new Map<string, number>(names.map((name) => [name, 0]));
  for (const row of rows) {
    const values = row.trim().split(/\s+/);
    if (values.length !== names.length) throw new Error('nf_conntrack: row and header differ in length');
    names.forEach((name, i) => totals.set(name, totals.get(name)! + parseInt(values[i], 16)));
  }
  return totals;
}
