import { NoDataError, type Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { procPath, type Host } from '../host';
import { parsePressure } from '../procfs/pressure';
import { defineCollector } from '../descriptor';

const RESOURCES = [
  { resource: 'cpu', waiting: 'processes have waited for CPU time', stalled: 'CPU congestion' },
  { resource: 'io', waiting: 'processes have waited due to IO congestion', stalled: 'IO congestion' },
  { resource: 'memory', waiting: 'processes have waited for memory', stalled: 'memory congestion' },
] as const;

/** Pressure stall information (PSI, kernel 4.20+) from /proc/pressure/{cpu,io,memory}. */
export class PressureCollector implements Collector {
  readonly name = 'pressure';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    for (const { resource, waiting, stalled } of RESOURCES) {
      let text: string;
      try {
        text = this.host.readText(procPath(this.host, 'pressure', resource));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EOPNOTSUPP') {
          throw new NoDataError(
            'pressure information is unavailable (kernel >= 4.20 with CONFIG_PSI and psi=1)',
          );
        }
        throw err;
      }
      const stats = parsePressure(text);
      sink
        .counter(`node_pressure_${resource}_waiting_seconds_total`, `Total time in seconds that ${waiting}`)
        .add(stats.someSeconds);
      // The kernel reports `full` for cpu since 5.13, always as 0 outside cgroups before 6.x.
      if (stats.fullSeconds !== undefined) {
        sink
          .counter(
            `node_pressure_${resource}_stalled_seconds_total`,
            `Total time in seconds no process could make progress due to ${stalled}`,
          )
          .add(stats.fullSeconds);
      }
    }
  }
}

export const pressure = defineCollector({
  name: 'pressure',
  enabledByDefault: true,
  settings: {},
  create: (_, { host, platform }) => (platform === 'linux' ? new PressureCollector(host) : undefined),
});
