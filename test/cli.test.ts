import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { tempDir } from './helpers/tmp';
import { runVigil } from './helpers/vigil';

describe('vigil CLI', () => {
  it('lists its commands in --help and exits 0', () => {
    const result = runVigil(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Usage: vigil/);
    expect(result.stdout).toMatch(/\bcheck\b/);
  });

  it('prints the package version', () => {
    const result = runVigil(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects an unknown command with one line and exit 2', () => {
    const result = runVigil(['frobnicate']);
    expect(result.status).toBe(2);
    expect(result.stderr.split('\n')[0]).toMatch(/^vigil: .*frobnicate/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

/** Every error a person meets is one line: `vigil: <file>: <key path>: <reason>`, in words for people. */
describe('vigil error lines', () => {
  const dir = tempDir('vigil-cli-');
  afterAll(() => dir.remove());
  const write = (name: string, content: string): string => {
    const file = path.join(dir.path, name);
    fs.writeFileSync(file, content);
    return file;
  };
  const oneLine = (stderr: string): string => {
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    return stderr.trimEnd();
  };

  it('--check-config checks --listen as the start does', () => {
    const result = runVigil(['bridge', '--listen', 'foo', '--check-config']);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(oneLine(result.stderr)).toBe('vigil: --listen: expected HOST:PORT or :PORT, got "foo"');
  });

  it('--check-config compiles the templates the start compiles, naming file and key', () => {
    const template = write('broken.hbs', '{{#each alerts}}unclosed');
    const file = write(
      'templates.yml',
      YAML.stringify({
        bridge: {
          spool_dir: path.join(dir.path, 'spool'),
          channels: [
            { name: 'mail', type: 'email', from: 'a@b.c', to: ['d@e.f'], templates: { html_file: template } },
          ],
        },
      }),
    );
    const result = runVigil(['bridge', '--config', file, '--check-config']);
    expect(result.status).toBe(2);
    expect(oneLine(result.stderr)).toMatch(
      new RegExp(
        `^vigil: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: bridge\\.channels\\S*templates\\.html_file: invalid template: `,
      ),
    );
  });

  it.each([
    [
      'detector:\n  rules:\n    - { name: x, query: up, direction: up }\n',
      'detector.rules[0].direction: expected one of "both", "high", "low", got "up"',
    ],
    ['bridge:\n  timezone: 5\n', 'bridge.timezone: expected text, got 5'],
    ['bridge:\n  retry: { concurrency: 0 }\n', 'bridge.retry.concurrency: expected at least 1, got 0'],
  ])('rewrites zod wording for people: %j', (yaml, expected) => {
    const file = write('wording.yml', yaml);
    const result = runVigil(['detector', '--config', file, '--check-config']);
    expect(result.status).toBe(2);
    expect(oneLine(result.stderr)).toBe(`vigil: ${file}: ${expected}`);
  });

  it('refuses a YAML alias bomb with exit 2 and the file name, not an internal error', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const file = write('bomb.yml', `${levels.join('\n')}\n`);
    const result = runVigil(['bridge', '--config', file, '--check-config']);
    expect(result.status).toBe(2);
    expect(oneLine(result.stderr)).toMatch(new RegExp(`^vigil: ${file}: invalid YAML: .*alias`));
  });

  it('vigil check: bad usage is UNKNOWN on stdout, where Nagios reads it, with exit 3', () => {
    const badRange = runVigil(['check', '--query', 'up', '-w', 'abc']);
    expect(badRange.status).toBe(3);
    expect(badRange.stdout).toMatch(/^UNKNOWN - .*abc.*\n$/);
    const unknownFlag = runVigil(['check', '--nope']);
    expect(unknownFlag.status).toBe(3);
    expect(unknownFlag.stdout).toBe("UNKNOWN - unknown option '--nope'\n");
  });
});
