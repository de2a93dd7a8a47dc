import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import type { Inventory } from '../inventory';

/** vigil_host_info: the machine's inventory as labels of a constant 1. */
export class HostinfoCollector implements Collector {
  readonly name = 'hostinfo';
  private inventory?: Promise<Inventory>;

  /** `load` runs once; a failure is retried on the next scrape. */
  constructor(private readonly load: () => Promise<Inventory>) {}

  /** Starts reading the inventory before the first scrape needs it. */
  prime(): void {
    this.inventory ??= this.load();
    this.inventory.catch(() => undefined);
  }

  async collect(sink: MetricSink): Promise<void> {
    this.inventory ??= this.load();
    let inventory: Inventory;
    try {
      inventory = await this.inventory;
    } catch (err) {
      this.inventory = undefined;
      throw err;
    }
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
}
