import v8 from 'node:v8';

/**
 * V8 flags set at run time, remembered so that each worker thread started later can set them
 * again. V8 configures every new isolate's heap with some flags forced back (the young
 * generation's growth factor to at least 2), and they are process-wide: starting one worker
 * thread undid `--semi-space-growth-factor=1` for the whole process, the event loop's heap
 * included (its young generation then grew to 16 MiB semi-spaces). The same clamp is why the
 * flag has no effect when given on the command line.
 */
const applied: string[] = [];

export function setV8Flags(flags: readonly string[]): void {
  for (const flag of flags) {
    v8.setFlagsFromString(flag);
    applied.push(flag);
  }
}

/** The flags setV8Flags() has set, in order: what a new worker thread sets again first. */
export function v8FlagsSet(): readonly string[] {
  return applied;
}
