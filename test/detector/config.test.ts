import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../src/config/load';
import { resolveRule } from '../../src/detector/rules';
import { runVigil } from '../helpers/vigil';
import { tempDir } from '../helpers/tmp';

describe('detector config', () => {
  test('defaults: shipped rules on node_exporter names, listen :9111', () => {
    const { detector } = parseConfig({});
    expect(detector.listen).toBe(':9111');
    expect(detector.rules.map((r) => r.name)).toEqual([
      'cpu_busy',
      'memory_used',
      'disk_io_busy',
      'filesystem_growth',
      'network_receive',
      'network_transmit',
    ]);
    for (const rule of detector.rules) expect(rule.query).toMatch(/node_/);
    // The ratio rules declare their domain, so their band is clipped to 0..1; the others have none.
    expect(detector.rules.map((r) => [r.name, r.min, r.max])).toEqual([
      ['cpu_busy', 0, 1],
      ['memory_used', 0, 1],
      ['disk_io_busy', 0, 1],
      ['filesystem_growth', undefined, undefined],
      ['network_receive', undefined, undefined],
      ['network_transmit', undefined, undefined],
    ]);
    expect(detector.defaults.zscore.window).toBe(7 * 86_400_000);
  });

  test('a rule inherits unset keys from detector.defaults, nested ones included', () => {
    const { detector } = parseConfig({
      detector: {
        defaults: { step: '30s', seasonal: { seasons: 3 } },
        rules: [{ name: 'r', query: 'up', zscore: { threshold: 6 }, seasonal: { period: '1w' } }],
      },
    });
    const rule = resolveRule(detector.rules[0], detector.defaults);
    expect(rule.step).toBe(30_000);
    expect(rule.zscore.threshold).toBe(6);
    expect(rule.zscore.window).toBe(7 * 86_400_000);
    expect(rule.seasonal).toMatchObject({ period: 604_800_000, seasons: 3 });
  });

  test.each([
    [
      { rules: [{ name: 'a', query: 'up', zscore: { window: 'soon' } }] },
      'detector.rules[0].zscore.window: expected a duration',
    ],
    [{ rules: [{ name: 'a', query: 'up', direction: 'up' }] }, 'detector.rules[0].direction'],
    [
      {
        rules: [
          { name: 'a', query: 'up' },
          { name: 'a', query: 'up' },
        ],
      },
      'detector.rules[1].name: duplicate rule name "a"',
    ],
    [
      { rules: [{ name: 'a', query: 'up', seasonal: { seasonz: 3 } }] },
      'detector.rules[0].seasonal.seasonz: unknown key',
    ],
    [{ shard: '3/3' }, 'detector.shard: expected i < N'],
    [{ shard_label: 'my-shard' }, 'detector.shard_label: expected a label name'],
    [
      { shard_label: 'shard', rules: [{ name: 'a', query: 'rate(x[5m]' }] },
      'detector.rules[0].query: cannot add the shard_label matcher: not valid PromQL (at character 11)',
    ],
    [
      { shard_label: 'shard', rules: [{ name: 'a', query: 'vector(1)' }] },
      'detector.rules[0].query: cannot add the shard_label matcher: no series selector to add the matcher to',
    ],
    [
      { rules: [{ name: 'a', query: 'up', min: 1, max: 0 }] },
      'detector.rules[0].max: expected max above min',
    ],
    [{ defaults: { min: 5, max: 5 } }, 'detector.defaults.max: expected max above min'],
    [{ defaults: { zscore: { threshold: -1 } } }, 'detector.defaults.zscore.threshold'],
  ])('rejects %j with the key path', (detector, message) => {
    expect(() => parseConfig({ detector })).toThrow(message);
  });

  test('vigil detector --check-config: bad file is one line naming the key path, exit 2', () => {
    const dir = tempDir();
    try {
      const file = path.join(dir.path, 'vigil.yml');
      fs.writeFileSync(
        file,
        'detector:\n  rules:\n    - name: cpu\n      query: up\n      seasonal: { seasons: many }\n',
      );
      const bad = runVigil(['detector', '--config', file, '--check-config']);
      expect(bad.status).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toMatch(/^vigil: .*vigil\.yml: detector\.rules\[0\]\.seasonal\.seasons: /);
      fs.writeFileSync(file, 'detector:\n  rules:\n    - name: cpu\n      query: up\n');
      const good = runVigil(['detector', '--config', file, '--check-config']);
      expect(good.status).toBe(0);
      expect(good.stdout).toMatch(/configuration OK/);
      expect(runVigil(['detector', '--shard', '2/2', '--check-config']).stderr).toMatch(
        /^vigil: --shard: expected i < N, got "2\/2"\n$/,
      );
    } finally {
      dir.remove();
    }
  });
});
