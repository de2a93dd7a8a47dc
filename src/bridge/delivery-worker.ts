/** A worker thread of the delivery pool: makes attempts of off-thread channels (see delivery-pool.ts). */
import { attemptDelivery } from './delivery-pool';
import { serveWorkerTasks } from './worker-pool';

serveWorkerTasks(attemptDelivery);
