/** A worker thread of the render pool: draws and rasterises one chart per task (see render-pool.ts). */
import os from 'node:os';
import type { ChartSpec } from './render/chart';
import { drawChart } from './render/png';
import { serveWorkerTasks } from './worker-pool';

// Graphs may wait; acknowledgements may not. On Linux a thread's nice value is its own, so this
// lowers the priority of this thread only and the event loop wins the CPU when both want it
// (elsewhere it would lower the whole process, so it is left alone).
if (process.platform === 'linux') os.setPriority(10);

serveWorkerTasks(async (chart: ChartSpec) => drawChart(chart));
