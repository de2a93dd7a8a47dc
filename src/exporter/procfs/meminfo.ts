export interface MeminfoField {
  /** node_exporter's metric suffix: `Active(anon)` becomes `Active_anon`, kB fields get `_bytes`. */
  readonly name: string;
  readonly value: number;
}

/** Parses /proc/meminfo; `kB` values are converted to bytes. */
export function parseMeminfo(text: string): MeminfoField[] {
  const fields: MeminfoField[] = [];
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const parts = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    const value = Number(parts[0]);
    if (parts[0] === '' || Number.isNaN(value)) continue;
    const key = line.slice(0, colon).replace(/\((.*)\)/, '_$1');
    if (parts[1] === 'kB') fields.push({ name: `${key}_bytes`, value: value * 1024 });
    else fields.push({ name: key, value });
  }
  return fields;
}
