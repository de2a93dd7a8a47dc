/** Parses os-release(5): `KEY=value` lines with optional shell quoting. */
export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!match) continue;
    let value = match[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\([$"\\`])/g, '$1');
    }
    fields[match[1]] = value;
  }
  return fields;
}

/** node_os_version's value: the major.minor part of VERSION_ID, as a number (0 when absent). */
export function osVersionNumber(versionId: string | undefined): number {
  const match = /^(\d+)(?:\.(\d+))?/.exec(versionId ?? '');
  if (!match) return 0;
  return Number(match[2] === undefined ? match[1] : `${match[1]}.${match[2]}`);
}
