export interface MeminfoField {
  /** node_exporter's metric suffix: `Active(anon)` becomes `Active_anon`, kB fields get `_bytes`. */
  readonly name: string;
  readonly value: number;
}

/** Field names by key, for kB fields and for unitless ones: a few dozen keys, each named once. */
const byteNames = new Map<string, string>();
const plainNames = new Map<string, string>();

function fieldName(key: string, kB: boolean): string {
  const names = kB ? byteNames : plainNames;
  let name = names.get(key);
  if (name === undefined) {
    const base = key.replace(/\((.*)\)/, '_$1');
    name = kB ? `${base}_bytes` : base;
    names.set(key, name);
  }
  return name;
}

/** Parses /proc/meminfo (`Key:   value` or `Key:   value kB`); `kB` values are converted to bytes. */
export function parseMeminfo(text: string): MeminfoField[] {
  const fields: MeminfoField[] = [];
  for (let start = 0; start < text.length;) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    const colon = text.indexOf(':', start);
    if (colon >= 0 && colon < end) {
      const [number, unit] = text
        .slice(colon + 1, end)
        .trim()
        .split(/\s+/);
      const value = Number(number);
      if (number !== '' && !Number.isNaN(value)) {
        const kB = unit === 'kB';
        fields.push({ name: fieldName(text.slice(start, colon), kB), value: kB ? value * 1024 : value });
      }
    }
    start = end + 1;
  }
  return fields;
}
