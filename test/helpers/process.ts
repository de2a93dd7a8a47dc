import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor, WAIT_TIMEOUT_MS } from './wait';

export interface StartedProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** SIGTERM (or the given signal) and wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs a long-lived program with its output captured, for tests that start real servers. */
export function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv = {}): StartedProcess {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Waits until GET url answers 200 (or the process exits, which fails with its output). */
export async function waitForHttp(
  url: string,
  proc?: StartedProcess,
  timeoutMs = WAIT_TIMEOUT_MS,
): Promise<void> {
  await waitFor(
    async () => {
      if (proc && proc.child.exitCode !== null) {
        throw new Error(`process exited with ${proc.child.exitCode}: ${proc.output().slice(-2000)}`);
      }
      const response = await fetch(url).catch(() => undefined);
      return response?.ok === true;
    },
    { timeoutMs, what: url },
  );
}
