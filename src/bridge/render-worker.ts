/** A worker thread of the render pool: draws and rasterises one chart per task (see render-pool.ts). */
import type { ChartSpec } from './render/chart';
import { drawChart } from './render/png';
import { serveWorkerTasks } from './worker-pool';

serveWorkerTasks(async (chart: ChartSpec) => drawChart(chart));
