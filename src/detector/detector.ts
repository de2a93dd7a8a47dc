import type { Registry } from 'prom-client';
import { errorMessage } from '../common/errors';
import { cachedExposition } from '../common/exposition';

import { startServiceServer, type ServiceServer } from '../common/http-server';
import { componentLogger, type Logger } from '../common/logger';
import { PrometheusClient } from '../common/prometheus-client';
import { selfMetricsRegistry } from '../common/self-metrics';
import type { RunningService } from '../common/service';
import { redactUrl } from '../common/url';
import type { DetectorConfig } from '../config/detector';
import { DetectorEngine, engineMetrics, type RangeSource, type RuleState } from './engine';
import { loadSnapshot, saveSnapshot } from './snapshot';

export interface DetectorDeps {
  /** Where range queries go; a PrometheusClient on detector.prometheus by default. */
  source?: RangeSource;
}

export interface RunningDetector extends RunningService {
  engine: DetectorEngine;
}

/** `vigil detector`: anomaly scores of the configured rules on /metrics (default :9111). */
export async function startDetector(
  config: DetectorConfig,
  deps: DetectorDeps = {},
): Promise<RunningDetector> {
  const logger = componentLogger('detector');
  const registry = selfMetricsRegistry();
  const engine = new DetectorEngine({
    config,
    source: deps.source ?? new PrometheusClient(config.prometheus),
    metrics: engineMetrics(registry),
    logger,
  });
  if (config.state_file) loadSnapshot(config.state_file, engine.rules, logger);
  const snapshots = periodicSnapshots(engine, config, logger);
  const server = await serveDetector(engine, registry, config.listen);

  const cycles = scheduleRules(engine, config.lag);
  logger.info(
    {
      rules: engine.rules.map((r) => r.rule.name),
      prometheus: redactUrl(config.prometheus.url),
      shard: `${config.shard.index}/${config.shard.count}`,
      shard_label: config.shard_label,
    },
    'detector started',
  );

  return {
    name: 'detector',
    url: server.url,
    engine,
    close: async () => {
      const stopped = cycles.stop();
      await server.close();
      await stopped;
      await snapshots.close();
    },
  };
}

/** The detector's HTTP server: its outputs and self-metrics on /metrics, ready once every rule ran. */
export function serveDetector(
  engine: DetectorEngine,
  registry: Registry,
  listen: string,
): Promise<ServiceServer> {
  // Rendered once per change (a rule's cycle), however many scrapes come in between.
  const outputs = cachedExposition(
    () => engine.cycles,
    (reusable) => engine.renderOutputs(reusable),
  );
  return startServiceServer({
    service: 'detector',
    listen,
    registry,
    isReady: () => engine.ready,
    // Gauges only, which read the same in both formats; the server appends `# EOF` for OpenMetrics.
    metrics: async () => outputs(),
  });
}

/**
 * Each rule runs every step, on its own: a slow rule does not hold up the others, and a cycle never
 * overlaps the previous one of the same rule. `stop()` starts no more and waits for those running.
 */
function scheduleRules(engine: DetectorEngine, lagMs: number): { stop(): Promise<void> } {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const schedule = (state: RuleState) => {
    const cycle = engine.runRule(state).finally(() => {
      running.delete(cycle);
      if (stopped) return;
      const step = state.settings.stepMs;
      // Next cycle just after the next step boundary has passed the lag.
      const wait = step - ((Date.now() - lagMs) % step) + 50;
      const timer = setTimeout(() => {
        timers.delete(timer);
        schedule(state);
      }, wait);
      timers.add(timer);
    });
    running.add(cycle);
  };
  for (const state of engine.rules) schedule(state);
  return {
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.allSettled(running);
    },
  };
}

/**
 * Saves the per-series state to `detector.state_file` (when set) every snapshot_interval, and once
 * more on close, after the last cycle.
 */
function periodicSnapshots(
  engine: DetectorEngine,
  config: DetectorConfig,
  logger: Logger,
): { close(): Promise<void> } {
  const file = config.state_file;
  if (!file) return { close: async () => undefined };
  // One save at a time: a slow disk must not let the timer start a second write of the same file.
  let saving: Promise<void> | undefined;
  const save = (): Promise<void> => {
    saving ??= saveSnapshot(file, engine.rules)
      .catch((err) => {
        logger.error({ file, err: errorMessage(err) }, 'writing the state snapshot failed');
      })
      .finally(() => {
        saving = undefined;
      });
    return saving;
  };
  const timer = setInterval(() => void save(), config.snapshot_interval);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      // The final save must see the last cycle's state, not join a save that started before it.
      await saving;
      await save();
    },
  };
}
