import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * The layers of DESIGN.md are enforced by lint (eslint.config.mjs). This lints deliberate
 * violations, and imports that are allowed, with the project's own configuration: a layer rule that
 * stopped matching, or one that matched too much, fails here.
 */

const ROOT = path.resolve(__dirname, '..');

/** File name -> the import it makes; linted as if it were that file in src/. */
const VIOLATIONS: Record<string, string> = {
  'src/common/violation.ts': '../config/types',
  'src/config/violation.ts': '../detector/algorithms/model',
  'src/exporter/violation.ts': '../bridge/spool',
  'src/exporter/collectors/violation.ts': '../../detector/engine',
  'src/detector/algorithms/violation.ts': '../../exporter/collector',
  'src/bridge/channels/violation.ts': '../../check/evaluate',
  'src/check/violation.ts': '../commands/common',
  'src/commands/violation.ts': '../cli',
};

const ALLOWED: Record<string, string> = {
  'src/common/allowed.ts': './errors',
  'src/config/allowed.ts': '../common/duration',
  'src/exporter/collectors/allowed.ts': '../../config/exporter',
  'src/bridge/render/allowed.ts': '../channels/channel',
  'src/detector/allowed.ts': '../common/prometheus-client',
  'src/commands/allowed.ts': '../bridge/bridge',
};

/** Lints each file's text in one eslint run (a child process: the config is an ES module). */
function lint(files: Record<string, string>): Record<string, string[]> {
  const script = `
    const { ESLint } = require('eslint');
    const files = JSON.parse(process.argv[1]);
    (async () => {
      const eslint = new ESLint({ cwd: ${JSON.stringify(ROOT)} });
      const out = {};
      for (const [file, source] of Object.entries(files)) {
        const [result] = await eslint.lintText(\`import { x } from '\${source}';\\nexport const y = x;\\n\`, { filePath: file });
        out[file] = result.messages.map((m) => m.ruleId + ': ' + m.message);
      }
      process.stdout.write(JSON.stringify(out));
    })();
  `;
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script, JSON.stringify(files)], { cwd: ROOT, encoding: 'utf8' }),
  ) as Record<string, string[]>;
}

describe('layers', () => {
  const results = lint({ ...VIOLATIONS, ...ALLOWED });

  it.each(Object.entries(VIOLATIONS))('%s may not import %s', (file, source) => {
    expect(results[file]).toEqual([expect.stringMatching(/^no-restricted-imports: .*layers \(DESIGN\.md\)/)]);
    expect(results[file][0]).toContain(`'${source}'`);
  });

  it.each(Object.entries(ALLOWED))('%s may import %s', (file) => {
    expect(results[file]).toEqual([]);
  });
});
