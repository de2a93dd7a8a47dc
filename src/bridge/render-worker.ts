/** A worker thread of the render pool: draws, writes and tabulates one graph per task (see render-pool.ts). */
import { renderGraph } from './render-task';
import { serveWorkerTasks } from './worker-pool';

serveWorkerTasks(renderGraph);
