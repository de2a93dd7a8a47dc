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
