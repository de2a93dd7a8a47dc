import { Registry } from 'prom-client';
import { errorMessage } from '../common/errors';
import { formatFamilies, type ExpositionFormat } from '../common/exposition';
import { startServiceServer } from '../common/http-server';
import { componentLogger } from '../common/logger';
import { processFamilies } from '../common/process-metrics';
import type { RunningService } from '../common/service';
import type { ExporterConfig } from '../config/exporter';
import { CollectorRegistry, type Collector, type ScrapeLogger } from './collector';
import { COLLECTORS } from './collectors';
import { createCollectors } from './descriptor';
import { realHost, type Host } from './host';
import { readInventory, type Inventory } from './inventory';
import { releaseStartupPages } from './startup-pages';

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

/** Renders one scrape of the host metrics (with the process' own on /metrics, not in tests). */
export class HostMetrics {
  constructor(readonly registry: CollectorRegistry) {}

  async render(format: ExpositionFormat, { withProcess = false } = {}): Promise<string> {
    const host = await this.registry.scrape();
    return formatFamilies(withProcess ? [...host, ...processFamilies()] : host, format);
  }
}

export function createHostMetrics(config: ExporterConfig, deps: ExporterDeps = {}): HostMetrics {
  const logger = deps.logger ?? componentLogger('exporter');
  const collectors = buildCollectors(config, { ...deps, logger });
  return new HostMetrics(new CollectorRegistry(collectors, { timeoutMs: config.collector_timeout, logger }));
}

/** Time for the first scrape's answer to be compressed and sent before its pages are released. */
const FIRST_SCRAPE_SETTLE_MS = 1000;

/** `vigil exporter`: host metrics under node_exporter's names on /metrics. */
export async function startExporter(
  config: ExporterConfig,
  deps: ExporterDeps = {},
): Promise<RunningService> {
  const hostMetrics = createHostMetrics(config, deps);
  const { collectors } = hostMetrics.registry;
  // Background collectors (a cache to prime, files to follow) start before the first scrape.
  await Promise.all(collectors.map((collector) => collector.start?.()));
  // The process' own metrics are node_exporter's process_* set, rendered with the host's
  // (processFamilies); this registry holds only what the HTTP server counts.
  const registry = new Registry();
  const stopCollectors = async () => {
    await Promise.all(collectors.map((collector) => collector.close?.()));
  };
  const log = componentLogger('exporter');
  // Once started, and once the first scrape has compiled and run the code of a scrape: what only
  // those used of the binary's pages leaves the resident set (see releaseStartupPages).
  // A release in progress is waited for on close, and none starts after: the exporter stops
  // with nothing of its own still running (a test's process may end right after).
  let releasing: Promise<void> = Promise.resolve();
  let closed = false;
  const releasePages = () => {
    if (process.platform !== 'linux' || closed) return;
    releasing = releaseStartupPages().then(
      (bytes) => log.debug({ bytes }, 'start-up pages released'),
      (err: unknown) => log.warn({ err: errorMessage(err) }, 'releasing start-up pages failed'),
    );
  };
  let settleTimer: NodeJS.Timeout | undefined;
  let scraped = false;
  const server = await startServiceServer({
    service: 'exporter',
    listen: config.listen,
    registry,
    metrics: async (format) => {
      const text = await hostMetrics.render(format, { withProcess: true });
      if (!scraped) settleTimer = setTimeout(releasePages, FIRST_SCRAPE_SETTLE_MS).unref();
      scraped = true;
      return text;
    },
  }).catch(async (err: unknown) => {
    await stopCollectors();
    throw err;
  });
  log.info({ collectors: collectors.map((collector) => collector.name) }, 'collectors enabled');
  releasePages();
  return {
    name: 'exporter',
    url: server.url,
    close: async () => {
      closed = true;
      clearTimeout(settleTimer);
      await server.close();
      await Promise.all([stopCollectors(), releasing]);
    },
  };
}
