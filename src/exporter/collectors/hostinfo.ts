import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import type { Inventory } from '../inventory';
import { defineCollector } from '../descriptor';

/** vigil_host_info: the machine's inventory as labels of a constant 1. */
export class HostinfoCollector implements Collector {
  readonly name = 'hostinfo';
  private inventory?: Promise<Inventory>;
  private failedAt = -Infinity;

  /**
   * `load` runs once. After a failure it is tried again no sooner than `retryMs` later, since it
   * spawns processes and a scrape must not.
   */
  constructor(
    private readonly load: () => Promise<Inventory>,
    private readonly retryMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The inventory spawns helper processes: read it when the exporter starts, not in the first scrape. */
  start(): void {
    this.loadOnce().catch(() => undefined);
  }

  async collect(sink: MetricSink): Promise<void> {
    const inventory = await this.loadOnce();
    const known = (value: number | undefined): string => (value === undefined ? '' : String(value));
    sink
      .gauge(
        'vigil_host_info',
        'Host inventory: hostname, CPU model, logical and physical cores, MHz, L2 cache, memory, architecture; value is always 1.',
        [
          'hostname',
          'cpu_model',
          'cpu_cores',
          'cpu_physical_cores',
          'cpu_mhz',
          'l2_cache_bytes',
          'memory_bytes',
          'architecture',
        ],
      )
      .add(
        1,
        inventory.hostname,
        inventory.cpuModel,
        String(inventory.cpuCores),
        String(inventory.cpuPhysicalCores),
        known(inventory.cpuMhz),
        known(inventory.l2CacheBytes),
        String(inventory.memoryBytes),
        inventory.architecture,
      );
  }

  private loadOnce(): Promise<Inventory> {
    if (!this.inventory && this.now() - this.failedAt >= this.retryMs) {
      this.inventory = this.load().catch((err: unknown) => {
        this.failedAt = this.now();
        this.inventory = undefined;
        throw err;
      });
    }
    return this.inventory ?? Promise.reject(new Error('host inventory unavailable; retrying later'));
  }
}

export const hostinfo = defineCollector({
  name: 'hostinfo',
  enabledByDefault: true,
  settings: {},
  create: (_, { inventory }) => new HostinfoCollector(inventory),
});
