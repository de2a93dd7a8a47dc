import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AMTOOL_BIN } from '../helpers/alertmanager';
import { freePort } from '../helpers/net';
import { tempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';
import { REPO } from '../operations/files';

const STACK = path.join(REPO, 'examples', 'stack', 'stack.ts');
/**
 * As `npm run stack` runs it: one process with tsx as a loader. (tsx's own CLI runs the script in a
 * child and, when that child does not acknowledge a relayed SIGTERM within 30 ms, kills it and
 * exits 143, which on a loaded machine left the stack's services running.)
 */
const RUN_STACK = ['--import', 'tsx', STACK];

describe('npm run stack', () => {
  it('brings up Prometheus, Alertmanager, vigil and the mail catcher, delivers an alert as a mail file, and stops everything on SIGTERM', async () => {
    const dir = tempDir('vigil-stack-');
    const names = ['prometheus', 'alertmanager', 'exporter', 'detector', 'bridge', 'smtp', 'mail'];
    const ports = await Promise.all(names.map(() => freePort()));
    const flags = names.flatMap((name, i) => [`--${name}-port`, String(ports[i])]);
    const stack = spawn(process.execPath, [...RUN_STACK, '--data-dir', dir.path, ...flags], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    stack.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    stack.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => stack.once('exit', (code) => resolve(code)));
    try {
      const urls = await waitFor(
        () => {
          if (stack.exitCode !== null) throw new Error(`stack exited: ${output}`);
          const lines = Object.fromEntries(
            [...output.matchAll(/^([a-z-]+): (\S+)$/gm)].map((m) => [m[1], m[2]] as [string, string]),
          );
          return lines['mail-files'] ? lines : undefined;
        },
        { what: 'the name: URL lines', timeoutMs: 90_000 },
      );
      expect(Object.keys(urls).sort()).toEqual([...names, 'mail-files'].sort());

      // Every target Prometheus scrapes (exporter, detector, bridge) is up.
      await waitFor(
        async () => {
          const body = (await (await fetch(`${urls.prometheus}/api/v1/targets`)).json()) as {
            data: { activeTargets: Array<{ health: string }> };
          };
          const targets = body.data.activeTargets;
          return targets.length === 3 && targets.every((t) => t.health === 'up');
        },
        { what: 'three targets up', timeoutMs: 60_000 },
      );

      // A test alert, as the README suggests, lands as a file under mail/ and on the mail page.
      const added = spawnSync(AMTOOL_BIN, [
        'alert',
        'add',
        'alertname=StackTest',
        'severity=warning',
        'instance=stack-test',
        '--annotation=summary=Test alert from the stack test',
        `--alertmanager.url=${urls.alertmanager}`,
      ]);
      expect(added.status).toBe(0);
      const mailDir = path.join(dir.path, 'mail');
      const subject = /^Subject: \[FIRING:1\] StackTest stack-test/m;
      // The mail catcher renames each message into place whole, so a listed file is never partial.
      const file = await waitFor(
        () =>
          fs
            .readdirSync(mailDir)
            .find((f) => f.endsWith('.eml') && subject.test(fs.readFileSync(path.join(mailDir, f), 'utf8'))),
        { what: 'a mail file with the test alert', timeoutMs: 90_000 },
      );
      expect(await (await fetch(urls.mail)).text()).toContain(file);

      stack.kill('SIGTERM');
      expect(await exited).toBe(0);
      // Nothing it started is left listening.
      for (const name of names.filter((n) => n !== 'smtp')) {
        await expect(fetch(urls[name])).rejects.toThrow();
      }
    } finally {
      // On a failure above, still stop what the stack started.
      if (stack.exitCode === null) {
        stack.kill('SIGTERM');
        await exited;
      }
      dir.remove();
    }
  });

  it('names the Debian packages and exits 2 when Prometheus or Alertmanager is not on PATH', () => {
    const result = spawnSync(process.execPath, RUN_STACK, {
      env: { ...process.env, PATH: '/nonexistent' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'stack: Prometheus and Alertmanager must be on PATH: apt-get install prometheus prometheus-alertmanager',
    ]);
  });
});
