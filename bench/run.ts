/**
 * `npm run bench`: runs every benchmark in turn, each in its own process so that one's heap and
 * JIT state do not colour the next one's figures.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// Every bench/*.ts but this one; code they share lives in bench/lib/.
const BENCHMARKS = fs
  .readdirSync(__dirname)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
  .map((file) => file.replace(/\.ts$/, ''))
  .sort();

const only = process.argv.slice(2);
let failed = 0;
for (const name of BENCHMARKS) {
  if (only.length > 0 && !only.includes(name)) continue;
  const file = path.join(__dirname, `${name}.ts`);
  process.stdout.write(`\n== ${name} ==\n`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
