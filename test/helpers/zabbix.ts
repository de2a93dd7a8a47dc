import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { freePort, freePortInRange } from './net';
import { startPostgres, type StartedPostgres } from './postgres';
import { startProcess, type StartedProcess } from './process';
import { tempDir } from './tmp';
import { waitFor } from './wait';

/** Debian's zabbix-server-pgsql: the database schema and the server's own config. */
const SCHEMA_DIR = '/usr/share/zabbix-server-pgsql';
/** Debian's zabbix-frontend-php: the web UI and the JSON-RPC API (api_jsonrpc.php). */
const FRONTEND_DIR = '/usr/share/zabbix';

export interface StartedZabbix {
  /** Trapper port of zabbix_server on 127.0.0.1 (sender protocol). */
  serverPort: number;
  /** http://127.0.0.1:<port>/api_jsonrpc.php */
  apiUrl: string;
  /** Calls the API as Admin (the default super admin of a fresh schema). */
  api<T = unknown>(method: string, params: unknown): Promise<T>;
  serverOutput(): string;
  stop(): Promise<void>;
}

/**
 * A real Zabbix 6.0 on 127.0.0.1: a throwaway PostgreSQL with the packaged schema loaded,
 * zabbix_server in the foreground with only the processes a trapper needs, and the frontend's API
 * under PHP's built-in web server. The frontend reads its config from a fixed path
 * (/etc/zabbix/zabbix.conf.php in Debian's build), so a copy of it in the temp dir points there.
 */
export async function startZabbix(): Promise<StartedZabbix> {
  const dir = tempDir('vigil-zabbix-');
  let postgres: StartedPostgres | undefined;
  let server: StartedProcess | undefined;
  let php: StartedProcess | undefined;
  const stop = async (): Promise<void> => {
    await php?.stop();
    // zabbix_server waits for its children; one stuck on the database must not hang the tests.
    const stuck = setTimeout(() => void server?.stop('SIGKILL'), 15_000);
    await server?.stop();
    clearTimeout(stuck);
    postgres?.stop();
    dir.remove();
  };
  try {
    postgres = await startPostgres(dir.path, 'zabbix');
    postgres.psql('postgres', 'CREATE DATABASE zabbix;');
    // Foreign-key triggers off while the packaged rows go in (a third of the load time).
    const withoutTriggers = Buffer.from('SET session_replication_role = replica;\n');
    for (const part of ['schema', 'images', 'data']) {
      const sql = zlib.gunzipSync(fs.readFileSync(path.join(SCHEMA_DIR, `${part}.sql.gz`)));
      postgres.psql('zabbix', Buffer.concat([withoutTriggers, sql]));
    }

    // zabbix_server takes ListenPort 1024-32767 only, below Linux's ephemeral range.
    const serverPort = await freePortInRange(10_000, 32_000);
    const serverConfig = path.join(dir.path, 'zabbix_server.conf');
    fs.writeFileSync(
      serverConfig,
      [
        'DBHost=127.0.0.1',
        `DBPort=${postgres.port}`,
        'DBName=zabbix',
        'DBUser=zabbix',
        'ListenIP=127.0.0.1',
        `ListenPort=${serverPort}`,
        `PidFile=${path.join(dir.path, 'zabbix_server.pid')}`,
        `SocketDir=${dir.path}`,
        'LogType=console',
        'AllowRoot=1',
        // New hosts and items reach the trapper's cache within a second (default: a minute).
        'CacheUpdateFrequency=1',
        'HousekeepingFrequency=0',
        'CacheSize=16M',
        // A trapper-only server: no pollers, pingers or discoverers to spend the CI's two cores.
        'StartPollers=0',
        'StartPollersUnreachable=0',
        'StartPingers=0',
        'StartDiscoverers=0',
        'StartHTTPPollers=0',
        'StartHistoryPollers=0',
        'StartODBCPollers=0',
        'StartProxyPollers=0',
        'StartTimers=1',
        'StartEscalators=1',
        'StartAlerters=1',
        'StartPreprocessors=1',
        'StartDBSyncers=1',
        'StartTrappers=1',
        'StartLLDProcessors=1',
        '',
      ].join('\n'),
    );
    server = startProcess('zabbix_server', ['-f', '-c', serverConfig]);
    const started = server;
    await waitFor(
      () => {
        if (started.child.exitCode !== null) {
          throw new Error(`zabbix_server exited: ${started.output().slice(-2000)}`);
        }
        return /started \[trapper #1\]/.test(started.output());
      },
      { timeoutMs: 60_000, what: 'zabbix_server trapper' },
    );

    const ui = path.join(dir.path, 'ui');
    fs.cpSync(FRONTEND_DIR, ui, { recursive: true, verbatimSymlinks: true });
    const configFile = path.join(dir.path, 'zabbix.conf.php');
    const configClass = path.join(ui, 'include/classes/core/CConfigFile.php');
    fs.writeFileSync(
      configClass,
      fs
        .readFileSync(configClass, 'utf8')
        .replace(/const CONFIG_FILE_PATH = '[^']*';/, `const CONFIG_FILE_PATH = '${configFile}';`),
    );
    fs.writeFileSync(
      configFile,
      `<?php
$DB['TYPE'] = 'POSTGRESQL';
$DB['SERVER'] = '127.0.0.1';
$DB['PORT'] = '${postgres.port}';
$DB['DATABASE'] = 'zabbix';
$DB['USER'] = 'zabbix';
$DB['PASSWORD'] = '';
$DB['SCHEMA'] = '';
$DB['ENCRYPTION'] = false;
$DB['KEY_FILE'] = '';
$DB['CERT_FILE'] = '';
$DB['CA_FILE'] = '';
$DB['VERIFY_HOST'] = false;
$DB['CIPHER_LIST'] = '';
$DB['VAULT_URL'] = '';
$DB['VAULT_DB_PATH'] = '';
$DB['VAULT_TOKEN'] = '';
$DB['DOUBLE_IEEE754'] = true;
$ZBX_SERVER = '127.0.0.1';
$ZBX_SERVER_PORT = '${serverPort}';
$ZBX_SERVER_NAME = 'vigil-test';
$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;
`,
    );
    const webPort = await freePort();
    php = startProcess('php', ['-S', `127.0.0.1:${webPort}`, '-t', ui]);
    const apiUrl = `http://127.0.0.1:${webPort}/api_jsonrpc.php`;
    let id = 0;
    const session: { auth?: string } = {};
    const api = async <T>(method: string, params: unknown): Promise<T> => {
      const response = await fetch(apiUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json-rpc' },
        // Zabbix 6.0 takes the session in the body; the Authorization header came with 6.4.
        body: JSON.stringify({
          jsonrpc: '2.0',
          method,
          params,
          id: ++id,
          ...(session.auth ? { auth: session.auth } : {}),
        }),
      });
      const body = (await response.json()) as { result?: T; error?: { message: string; data: string } };
      if (body.error) throw new Error(`${method}: ${body.error.message} ${body.error.data}`);
      return body.result as T;
    };
    const phpProcess = php;
    await waitFor(
      async () => {
        if (phpProcess.child.exitCode !== null) throw new Error(`php exited: ${phpProcess.output()}`);
        return (await api<string>('apiinfo.version', {}).catch(() => undefined)) !== undefined;
      },
      { what: 'Zabbix API' },
    );
    session.auth = await api<string>('user.login', { username: 'Admin', password: 'zabbix' });
    return { serverPort, apiUrl, api, serverOutput: () => started.output(), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
