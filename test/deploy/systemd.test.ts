import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';
import { runVigil } from '../helpers/vigil';

const SYSTEMD_DIR = path.resolve(__dirname, '..', '..', 'deploy', 'systemd');
const UNITS = fs.readdirSync(SYSTEMD_DIR).filter((file) => file.endsWith('.service'));

/** `systemd-analyze verify`: exit status and what it said (unknown keys are only warnings). */
function verify(unitFile: string): { status: number | null; output: string } {
  const result = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/** The unit's settings as key -> values (a key may repeat). */
function settings(unitFile: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of fs.readFileSync(unitFile, 'utf8').split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) map.set(match[1], [...(map.get(match[1]) ?? []), match[2]]);
  }
  return map;
}

describe('deploy/systemd', () => {
  it('has one unit per service and one for vigil all', () => {
    expect(UNITS.sort()).toEqual([
      'vigil-bridge.service',
      'vigil-detector.service',
      'vigil-exporter.service',
      'vigil.service',
    ]);
  });

  it.each(UNITS)('%s passes systemd-analyze verify without a warning', (unit) => {
    expect(verify(path.join(SYSTEMD_DIR, unit))).toEqual({ status: 0, output: '' });
  });

  it('a misspelt setting or a missing program is reported', () => {
    const dir = tempDir('vigil-systemd-');
    try {
      const text = fs.readFileSync(path.join(SYSTEMD_DIR, 'vigil-bridge.service'), 'utf8');
      const typo = path.join(dir.path, 'vigil-typo.service');
      fs.writeFileSync(typo, text.replace('ProtectSystem=strict', 'ProtectSystm=strict'));
      expect(verify(typo).output).toMatch(/Unknown key '?ProtectSystm'? in section \[?Service\]?/);
      const missing = path.join(dir.path, 'vigil-missing.service');
      fs.writeFileSync(missing, text.replace('ExecStart=node ', 'ExecStart=nodejs-missing '));
      expect(verify(missing).status).not.toBe(0);
    } finally {
      dir.remove();
    }
  });

  it.each(UNITS)('%s is hardened and restarts on failure', (unit) => {
    const unitSettings = settings(path.join(SYSTEMD_DIR, unit));
    for (const [key, value] of [
      ['DynamicUser', 'yes'],
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['Restart', 'on-failure'],
      ['CapabilityBoundingSet', ''],
      ['EnvironmentFile', '/etc/vigil/vigil.env'],
    ]) {
      expect({ key, values: unitSettings.get(key) }).toEqual({ key, values: [value] });
    }
    expect(unitSettings.get('ProtectHome')?.[0]).toMatch(/^(yes|read-only)$/);
    const command = unitSettings.get('ExecStart')![0];
    if (/ (exporter|all) /.test(command)) expect(unitSettings.get('ReadOnlyPaths')).toEqual(['/proc /sys /']);
    if (/ (detector|bridge|all) /.test(command)) expect(unitSettings.get('StateDirectory')).toHaveLength(1);
  });

  it('vigil.yml with the variables of vigil.env and StateDirectory is a valid configuration', () => {
    const env: Record<string, string> = {};
    for (const line of fs.readFileSync(path.join(SYSTEMD_DIR, 'vigil.env'), 'utf8').split('\n')) {
      const match = /^([A-Z_]+)=(.*)$/.exec(line);
      if (match) env[match[1]] = match[2];
    }
    expect(Object.keys(env)).toContain('VIGIL_WEBHOOK_TOKEN');
    env.VIGIL_WEBHOOK_TOKEN = 'c0ffee';
    const dir = tempDir('vigil-systemd-');
    try {
      const result = runVigil(['all', '--config', path.join(SYSTEMD_DIR, 'vigil.yml'), '--check-config'], {
        ...env,
        STATE_DIRECTORY: dir.path,
      });
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    } finally {
      dir.remove();
    }
  });
});
