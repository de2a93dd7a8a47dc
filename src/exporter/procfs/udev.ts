/** The `E:KEY=value` properties of a udev database file (/run/udev/data/b<major>:<minor>). */
export function parseUdevProperties(text: string): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('E:')) continue;
    const eq = line.indexOf('=');
    if (eq > 2) properties[line.slice(2, eq)] = line.slice(eq + 1);
  }
  return properties;
}
