/**
 * A delivery worker for tests: the first attempt at each message ends its thread, as a crash during
 * the attempt would; the next is the real worker's. A file in the temporary directory remembers the
 * crash across threads (not process.env: jest gives each test file its own, which workers do not see).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { attemptDelivery, type DeliveryTask } from '../../src/bridge/delivery-pool';
import { serveWorkerTasks } from '../../src/bridge/worker-pool';

serveWorkerTasks(async (task: DeliveryTask) => {
  const crashed = path.join(os.tmpdir(), `vigil-test-crashed-${task.message.id}`);
  if (!fs.existsSync(crashed)) {
    fs.writeFileSync(crashed, '');
    process.exit(1);
  }
  fs.rmSync(crashed);
  return attemptDelivery(task);
});
