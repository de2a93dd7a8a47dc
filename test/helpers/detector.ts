import type { DetectorEngine } from '../../src/detector/engine';

/** One cycle of every rule, concurrently, as the detector's timers run them. */
export async function runEveryRule(engine: DetectorEngine): Promise<void> {
  await Promise.all(engine.rules.map((rule) => engine.runRule(rule)));
}
