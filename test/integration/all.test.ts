import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, unlistenedPort } from '../helpers/net';
import { startProcess, waitForHttp } from '../helpers/process';
import { PROMTOOL_BIN } from '../helpers/prometheus';
import { tempDir } from '../helpers/tmp';
import { VIGIL_CLI, runVigil } from '../helpers/vigil';

describe('vigil all', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  async function writeConfig(ports: number[]): Promise<string> {
    const [exporter, detector, bridge] = ports;
    const file = path.join(dir.path, `vigil-${exporter}.yml`);
    fs.writeFileSync(
      file,
      [
        `exporter: { listen: "127.0.0.1:${exporter}" }`,
        // Nothing listens there: the detector must keep serving and report Prometheus as down.
        `detector: { listen: "127.0.0.1:${detector}", prometheus: { url: "http://127.0.0.1:${await unlistenedPort()}", retries: 0 } }`,
        `bridge: { listen: "127.0.0.1:${bridge}", spool_dir: "${path.join(dir.path, `spool-${exporter}`)}" }`,
      ].join('\n'),
    );
    return file;
  }

  it('runs the three services in one process and stops cleanly on SIGTERM', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const proc = startProcess(process.execPath, [VIGIL_CLI, 'all', '--config', await writeConfig(ports)]);
    try {
      for (const port of ports) await waitForHttp(`http://127.0.0.1:${port}/-/healthy`, proc);
      const host = await (await fetch(`http://127.0.0.1:${ports[0]}/metrics`)).text();
      expect(host).toMatch(/^node_cpu_seconds_total\{cpu="0",mode="idle"\} /m);
      const detector = await (await fetch(`http://127.0.0.1:${ports[1]}/metrics`)).text();
      expect(detector).toMatch(/^vigil_detector_/m);
      const bridge = await fetch(`http://127.0.0.1:${ports[2]}/webhook`, { method: 'POST', body: '{' });
      expect(bridge.status).toBe(400);
      // Every service's own metrics pass promtool's lint; node_exporter's camelCase memory and
      // netstat names and its entropy `_bits` are kept on purpose (dashboards and rules use them).
      for (const port of ports) {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const check = spawnSync(PROMTOOL_BIN, ['check', 'metrics'], { input: text, encoding: 'utf8' });
        const problems = `${check.stdout}${check.stderr}`
          .split('\n')
          .filter(
            (line) =>
              line.trim() !== '' &&
              !/^node_(memory|netstat)_\w+ metric names should be written in 'snake_case'/.test(line) &&
              !/^node_entropy_\w+_bits use base unit "bytes" instead of "bits"$/.test(line),
          );
        expect({ port, problems }).toEqual({ port, problems: [] });
      }
    } finally {
      expect(await proc.stop('SIGTERM')).toBe(0);
    }
  });

  it('closes what it started and exits 2 in one line when a port is taken', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const blocker = startProcess(process.execPath, [
      VIGIL_CLI,
      'exporter',
      '--listen',
      `127.0.0.1:${ports[2]}`,
    ]);
    try {
      await waitForHttp(`http://127.0.0.1:${ports[2]}/-/ready`, blocker);
      const result = runVigil(['all', '--config', await writeConfig(ports)]);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(
        /^vigil: bridge: cannot listen on 127\.0\.0\.1:\d+: address already in use$/m,
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await blocker.stop();
    }
  });

  it('accepts the shipped example configuration', () => {
    const example = path.resolve(__dirname, '..', '..', 'examples', 'vigil.yml');
    const result = runVigil(['all', '--check-config', '--config', example], { PROMETHEUS_URL: '' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('validates the whole file with --check-config', async () => {
    const good = runVigil(['all', '--check-config', '--config', await writeConfig([1, 2, 3])]);
    expect(good.status).toBe(0);
    expect(good.stdout).toMatch(/configuration OK/);
    const bad = path.join(dir.path, 'bad.yml');
    fs.writeFileSync(bad, 'detector:\n  prometheus:\n    timeout: soon\n');
    const result = runVigil(['all', '--check-config', '--config', bad]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      `vigil: ${bad}: detector.prometheus.timeout: expected a duration such as 30s, 5m, 1h, got "soon"`,
    );
  });
});
