/** A worker for the pool's tests: echoes its input, names its thread or its priority, or exits (a crash) or throws when told to. */
import os from 'node:os';
import { threadId } from 'node:worker_threads';
import { serveWorkerTasks } from '../../src/bridge/worker-pool';

// Before anything of this module has run: the pool lowers a thread's priority before loading it.
const priorityAtLoad = os.getPriority();

serveWorkerTasks(async (input: string) => {
  if (input === 'exit') process.exit(3);
  if (input === 'throw') throw new Error('cannot draw this');
  if (input.startsWith('slow ')) await new Promise((resolve) => setTimeout(resolve, 300));
  if (input === 'thread') return `thread ${threadId}`;
  if (input === 'priority') return `nice ${priorityAtLoad}, event loop's ${os.getPriority(process.pid)}`;
  return `done: ${input}`;
});
