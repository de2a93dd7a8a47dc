import v8 from 'node:v8';

/**
 * V8 settings for `vigil exporter`, set from inside the process so no one has to pass NODE_OPTIONS.
 * A scrape makes short-lived garbage only; by default V8 doubles the young generation under that
 * load up to 16 MiB semi-spaces (about 30 MiB resident for nothing). Growth factor 1 keeps it at
 * its initial 1 MiB semi-spaces. Set before any other module loads: loading them would already
 * grow it, and V8 does not shrink it back.
 */
export const EXPORTER_V8_FLAGS = ['--semi-space-growth-factor=1'];

/** Applies the flags of the command about to run (only the exporter has any). */
export function applyV8Flags(argv: readonly string[]): void {
  if (argv[2] === 'exporter') for (const flag of EXPORTER_V8_FLAGS) v8.setFlagsFromString(flag);
}

applyV8Flags(process.argv);
