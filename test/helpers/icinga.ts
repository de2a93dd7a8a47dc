import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { freePort } from './net';
import { startProcess } from './process';
import type { PassiveService } from './nagios';
import { tempDir } from './tmp';
import { waitFor } from './wait';

export interface StartedIcinga {
  url: string;
  /** The CA that signed the API's certificate (what `icinga2 api setup` leaves in certs/ca.crt). */
  caFile: string;
  user: string;
  password: string;
  /** GET /v1/objects/services/<host>!<service> as the API user: the service's attributes. */
  service(host: string, service: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

const NODE = 'vigil-test';

/**
 * Debian's icinga2 with its REST API on 127.0.0.1 and a free port, every path in a temp dir
 * (Configuration.* constants), running as the current user. The certificates follow
 * `icinga2 api setup`'s layout (a CA, the node's certificate and key under DataDir/certs) but are
 * made with openssl's EC keys: `icinga2 pki new-ca` makes 4096-bit RSA keys, seconds of CPU each.
 */
export async function startIcinga(services: PassiveService[]): Promise<StartedIcinga> {
  const dir = tempDir('vigil-icinga-');
  const at = (...parts: string[]): string => path.join(dir.path, ...parts);
  for (const sub of ['data/certs', 'log', 'cache', 'spool', 'run'])
    fs.mkdirSync(at(sub), { recursive: true });
  const certs = at('data/certs');
  const openssl = (args: string[]): void => void execFileSync('openssl', args, { cwd: certs, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '400',
    '-subj',
    '/CN=Vigil test CA',
  ]);
  openssl(['req', ...ec, '-keyout', `${NODE}.key`, '-out', `${NODE}.csr`, '-subj', `/CN=${NODE}`]);
  fs.writeFileSync(
    path.join(certs, 'ext.cnf'),
    `subjectAltName=DNS:${NODE},DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n`,
  );
  // 400 days: Icinga renews certificates that expire within 30 days, with a CA of its own.
  openssl([
    'x509',
    '-req',
    '-in',
    `${NODE}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${NODE}.crt`,
    '-days',
    '400',
    '-extfile',
    'ext.cnf',
  ]);

  const port = await freePort();
  const user = 'vigil';
  const password = 'vigil-secret';
  const hosts = [...new Set(services.map((s) => s.host))];
  fs.writeFileSync(
    at('icinga2.conf'),
    [
      `const NodeName = "${NODE}"`,
      `const ZoneName = "${NODE}"`,
      'object Endpoint NodeName { }',
      'object Zone ZoneName { endpoints = [ NodeName ] }',
      `object ApiListener "api" {\n  bind_host = "127.0.0.1"\n  bind_port = ${port}\n}`,
      `object ApiUser "${user}" {\n  password = "${password}"\n  permissions = [ "actions/process-check-result", "objects/query/*" ]\n}`,
      'object CheckCommand "passive" { command = [ "/bin/true" ] }',
      ...hosts.map(
        (host) =>
          `object Host "${host}" {\n  check_command = "passive"\n  enable_active_checks = false\n  address = "127.0.0.1"\n}`,
      ),
      ...services.map(
        (s) =>
          `object Service "${s.service}" {\n  host_name = "${s.host}"\n  check_command = "passive"\n  enable_active_checks = false\n  max_check_attempts = 1\n}`,
      ),
      '',
    ].join('\n'),
  );
  const runAs = process.getuid?.() === 0 ? 'root' : execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
  const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
  const defines = Object.entries({
    DataDir: at('data'),
    LogDir: at('log'),
    CacheDir: at('cache'),
    SpoolDir: at('spool'),
    InitRunDir: at('run'),
    PidPath: at('run', 'icinga2.pid'),
    ConfigDir: dir.path,
    RunAsUser: runAs,
    RunAsGroup: group,
  }).map(([key, value]) => `-DConfiguration.${key}=${value}`);
  const proc = startProcess('icinga2', ['daemon', '-c', at('icinga2.conf'), ...defines]);
  const url = `https://127.0.0.1:${port}`;
  const ca = fs.readFileSync(path.join(certs, 'ca.crt'));
  const get = (pathname: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const request = https.get(
        `${url}${pathname}`,
        { ca, servername: NODE, auth: `${user}:${password}`, headers: { accept: 'application/json' } },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      request.on('error', reject);
    });
  const stop = async (): Promise<void> => {
    await proc.stop();
    dir.remove();
  };
  try {
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`icinga2 exited: ${proc.output().slice(-2000)}`);
        return (await get('/v1/objects/hosts')).status === 200;
      },
      { timeoutMs: 60_000, what: 'Icinga 2 API' },
    );
  } catch (err) {
    const output = proc.output().slice(-2000);
    await stop();
    throw new Error(`${(err as Error).message}\n${output}`);
  }
  return {
    url,
    caFile: path.join(certs, 'ca.crt'),
    user,
    password,
    async service(host, service) {
      const { status, body } = await get(`/v1/objects/services/${encodeURIComponent(`${host}!${service}`)}`);
      if (status !== 200) throw new Error(`GET service ${host}!${service}: ${status} ${body}`);
      return (JSON.parse(body) as { results: Array<{ attrs: Record<string, unknown> }> }).results[0]!.attrs;
    },
    stop,
  };
}
