import { componentLogger } from './logger';
import { errorMessage } from './errors';

type Closer = () => Promise<void> | void;

const closers: Array<{ name: string; close: Closer }> = [];
let installed = false;
let shuttingDown = false;
const log = componentLogger('shutdown');

/**
 * Registers something to close on SIGTERM/SIGINT. Closers run in reverse order of
 * registration (servers stop accepting before the state they write to is flushed).
 */
export function onShutdown(name: string, close: Closer): void {
  closers.push({ name, close });
  if (installed) return;
  installed = true;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      void shutdown(signal);
    });
  }
}

export async function shutdown(reason: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info({ reason }, 'shutting down');
  // A hung closer must not keep the process alive forever: systemd and Kubernetes would SIGKILL it.
  const deadline = setTimeout(() => {
    log.error('shutdown took longer than 10s, exiting');
    process.exit(1);
  }, 10_000);
  deadline.unref();
  for (const { name, close } of closers.reverse()) {
    try {
      await close();
    } catch (err) {
      log.warn({ closer: name, err: errorMessage(err) }, 'error while closing');
    }
  }
  process.exit(0);
}
