/**
 * A delivery worker for tests: the first attempt at each message ends its thread, as a crash during
 * the attempt would (VIGIL_TEST_CRASH_DIR remembers which messages it has seen); later attempts are
 * the real worker's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { attemptDelivery, type DeliveryTask } from '../../src/bridge/delivery-pool';
import { serveWorkerTasks } from '../../src/bridge/worker-pool';

serveWorkerTasks(async (task: DeliveryTask) => {
  const seen = path.join(process.env.VIGIL_TEST_CRASH_DIR ?? '', task.message.id);
  if (!fs.existsSync(seen)) {
    fs.writeFileSync(seen, '');
    process.exit(1);
  }
  return attemptDelivery(task);
});
