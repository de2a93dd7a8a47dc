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
  // The event-loop delay histogram samples every 10 ms by default: about 1% of a core on an idle
  // exporter. Every 100 ms still shows lag that matters and costs a fifth of that.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  for (const name of TOTAL_NAMED_GAUGES) registry.removeSingleMetric(name);
  return registry;
}
