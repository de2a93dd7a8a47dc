import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { startVigil } from '../helpers/vigil';

/* eslint-disable-next-line @typescript-eslint/no-require-imports -- the plain script the image runs */
const { healthUrl, serviceArgs } = require('../../deploy/healthcheck.js') as {
  healthUrl(args: string[], env: Record<string, string>): string;
  serviceArgs(cmdline: string): string[];
};

const REPO = path.resolve(__dirname, '..', '..');
const DEPLOY = path.join(REPO, 'deploy');
const dockerfileText = fs.readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');

function diagnostics(text: string): string[] {
  return lintDockerfile(text).map((d) => `${d.range.start.line + 1}: ${d.message}`);
}

describe('deploy/Dockerfile', () => {
  const dockerfile = DockerfileParser.parse(dockerfileText);
  const stages = dockerfile.getFROMs();
  const instructions = dockerfile.getInstructions();
  const finalStage = instructions.filter(
    (i) => i.getRange().start.line >= stages[stages.length - 1].getRange().start.line,
  );
  const argsOf = (instruction: Instruction) => instruction.getArguments().map((a) => a.getValue());
  const copyFrom = (instruction: Instruction) =>
    instruction instanceof Copy ? (instruction.getFromFlag()?.getValue() ?? null) : undefined;

  it('parses and lints clean; a misspelt instruction or flag does not', () => {
    expect(diagnostics(dockerfileText)).toEqual([]);
    expect(diagnostics(dockerfileText.replace('HEALTHCHECK', 'HEALTHCHEK'))).toEqual([
      expect.stringMatching(/Unknown instruction: HEALTHCHEK/),
    ]);
    expect(diagnostics(dockerfileText.replace('--interval=', '--intervall='))).toEqual([
      expect.stringMatching(/Unknown flag: intervall/),
    ]);
  });

  it('builds with dev dependencies and runs node:20-slim with production dependencies only', () => {
    expect(stages.map((s) => [s.getImageName(), s.getImageTag(), s.getBuildStage()])).toEqual([
      ['node', '20-slim', 'build'],
      ['node', '20-slim', null],
    ]);
    const buildRuns = instructions
      .filter((i) => i.getKeyword() === 'RUN' && !finalStage.includes(i))
      .map((i) => argsOf(i).join(' '));
    expect(buildRuns.join('\n')).toMatch(/npm ci/);
    expect(buildRuns.join('\n')).toMatch(/npm prune --omit=dev/);
    const copiedFromBuild = finalStage.filter((i) => copyFrom(i) === 'build').map((i) => argsOf(i)[0]);
    expect(copiedFromBuild).toEqual(['/src/package.json', '/src/node_modules', '/src/dist']);
  });

  it('runs as a non-root user under tini, with a health check and the graph fonts', () => {
    const last = (keyword: string) => finalStage.filter((i) => i.getKeyword() === keyword).pop()!;
    const user = argsOf(last('USER'))[0];
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(last('ENTRYPOINT').getArgumentsContent()).toMatch(
      /^\["\/usr\/bin\/tini", "--", "node", "\/app\/dist\/cli.js"\]$/,
    );
    expect(last('CMD').getArgumentsContent()).toBe('["all"]');
    expect(last('HEALTHCHECK').getArgumentsContent()).toMatch(/CMD \["node", "\/app\/healthcheck.js"\]/);
    const installs = finalStage
      .filter((i) => i.getKeyword() === 'RUN')
      .map((i) => argsOf(i).join(' '))
      .join(' ');
    expect(installs).toMatch(/apt-get install .*\btini\b/);
    expect(installs).toMatch(/\bfonts-dejavu-core\b/);
  });

  it('copies only what exists and what its .dockerignore lets into the context', () => {
    const ignore = fs
      .readFileSync(path.join(DEPLOY, 'Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.slice(1).map((line) => line.replace(/^!/, '').replace(/\/$/, ''));
    const sources = instructions.filter((i) => copyFrom(i) === null).flatMap((i) => argsOf(i).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) {
      expect(fs.existsSync(path.join(REPO, source))).toBe(true);
      expect({ source, allowed: allowed.some((a) => source === a || source.startsWith(`${a}/`)) }).toEqual({
        source,
        allowed: true,
      });
    }
  });
});

describe('deploy/healthcheck.js', () => {
  it('probes the service and --listen of the container command, or VIGIL_HEALTHCHECK_URL', () => {
    const cmdline = (...args: string[]) =>
      ['/usr/bin/tini', '--', 'node', '/app/dist/cli.js', ...args, ''].join('\0');
    expect(healthUrl(serviceArgs(cmdline('bridge', '--config=/etc/vigil/vigil.yml')), {})).toBe(
      'http://127.0.0.1:9112/-/healthy',
    );
    expect(healthUrl(serviceArgs(cmdline('detector')), {})).toBe('http://127.0.0.1:9111/-/healthy');
    expect(healthUrl(serviceArgs(cmdline('exporter', '--listen', ':9200')), {})).toBe(
      'http://127.0.0.1:9200/-/healthy',
    );
    expect(healthUrl(serviceArgs(cmdline('bridge', '--listen=10.1.2.3:9300')), {})).toBe(
      'http://10.1.2.3:9300/-/healthy',
    );
    expect(healthUrl(serviceArgs(cmdline('all')), {})).toBe('http://127.0.0.1:9110/-/healthy');
    expect(
      healthUrl(serviceArgs(cmdline('bridge')), { VIGIL_HEALTHCHECK_URL: 'https://x:1/-/healthy' }),
    ).toBe('https://x:1/-/healthy');
  });

  it('exits 0 while the service answers and 1 once it is gone', async () => {
    const exporter = await startVigil('exporter', ['--collector.disable-defaults', '--collector.loadavg']);
    const check = () =>
      spawnSync(process.execPath, [path.join(DEPLOY, 'healthcheck.js')], {
        env: { ...process.env, VIGIL_HEALTHCHECK_URL: `${exporter.url}/-/healthy` },
        encoding: 'utf8',
      });
    expect(check().status).toBe(0);
    await exporter.stop();
    const down = check();
    expect(down.status).toBe(1);
    expect(down.stdout).toMatch(/\/-\/healthy: /);
  });
});
