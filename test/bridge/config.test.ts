import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { parseChannels } from '../../src/bridge/channels';
import { parseConfig } from '../../src/config/load';
import { tempDir } from '../helpers/tmp';
import { runVigil } from '../helpers/vigil';

const mail = { name: 'ops-mail', type: 'email', from: 'vigil@example.com', to: ['ops@example.com'] };

describe('bridge configuration', () => {
  it('has a default for every key', () => {
    const bridge = parseConfig({}).bridge;
    expect(bridge.listen).toBe(':9112');
    expect(bridge.routes).toEqual({ default: [] });
    expect(bridge.retry).toEqual({
      initial_backoff: 1000,
      max_backoff: 300_000,
      max_age: 86_400_000,
      concurrency: 8,
    });
    expect(bridge.graph.lookback).toBe(3_600_000);
    expect(bridge.watchdog.enabled).toBe(false);
    // Graph queries: asked once per delivery attempt, briefly, and not at all while the circuit is open.
    expect(bridge.prometheus).toMatchObject({ timeout: 5_000, retries: 0 });
    expect(bridge.graph.circuit_breaker).toEqual({ failures: 5, cool_down: 30_000 });
  });

  it.each([
    [{ circuit_breaker: { failures: 0 } }, 'bridge.graph.circuit_breaker.failures: '],
    [{ circuit_breaker: { cool_down: 'soon' } }, 'bridge.graph.circuit_breaker.cool_down: '],
    [{ circuit_breaker: { open_for: '1m' } }, 'bridge.graph.circuit_breaker.open_for: unknown key'],
  ])('rejects graph %j with its key path', (graph, message) => {
    expect(() => parseConfig({ bridge: { graph } })).toThrow(message);
  });

  it('fills channel defaults and parses durations', () => {
    const bridge = parseConfig({
      bridge: { channels: [mail], dedup_window: '5m', watchdog: { enabled: true, timeout: '2m' } },
    }).bridge;
    expect(parseChannels(bridge.channels)[0]).toMatchObject({
      send_resolved: true,
      matchers: [],
      cc: [],
      attach_csv: true,
      smtp: { host: 'localhost', port: 587, secure: false },
    });
    expect(bridge.dedup_window).toBe(300_000);
    expect(bridge.watchdog.timeout).toBe(120_000);
  });

  it.each([
    [{ ...mail, smtp: { port: 'abc' } }, 'bridge.channels[0].smtp.port: expected integer 1-65535, got "abc"'],
    [
      { ...mail, type: 'pager' },
      'bridge.channels[0].type: unknown channel type "pager" (expected one of email',
    ],
    [{ ...mail, to: [] }, 'bridge.channels[0].to: expected at least one recipient'],
    [
      { ...mail, matchers: ['severity=~"(crit"'] },
      'bridge.channels[0].matchers[0]: invalid regular expression',
    ],
    [{ ...mail, matchers: ['severity'] }, 'bridge.channels[0].matchers[0]: expected a matcher such as'],
    [
      { ...mail, templates: { subject: 'x', subject_file: '/etc/hostname' } },
      'bridge.channels[0].templates.subject: set either subject or subject_file',
    ],
    [{ ...mail, templates: { title: 'x' } }, 'bridge.channels[0].templates.title: unknown key'],
    [{ ...mail, rate_limit: { per_second: -1 } }, 'bridge.channels[0].rate_limit.per_second: '],
  ])('rejects the channel %j with its key path', (channel, message) => {
    expect(() => parseChannels(parseConfig({ bridge: { channels: [channel] } }).bridge.channels)).toThrow(
      message,
    );
  });

  it.each([
    [{ channels: [mail], routes: { default: ['nope'] } }, 'bridge.routes.default[0]: unknown channel "nope"'],
    [{ channels: [mail, mail] }, 'bridge.channels[1].name: duplicate channel "ops-mail"'],
    [{ channels: [{ ...mail, name: 'a b' }] }, 'bridge.channels[0].name: expected letters'],
    [{ timezone: 'Mars/Olympus' }, 'bridge.timezone: unknown time zone "Mars/Olympus"'],
    [{ retry: { max_age: 'forever' } }, 'bridge.retry.max_age: expected a duration'],
    [{ spool: './x' }, 'bridge.spool: unknown key'],
  ])('rejects %j with the key path', (bridge, message) => {
    expect(() => parseConfig({ bridge })).toThrow(message);
  });

  it('reads the SMTP password from password_file', () => {
    const dir = tempDir();
    try {
      fs.writeFileSync(path.join(dir.path, 'smtp'), 's3cret\n');
      const bridge = parseConfig({
        bridge: { channels: [{ ...mail, smtp: { password_file: path.join(dir.path, 'smtp') } }] },
      }).bridge;
      expect(parseChannels(bridge.channels)[0]).toMatchObject({ smtp: { password: 's3cret' } });
    } finally {
      dir.remove();
    }
  });

  it('vigil bridge --check-config says OK or names the problem in one line', () => {
    const dir = tempDir();
    try {
      const good = path.join(dir.path, 'good.yml');
      fs.writeFileSync(good, YAML.stringify({ bridge: { channels: [mail] } }));
      const ok = runVigil(['bridge', '--config', good, '--check-config']);
      expect(ok.stdout).toBe(`${good}: configuration OK\n`);
      expect(ok.status).toBe(0);
      const bad = path.join(dir.path, 'bad.yml');
      fs.writeFileSync(bad, YAML.stringify({ bridge: { channels: [mail], routes: { default: ['pager'] } } }));
      const failed = runVigil(['bridge', '--config', bad, '--check-config']);
      expect(failed.status).toBe(2);
      expect(failed.stderr.trim()).toBe(`vigil: ${bad}: bridge.routes.default[0]: unknown channel "pager"`);
    } finally {
      dir.remove();
    }
  });
});

describe('examples/vigil.yml', () => {
  it('routes critical alerts to e-mail, Slack and Zabbix together, each channel valid', () => {
    const file = path.resolve(__dirname, '..', '..', 'examples', 'vigil.yml');
    const bridge = parseConfig(YAML.parse(fs.readFileSync(file, 'utf8')), {}).bridge;
    const channels = parseChannels(bridge.channels);
    const typeOf = (name: string) => channels.find((c) => c.name === name)?.type;
    expect(bridge.routes.critical.map(typeOf).sort()).toEqual(['email', 'slack', 'zabbix']);
  });
});
