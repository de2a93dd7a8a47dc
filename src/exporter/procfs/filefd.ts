/** /proc/sys/fs/file-nr: allocated, free (always 0 since 2.6) and maximum file handles. */
export function parseFileNr(text: string): { allocated: number; maximum: number } {
  const parts = text.trim().split(/\s+/);
  if (parts.length < 3) throw new Error(`file-nr: expected 3 values, got ${parts.length}`);
  return { allocated: Number(parts[0]), maximum: Number(parts[2]) };
}
