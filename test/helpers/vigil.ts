import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { freePort } from './net';
import { startProcess, waitForHttp, type StartedProcess } from './process';

/** The built CLI; `npm test` builds it first (pretest). */
export const VIGIL_CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `vigil <args>` to completion (for --check-config, backtest, check). */
export function runVigil(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): RunResult {
  const result = spawnSync(process.execPath, [VIGIL_CLI, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    input,
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface StartedVigil extends StartedProcess {
  url: string;
  port: number;
}

/**
 * Starts `vigil <service> --listen 127.0.0.1:<port> <args>` and waits until it is ready; the port
 * is a free one unless given (when a peer must know it before the service starts).
 */
export async function startVigil(
  service: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
  port?: number,
): Promise<StartedVigil> {
  port ??= await freePort();
  const proc = startProcess(
    process.execPath,
    [VIGIL_CLI, service, '--listen', `127.0.0.1:${port}`, ...args],
    env,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc);
  return { ...proc, url, port };
}
