import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../src/common/errors';
import { loadConfig, parseConfig } from '../../src/config/load';
import { tempDir } from '../helpers/tmp';

describe('config', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  function write(name: string, text: string): string {
    const file = path.join(dir.path, name);
    fs.writeFileSync(file, text);
    return file;
  }

  it('has a default for every key, so no file is needed', () => {
    const config = loadConfig();
    expect(config.exporter.listen).toBe(':9110');
    expect(config.detector.listen).toBe(':9111');
    expect(config.bridge.listen).toBe(':9112');
  });

  it('renders graphs on one fewer thread than the CPUs, at most two, unless told', () => {
    expect(loadConfig().bridge.graph.render_concurrency).toBe(
      Math.max(1, Math.min(2, os.availableParallelism() - 1)),
    );
    const set = parseConfig({ bridge: { graph: { render_concurrency: 5 } } }, {});
    expect(set.bridge.graph.render_concurrency).toBe(5);
  });

  it('substitutes ${ENV} and ${ENV:-default} in values', () => {
    const file = write('env.yml', 'exporter:\n  listen: "${HOST}:${PORT:-9200}"\n');
    expect(loadConfig(file, { HOST: '127.0.0.1' }).exporter.listen).toBe('127.0.0.1:9200');
    expect(loadConfig(file, { HOST: '127.0.0.1', PORT: '9300' }).exporter.listen).toBe('127.0.0.1:9300');
  });

  it('keeps $$ as a literal dollar', () => {
    expect(() => parseConfig({ exporter: { listen: ':9$$' } }, {})).toThrow(
      /exporter\.listen: expected HOST:PORT or :PORT, got ":9\$"/,
    );
  });

  it('names an unset variable and where it is used', () => {
    const file = write('unset.yml', 'detector:\n  listen: "${NOPE}"\n');
    expect(() => loadConfig(file, {})).toThrow(
      `${file}: detector.listen: environment variable NOPE is not set`,
    );
  });

  it('names the key path and the reason of a bad value', () => {
    const file = write('bad.yml', 'bridge:\n  listen: 12\n');
    let error: unknown;
    try {
      loadConfig(file, {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(/^.*bad\.yml: bridge\.listen: expected text, got 12$/);
  });

  it('rejects unknown keys by their path, catching typos', () => {
    expect(() => parseConfig({ exporter: { lisen: ':1' } }, {})).toThrow(
      'config: exporter.lisen: unknown key',
    );
    expect(() => parseConfig({ exporters: {} }, {})).toThrow('config: exporters: unknown key');
  });

  it('reports invalid YAML with file, line and column on one line', () => {
    const file = write('broken.yml', 'exporter:\n  listen: [unclosed\n');
    expect(() => loadConfig(file, {})).toThrow(/broken\.yml:\d+:\d+: invalid YAML: [^\n]+$/);
  });

  it('says when the file is missing', () => {
    expect(() => loadConfig(path.join(dir.path, 'none.yml'))).toThrow(
      /none\.yml: cannot read: no such file$/,
    );
  });

  it('reads <secret>_file keys in place of the secret, without the trailing newline', () => {
    const secret = write('smtp-password', 's3cret\n');
    const channel = {
      name: 'ops-mail',
      type: 'email',
      from: 'vigil@example.com',
      to: ['ops@example.com'],
      smtp: { host: 'localhost', username: 'vigil', password_file: secret },
    };
    const config = parseConfig({ bridge: { channels: [channel] } }, {});
    expect(config.bridge.channels[0]).toMatchObject({ smtp: { password: 's3cret' } });
    const missing = { ...channel, smtp: { ...channel.smtp, password_file: '/nonexistent/pw' } };
    expect(() => parseConfig({ bridge: { channels: [missing] } }, {})).toThrow(
      'config: bridge.channels[0].smtp.password_file: /nonexistent/pw: cannot read: no such file',
    );
    const both = { ...channel, smtp: { ...channel.smtp, password: 'x' } };
    expect(() => parseConfig({ bridge: { channels: [both] } }, {})).toThrow(
      'bridge.channels[0].smtp.password_file: set either password or password_file, not both',
    );
  });

  it('checks at load time that certificate files can be read, naming the key', () => {
    expect(() =>
      parseConfig({ detector: { prometheus: { tls: { ca_file: '/nonexistent/ca.pem' } } } }, {}),
    ).toThrow('config: detector.prometheus.tls.ca_file: cannot read /nonexistent/ca.pem: no such file');
    const ca = write('ca.pem', '-----BEGIN CERTIFICATE-----\n');
    expect(
      parseConfig({ detector: { prometheus: { tls: { ca_file: ca } } } }, {}).detector.prometheus.tls.ca_file,
    ).toBe(ca);
  });

  it('treats an empty file as all defaults', () => {
    expect(loadConfig(write('empty.yml', ''), {}).exporter.listen).toBe(':9110');
  });
});
