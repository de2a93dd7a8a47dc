import fs from 'node:fs';
import { Gauge, type Registry } from 'prom-client';
import { formatFamilies, type ExpositionFormat } from '../common/exposition';
import { startServiceServer } from '../common/http-server';
import { componentLogger } from '../common/logger';
import { selfMetricsRegistry } from '../common/self-metrics';
import type { RunningService } from '../common/service';
import { EXPORTER_DEFAULTS, optionalPattern, type ExporterConfig } from '../config/exporter';
import { CollectorRegistry, type Collector, type ScrapeLogger } from './collector';
import { CpuCollector } from './collectors/cpu';
import { DiskstatsCollector } from './collectors/diskstats';
import { FilesystemCollector } from './collectors/filesystem';
import { HostinfoCollector } from './collectors/hostinfo';
import { LoadavgCollector } from './collectors/loadavg';
import { MeminfoCollector } from './collectors/meminfo';
import { NetclassCollector } from './collectors/netclass';
import { NetdevCollector } from './collectors/netdev';
import { OsCollector } from './collectors/os';
import { PressureCollector } from './collectors/pressure';
import { StatCollector } from './collectors/stat';
import { TimeCollector } from './collectors/time';
import { UnameCollector } from './collectors/uname';
import { realHost, type Host } from './host';
import { readInventory, type Inventory } from './inventory';
import { portableCollectors } from './portable';

export interface ExporterDeps {
  host?: Host;
  inventory?: () => Promise<Inventory>;
  logger?: ScrapeLogger;
  platform?: NodeJS.Platform;
}

/** The enabled collectors, in the order of the configuration. */
export function buildCollectors(config: ExporterConfig, deps: ExporterDeps = {}): Collector[] {
  const host = deps.host ?? realHost(config.paths);
  const inventory = deps.inventory ?? readInventory;
  const c = config.collectors;
  const platform = deps.platform ?? process.platform;
  const factories: Record<keyof typeof c, (() => Collector) | undefined> = {
    cpu: () => new CpuCollector(host),
    meminfo: () => new MeminfoCollector(host),
    filesystem: () =>
      new FilesystemCollector(host, {
        mountPointsExclude: new RegExp(c.filesystem.mount_points_exclude),
        fsTypesExclude: new RegExp(c.filesystem.fs_types_exclude),
        mountTimeoutMs: c.filesystem.mount_timeout,
        logger: deps.logger,
      }),
    diskstats: () =>
      new DiskstatsCollector(host, {
        deviceInclude: optionalPattern(c.diskstats.device_include),
        deviceExclude: new RegExp(c.diskstats.device_exclude ?? EXPORTER_DEFAULTS.diskDeviceExclude),
        udevDataPath: config.paths.udev_data,
      }),
    netdev: () =>
      new NetdevCollector(host, {
        deviceInclude: optionalPattern(c.netdev.device_include),
        deviceExclude: optionalPattern(c.netdev.device_exclude),
      }),
    netclass: () =>
      new NetclassCollector(host, {
        ignoredDevices: new RegExp(c.netclass.ignored_devices),
        ignoreInvalidSpeed: c.netclass.ignore_invalid_speed,
      }),
    loadavg: () => new LoadavgCollector(host),
    stat: () => new StatCollector(host),
    pressure: () => new PressureCollector(host),
    uname: () => new UnameCollector(host),
    time: () => new TimeCollector(host),
    os: () => new OsCollector(host),
    hostinfo: () => new HostinfoCollector(inventory),
  };
  const available =
    platform === 'linux' ? factories : { ...factories, ...portableCollectors(config, host, platform) };
  const collectors: Collector[] = [];
  for (const name of Object.keys(c) as Array<keyof typeof c>) {
    const make = available[name];
    if (c[name].enabled && make) collectors.push(make());
  }
  return collectors;
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
  for (const collector of collectors) {
    // The inventory spawns helper processes: do it at start, not during the first scrape.
    if (collector instanceof HostinfoCollector) collector.prime();
  }
  return new HostMetrics(new CollectorRegistry(collectors, { timeoutMs: config.collector_timeout, logger }));
}

/** `vigil exporter`: host metrics under node_exporter's names on /metrics. */
export async function startExporter(
  config: ExporterConfig,
  deps: ExporterDeps = {},
): Promise<RunningService> {
  const hostMetrics = createHostMetrics(config, deps);
  const registry = selfMetricsRegistry();
  if (process.platform === 'linux') registerAddressSpaceLimit(registry);
  const server = await startServiceServer({
    service: 'exporter',
    listen: config.listen,
    registry,
    metrics: (format) => hostMetrics.render(format),
  });
  componentLogger('exporter').info(
    { collectors: hostMetrics.registry.collectors.map((collector) => collector.name) },
    'collectors enabled',
  );
  return { name: 'exporter', url: server.url, close: () => server.close() };
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
