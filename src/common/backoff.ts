/**
 * Exponential backoff with jitter, the one formula for every retry in vigil: retry `attempt` (0 for
 * the first retry) waits between half and all of min(max, initial x 2^attempt). The fixed half keeps
 * a floor under the wait; the random half spreads replicas and channels so they don't retry in lockstep.
 */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}
