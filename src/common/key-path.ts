/** `bridge.channels[2].smtp.port`: where in a document (config, payload) a problem is. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : `${out === '' ? '' : '.'}${String(part)}`;
  }
  return out || '(top level)';
}
