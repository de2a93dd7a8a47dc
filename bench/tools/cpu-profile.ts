/**
 * Sums a V8 CPU profile (`node --cpu-prof`, e.g. the bridge's main thread under
 * `BENCH_BRIDGE_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" npx tsx bench/bridge.ts storm`; the first
 * file of each pid is its main thread): how busy the thread was in a window, and the time of each
 * function in it, inclusive (with what it called) and self.
 *
 * Run: npx tsx bench/tools/cpu-profile.ts FILE [FROM_S TO_S] [FUNCTION...]
 * The window is in seconds from the profile's start (default: all of it); the functions listed get
 * their inclusive time printed (default: the 20 largest).
 */
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

function summarise(profile: Profile, fromS: number, toS: number): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const inclusive = new Map<string, number>();
  const self = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  let at = profile.startTime;
  let busy = 0;
  let all = 0;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i];
    const second = (at - profile.startTime) / 1e6;
    if (second < fromS || second >= toS) return;
    // A sample stands for the time until the next one.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    all += ms;
    const leaf = byId.get(id)!.callFrame;
    if (leaf.functionName === '(idle)') return;
    busy += ms;
    add(self, frameName(leaf), ms);
    // Once per function per sample, however deep it recurses.
    const seen = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parentOf.get(node)) {
      const name = byId.get(node)!.callFrame.functionName || '(anonymous)';
      if (!seen.has(name)) add(inclusive, name, ms);
      seen.add(name);
    }
  });
  console.log(`busy ${busy.toFixed(0)} ms of ${all.toFixed(0)} ms (${((100 * busy) / all).toFixed(1)}%)`);
  const wanted = process.argv.slice(5);
  const rows =
    wanted.length > 0 ? wanted.map((name) => [name, inclusive.get(name) ?? 0] as const) : top(inclusive, 20);
  console.log('inclusive:');
  for (const [name, ms] of rows) console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${name}`);
  console.log('self:');
  for (const [name, ms] of top(self, 20)) console.log(`  ${ms.toFixed(0).padStart(7)} ms  ${name}`);
}

function frameName({ functionName, url, lineNumber }: ProfileNode['callFrame']): string {
  const where = url.replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${functionName || '(anonymous)'}${where ? ` ${where}:${lineNumber + 1}` : ''}`;
}

function top(map: Map<string, number>, count: number): Array<readonly [string, number]> {
  return [...map].sort((a, b) => b[1] - a[1]).slice(0, count);
}

const [file, from, to] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: npx tsx bench/tools/cpu-profile.ts FILE [FROM_S TO_S] [FUNCTION...]');
  process.exit(2);
}
summarise(
  JSON.parse(fs.readFileSync(file, 'utf8')) as Profile,
  from === undefined ? 0 : Number(from),
  to === undefined ? Infinity : Number(to),
);
