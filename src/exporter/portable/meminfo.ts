import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { memoryFamily } from '../families';
import { systeminformation } from './si';

/** Memory under node_exporter's macOS names (node_memory_total_bytes, ...), from systeminformation. */
export class PortableMeminfoCollector implements Collector {
  readonly name = 'meminfo';

  async collect(sink: MetricSink): Promise<void> {
    const mem = await (await systeminformation()).mem();
    const fields: Array<[string, number]> = [
      ['total_bytes', mem.total],
      ['free_bytes', mem.free],
      ['active_bytes', mem.active],
      ['available_bytes', mem.available],
      ['swap_total_bytes', mem.swaptotal],
      ['swap_used_bytes', mem.swapused],
    ];
    for (const [field, value] of fields) sink.declared(memoryFamily(field)).add(value);
  }
}
