export interface Mount {
  readonly device: string;
  readonly mountPoint: string;
  readonly fsType: string;
  readonly options: string;
}

/** Parses /proc/<pid>/mounts (fstab(5) format, with `\040`-style octal escapes). */
export function parseMounts(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const parts = line.split(' ');
    if (parts.length < 4) continue;
    mounts.push({
      device: unescapeOctal(parts[0]),
      mountPoint: unescapeOctal(parts[1]),
      fsType: parts[2],
      options: parts[3],
    });
  }
  return mounts;
}

function unescapeOctal(field: string): string {
  if (!field.includes('\\')) return field;
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
