import { setV8Flags } from '../common/v8-flags';

/**
 * V8 settings for `vigil exporter`, set from inside the process so no one has to pass NODE_OPTIONS
 * (measured with bench/exporter.ts, README "Exporter benchmark"):
 * - young-generation growth factor 1: a scrape makes short-lived garbage only, and V8 would
 *   otherwise double the young generation under that load up to 16 MiB semi-spaces (about 25 MiB
 *   resident for nothing); it stays at its initial 1 MiB semi-spaces.
 * - the optimising compiler (TurboFan) only for functions named `format*` (the hot ones are the
 *   exposition's, which write every sample's line); everything else stays on the baseline
 *   compiler. TurboFan for all hot code cut median latency without gzip by a tenth on a quiet
 *   machine but cost 9 MiB after 1,000 scrapes (its code, its compilation's malloc arenas), which
 *   took the default collectors to 49-51 MiB; for the formatting alone it costs under 1 MiB and
 *   took the latency without gzip from 1.09x to 1.04x of node_exporter's (medians of six runs).
 * - old generation grown by 20% over what a full GC left: a scrape's data outlives two young
 *   collections (the collectors await I/O), so part of it is promoted, and by V8's default
 *   heuristics the old generation of the default collectors grew to 42 to 48 MiB after 1,000
 *   gzipped scrapes, a third of it live, before a full GC; with this it stays near 20 MiB (102 to
 *   75 MiB resident), for no more CPU.
 * Set before any other module loads: loading them would already grow the young generation, and
 * V8 does not shrink it back.
 */
export const EXPORTER_V8_FLAGS = [
  '--semi-space-growth-factor=1',
  '--turbo-filter=format*',
  '--heap-growing-percent=20',
];

/**
 * V8 settings for `vigil bridge` (measured with `npx tsx bench/bridge.ts storm`, README "Bridge
 * benchmark"): young-generation growth factor 1, so its semi-spaces stay at 1 MiB. Under an alert
 * storm the notifications waiting for delivery survive each young collection, and with V8's
 * growth up to 16 MiB semi-spaces the event loop stopped for 9 to 33 ms every 1.6 to 1.8 s to
 * copy them, holding every webhook that arrived meanwhile; at 1 MiB it stops ten times as often,
 * at most 5 to 8.5 ms. The flag is process-wide, so the worker threads started later get it too:
 * their peak memory in a storm fell from 384-398 to 256-350 MiB with as many mails per second.
 * Set from inside, and again in each worker thread as it starts (see common/v8-flags.ts): on the
 * command line V8 overrides it.
 */
export const BRIDGE_V8_FLAGS = ['--semi-space-growth-factor=1'];

const FLAGS_OF_COMMAND: ReadonlyMap<string, readonly string[]> = new Map([
  ['exporter', EXPORTER_V8_FLAGS],
  ['bridge', BRIDGE_V8_FLAGS],
]);

/** Applies the flags of the command about to run (the exporter and the bridge have some). */
export function applyV8Flags(argv: readonly string[]): void {
  setV8Flags(FLAGS_OF_COMMAND.get(argv[2]) ?? []);
}

applyV8Flags(process.argv);
