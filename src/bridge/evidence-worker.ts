/** A worker thread of the evidence pool: gathers one notification's evidence per task (see evidence-pool.ts). */
import { gatherInWorker } from './evidence-pool';
import { serveWorkerTasks } from './worker-pool';

serveWorkerTasks(gatherInWorker);
