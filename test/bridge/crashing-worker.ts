/** A worker for the pool's tests: echoes its input, names its thread, or exits (a crash) or throws when told to. */
import { threadId } from 'node:worker_threads';
import { serveWorkerTasks } from '../../src/bridge/worker-pool';

serveWorkerTasks(async (input: string) => {
  if (input === 'exit') process.exit(3);
  if (input === 'throw') throw new Error('cannot draw this');
  if (input.startsWith('slow ')) await new Promise((resolve) => setTimeout(resolve, 300));
  if (input === 'thread') return `thread ${threadId}`;
  return `done: ${input}`;
});
