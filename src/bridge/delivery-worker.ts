/** A worker thread of the delivery pool: makes attempts of off-thread channels (see delivery-pool.ts). */
import { attemptDelivery } from './delivery-pool';
import { serveWorkerTasks, yieldCpuToEventLoop } from './worker-pool';

// Mail may wait; acknowledgements may not.
yieldCpuToEventLoop();

serveWorkerTasks(attemptDelivery);
