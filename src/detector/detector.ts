import { errorMessage } from '../common/errors';
import { startServiceServer } from '../common/http-server';
import { componentLogger } from '../common/logger';
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
  const stateFile = config.state_file;
  if (stateFile) loadSnapshot(stateFile, engine.rules, logger);
  // One save at a time: a slow disk must not let the timer start a second write of the same file.
  let saving: Promise<void> | undefined;
  const snapshot = async (): Promise<void> => {
    if (!stateFile) return;
    if (saving) return saving;
    saving = saveSnapshot(stateFile, engine.rules)
      .catch((err) => {
        logger.error({ file: stateFile, err: errorMessage(err) }, 'writing the state snapshot failed');
      })
      .finally(() => {
        saving = undefined;
      });
    return saving;
  };
  const snapshotTimer = stateFile ? setInterval(() => void snapshot(), config.snapshot_interval) : undefined;
  snapshotTimer?.unref();

  const server = await startServiceServer({
    service: 'detector',
    listen: config.listen,
    registry,
    isReady: () => engine.ready,
    // Gauges only, which read the same in both formats; the server appends `# EOF` for OpenMetrics.
    metrics: async () => engine.renderOutputs(),
  });

  // Each rule runs every step, on its own: a slow rule does not hold up the others, and a
  // cycle never overlaps the previous one of the same rule.
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const schedule = (state: RuleState) => {
    const cycle = engine.runRule(state).finally(() => {
      running.delete(cycle);
      if (stopped) return;
      const step = state.settings.stepMs;
      // Next cycle just after the next step boundary has passed the lag.
      const wait = step - ((Date.now() - config.lag) % step) + 50;
      const timer = setTimeout(() => {
        timers.delete(timer);
        schedule(state);
      }, wait);
      timers.add(timer);
    });
    running.add(cycle);
  };
  for (const state of engine.rules) schedule(state);
  logger.info(
    {
      rules: engine.rules.map((r) => r.rule.name),
      prometheus: redactUrl(config.prometheus.url),
      shard: `${config.shard.index}/${config.shard.count}`,
    },
    'detector started',
  );

  return {
    name: 'detector',
    url: server.url,
    engine,
    close: async () => {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      clearInterval(snapshotTimer);
      await server.close();
      await Promise.allSettled(running);
      // The final save must see the last cycle's state, not join a save that started before it.
      await saving;
      await snapshot();
    },
  };
}
