import os from 'node:os';

/**
 * Worker threads for CPU work beside an event loop that must stay responsive: one core is left to
 * the event loop (and its garbage collector), the rest are used up to `max` (each thread holds its
 * own heap), and there is always at least one.
 */
export function threadsBesideEventLoop(max: number, cores: number = os.availableParallelism()): number {
  return Math.max(1, Math.min(max, cores - 1));
}
