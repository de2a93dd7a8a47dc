/** A worker thread for the render benchmark: draws, writes and tabulates one graph per task, as an evidence worker does. */
import { renderGraph } from '../../src/bridge/render-task';
import { serveWorkerTasks } from '../../src/bridge/worker-pool';

serveWorkerTasks(renderGraph);
