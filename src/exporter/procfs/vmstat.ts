/** /proc/vmstat: `name value` per line, in the file's order. */
export function parseVmstat(text: string): Array<[string, number]> {
  const fields: Array<[string, number]> = [];
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name && value !== undefined) fields.push([name, Number(value)]);
  }
  return fields;
}
