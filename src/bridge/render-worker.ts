/** A worker thread of the render pool: draws and rasterises one chart per task (see render-pool.ts). */
import { drawChart } from './render/png';
import { serveWorkerTasks } from './worker-pool';

serveWorkerTasks(drawChart);
