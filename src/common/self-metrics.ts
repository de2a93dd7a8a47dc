import { collectDefaultMetrics, Registry } from 'prom-client';

// prom-client's gauges named *_total, which `promtool check metrics` rejects.
const TOTAL_NAMED_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** A registry with the process and Node.js runtime metrics every service exports about itself. */
export function selfMetricsRegistry(): Registry {
  const registry = new Registry();
  // prom-client's default 10 ms event-loop sampling: nodejs_eventloop_lag_* include the sampling
  // interval, so a coarser one (100 ms) would make an idle service report 100 ms of lag.
  collectDefaultMetrics({ register: registry });
  for (const name of TOTAL_NAMED_GAUGES) registry.removeSingleMetric(name);
  return registry;
}
