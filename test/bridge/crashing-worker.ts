/** A worker for the pool's tests: echoes its input, or exits (a crash) or throws when told to. */
import { serveWorkerTasks } from '../../src/bridge/worker-pool';

serveWorkerTasks(async (input: string) => {
  if (input === 'exit') process.exit(3);
  if (input === 'throw') throw new Error('cannot draw this');
  if (input.startsWith('slow ')) await new Promise((resolve) => setTimeout(resolve, 300));
  return `done: ${input}`;
});
