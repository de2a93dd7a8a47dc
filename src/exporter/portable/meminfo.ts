import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { systeminformation } from './si';

/** Memory under node_exporter's macOS names (node_memory_total_bytes, ...), from systeminformation. */
export class PortableMeminfoCollector implements Collector {
  readonly name = 'meminfo';

  async collect(sink: MetricSink): Promise<void> {
    const mem = await (await systeminformation()).mem();
    const gauge = (name: string, help: string, value: number) => sink.gauge(name, help).add(value);
    gauge('node_memory_total_bytes', 'Memory information field total_bytes.', mem.total);
    gauge('node_memory_free_bytes', 'Memory information field free_bytes.', mem.free);
    gauge('node_memory_active_bytes', 'Memory information field active_bytes.', mem.active);
    gauge('node_memory_available_bytes', 'Memory information field available_bytes.', mem.available);
    gauge('node_memory_swap_total_bytes', 'Memory information field swap_total_bytes.', mem.swaptotal);
    gauge('node_memory_swap_used_bytes', 'Memory information field swap_used_bytes.', mem.swapused);
  }
}
