import fs from 'node:fs';
import { Gauge, type Registry } from 'prom-client';
import { formatFamilies, type ExpositionFormat } from '../common/exposition';
import { startServiceServer } from '../common/http-server';
import { componentLogger } from '../common/logger';
import { selfMetricsRegistry } from '../common/self-metrics';
import type { RunningService } from '../common/service';
import type { ExporterConfig } from '../config/exporter';
import { CollectorRegistry, type Collector, type ScrapeLogger } from './collector';
import { COLLECTORS } from './collectors';
import { createCollectors } from './descriptor';
import { realHost, type Host } from './host';
import { readInventory, type Inventory } from './inventory';

export interface ExporterDeps {
  host?: Host;
  inventory?: () => Promise<Inventory>;
  logger?: ScrapeLogger;
  platform?: NodeJS.Platform;
}

/**
 * The enabled collectors that exist on this platform, in the order of COLLECTORS. A bad
 * `exporter.collectors` entry fails here with its key path (`source` names the file).
 */
export function buildCollectors(
  config: ExporterConfig,
  deps: ExporterDeps = {},
  source?: string,
): Collector[] {
  return createCollectors(
    COLLECTORS,
    {
      host: deps.host ?? realHost(config.paths),
      platform: deps.platform ?? process.platform,
      config,
      inventory: deps.inventory ?? readInventory,
      logger: deps.logger,
    },
    source,
  );
}

/** Renders one scrape of the host metrics. */
export class HostMetrics {
  constructor(readonly registry: CollectorRegistry) {}

  async render(format: ExpositionFormat): Promise<string> {
    return formatFamilies(await this.registry.scrape(), format);
  }
}

export function createHostMetrics(config: ExporterConfig, deps: ExporterDeps = {}): HostMetrics {
  const logger = deps.logger ?? componentLogger('exporter');
  const collectors = buildCollectors(config, { ...deps, logger });
  return new HostMetrics(new CollectorRegistry(collectors, { timeoutMs: config.collector_timeout, logger }));
}

/** `vigil exporter`: host metrics under node_exporter's names on /metrics. */
export async function startExporter(
  config: ExporterConfig,
  deps: ExporterDeps = {},
): Promise<RunningService> {
  const hostMetrics = createHostMetrics(config, deps);
  const { collectors } = hostMetrics.registry;
  // Background collectors (a cache to prime, files to follow) start before the first scrape.
  await Promise.all(collectors.map((collector) => collector.start?.()));
  const registry = selfMetricsRegistry();
  if (process.platform === 'linux') registerAddressSpaceLimit(registry);
  const stopCollectors = async () => {
    await Promise.all(collectors.map((collector) => collector.close?.()));
  };
  const server = await startServiceServer({
    service: 'exporter',
    listen: config.listen,
    registry,
    metrics: (format) => hostMetrics.render(format),
  }).catch(async (err: unknown) => {
    await stopCollectors();
    throw err;
  });
  componentLogger('exporter').info(
    { collectors: collectors.map((collector) => collector.name) },
    'collectors enabled',
  );
  return {
    name: 'exporter',
    url: server.url,
    close: async () => {
      await server.close();
      await stopCollectors();
    },
  };
}

/**
 * process_virtual_memory_max_bytes, which node_exporter's Go client exports and "Node Exporter
 * Full" graphs, but prom-client does not: the RLIMIT_AS soft limit (2^64-1 when unlimited).
 */
function registerAddressSpaceLimit(registry: Registry): void {
  new Gauge({
    name: 'process_virtual_memory_max_bytes',
    help: 'Maximum amount of virtual memory available in bytes.',
    registers: [registry],
    collect() {
      const match = /^Max address space\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'latin1'));
      if (match) this.set(match[1] === 'unlimited' ? 2 ** 64 - 1 : Number(match[1]));
    },
  });
}
