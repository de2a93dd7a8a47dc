import fs from 'node:fs';
import path from 'node:path';
import { applyExporterFlags, checkExporterConfig } from '../../src/commands/exporter';
import { UserError } from '../../src/common/errors';
import { exporterSchema, type ExporterConfig } from '../../src/config/exporter';
import { parseConfig } from '../../src/config/load';
import { COLLECTORS } from '../../src/exporter/collectors';
import { FILESYSTEM_DEFAULTS } from '../../src/exporter/collectors/filesystem';
import { resolveCollectors } from '../../src/exporter/descriptor';
import { runVigil } from '../helpers/vigil';
import { tempDir } from '../helpers/tmp';

const defaults = () => exporterSchema.parse({});

/** Each collector's validated settings, by name. */
const settings = (config: ExporterConfig) =>
  Object.fromEntries(resolveCollectors(COLLECTORS, config).map((c) => [c.descriptor.name, c.settings]));

describe('exporter configuration', () => {
  it("defaults: :9110, every collector on, node_exporter's exclusion patterns", () => {
    const config = defaults();
    expect(config.listen).toBe(':9110');
    const collectors = settings(config);
    expect(Object.values(collectors).every((c) => c.enabled)).toBe(true);
    expect(collectors.filesystem.mount_points_exclude).toBe(FILESYSTEM_DEFAULTS.mountPointsExclude);
    expect(collectors.filesystem.mount_timeout).toBe(2000);
    expect(config.paths).toEqual({
      procfs: '/proc',
      sysfs: '/sys',
      rootfs: '/',
      udev_data: '/run/udev/data',
    });
  });

  it.each([
    [
      { collectors: { filesystem: { mount_points_exclude: '^/(dev' } } },
      /exporter\.collectors\.filesystem\.mount_points_exclude: invalid regular expression/,
    ],
    [{ collectors: { cpu: { enabled: 'yes' } } }, /exporter\.collectors\.cpu\.enabled: /],
    [{ collectors: { gpu: {} } }, /exporter\.collectors\.gpu: unknown key/],
    [
      { collectors: { netdev: { device_includ: 'x' } } },
      /exporter\.collectors\.netdev\.device_includ: unknown key/,
    ],
    [{ collector_timeout: 'soon' }, /exporter\.collector_timeout: expected a duration/],
    [
      { collectors: { diskstats: { device_include: '^sd', device_exclude: '^sda' } } },
      /exporter\.collectors\.diskstats\.device_include: device_include and device_exclude are mutually exclusive/,
    ],
    [{ paths: { procfs: '' } }, /exporter\.paths\.procfs: /],
  ])('rejects %j with the key path and reason', (exporter, message) => {
    // The config layer checks the section's own keys; the exporter each collector's, as at start.
    const check = () => checkExporterConfig(parseConfig({ exporter }).exporter, 'vigil.yml');
    expect(check).toThrow(UserError);
    expect(check).toThrow(message);
  });
});

describe('exporter flags', () => {
  it('map onto the config with node_exporter meaning; the command line wins', () => {
    const config = applyExporterFlags(defaults(), {
      logLevel: 'info',
      'collector.disableDefaults': true,
      'collector.cpu': true,
      'collector.meminfo': true,
      'path.procfs': '/host/proc',
      'path.rootfs': '/host',
      'collector.filesystem.mountPointsExclude': '^/boot',
      'collector.netdev.deviceInclude': '^eth',
    });
    const collectors = settings(config);
    const enabled = Object.entries(collectors)
      .filter(([, c]) => c.enabled)
      .map(([name]) => name);
    expect(enabled).toEqual(['cpu', 'meminfo']);
    expect(config.paths).toMatchObject({ procfs: '/host/proc', rootfs: '/host', sysfs: '/sys' });
    expect(collectors.filesystem.mount_points_exclude).toBe('^/boot');
    expect(collectors.netdev.device_include).toBe('^eth');
  });

  it('--no-collector.<name> disables one collector', () => {
    const collectors = settings(
      applyExporterFlags(defaults(), { logLevel: 'info', 'collector.pressure': false }),
    );
    expect(collectors.pressure.enabled).toBe(false);
    expect(collectors.cpu.enabled).toBe(true);
  });

  it('rejects a bad pattern or duration naming the flag', () => {
    expect(() =>
      applyExporterFlags(defaults(), { logLevel: 'info', 'collector.diskstats.deviceExclude': '(' }),
    ).toThrow(/^--collector\.diskstats\.device-exclude: invalid regular expression/);
    expect(() =>
      applyExporterFlags(defaults(), { logLevel: 'info', 'collector.filesystem.mountTimeout': 'forever' }),
    ).toThrow(/^--collector\.filesystem\.mount-timeout: /);
  });
});

describe('vigil exporter: bad flags and config exit 2 with one line', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  function expectUsageError(args: string[], pattern: RegExp): void {
    const result = runVigil(['exporter', ...args]);
    expect(result.status).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toMatch(pattern);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }

  it('an invalid regular expression flag', () => {
    expectUsageError(
      ['--collector.filesystem.mount-points-exclude', '^/(dev', '--check-config'],
      /^vigil: --collector\.filesystem\.mount-points-exclude: invalid regular expression/,
    );
  });

  it('include and exclude together', () => {
    expectUsageError(
      [
        '--collector.netdev.device-include',
        '^eth',
        '--collector.netdev.device-exclude',
        '^lo$',
        '--check-config',
      ],
      /^vigil: config: exporter\.collectors\.netdev\.device_include: device_include and device_exclude are mutually exclusive \(as the device-include and device-exclude flags\)/,
    );
  });

  it('an unknown flag', () => {
    expectUsageError(['--collector.gpu'], /^vigil: unknown option '--collector\.gpu'/);
  });

  it('a bad key in the config file', () => {
    const file = path.join(dir.path, 'bad.yml');
    fs.writeFileSync(file, 'exporter:\n  collectors:\n    filesystem:\n      mount_timeout: never\n');
    expectUsageError(
      ['--config', file, '--check-config'],
      /exporter\.collectors\.filesystem\.mount_timeout: expected a duration/,
    );
  });

  it('--check-config accepts a good file and flags', () => {
    const file = path.join(dir.path, 'good.yml');
    fs.writeFileSync(file, 'exporter:\n  collectors:\n    netclass: { enabled: false }\n');
    const result = runVigil(['exporter', '--config', file, '--no-collector.pressure', '--check-config']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/configuration OK/);
  });
});
