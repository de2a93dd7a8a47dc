import type { Collector } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import { procPath, readNumber, type Host } from '../host';

/** node_entropy_available_bits and node_entropy_pool_size_bits from /proc/sys/kernel/random. */
export class EntropyCollector implements Collector {
  readonly name = 'entropy';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    const read = (name: string) =>
      readNumber(this.host, procPath(this.host, 'sys', 'kernel', 'random', name));
    sink.gauge('node_entropy_available_bits', 'Bits of available entropy.').add(read('entropy_avail'));
    sink.gauge('node_entropy_pool_size_bits', 'Bits of entropy pool.').add(read('poolsize'));
  }
}

export const entropy = defineCollector({
  name: 'entropy',
  enabledByDefault: true,
  settings: {},
  create: (_, { host, platform }) => (platform === 'linux' ? new EntropyCollector(host) : undefined),
});
