import type { Collector } from '../collector';
import type { MetricSink } from '../exposition';
import { sysPath, type Host } from '../host';
import { defineCollector } from '../descriptor';

/** The system clock, time zone and (on Linux) clock sources. */
export class TimeCollector implements Collector {
  readonly name = 'time';

  constructor(private readonly host: Host) {}

  collect(sink: MetricSink): void {
    sink.gauge('node_time_seconds', 'System time in seconds since epoch (1970).').add(this.host.now() / 1000);
    const zone = this.host.timeZone();
    sink
      .gauge('node_time_zone_offset_seconds', 'System time zone offset in seconds.', ['time_zone'])
      .add(zone.offsetSeconds, zone.name);
    this.clockSources(sink);
  }

  private clockSources(sink: MetricSink): void {
    const root = sysPath(this.host, 'devices', 'system', 'clocksource');
    let devices: string[];
    try {
      devices = this.host.listDirs(root).filter((name) => /^clocksource\d+$/.test(name));
    } catch {
      return; // not Linux, or no sysfs: the clock itself is still reported
    }
    const available = sink.gauge(
      'node_time_clocksource_available_info',
      "Available clocksources read from '/sys/devices/system/clocksource'.",
      ['clocksource', 'device'],
    );
    const current = sink.gauge(
      'node_time_clocksource_current_info',
      "Current clocksource read from '/sys/devices/system/clocksource'.",
      ['clocksource', 'device'],
    );
    for (const name of devices) {
      const device = name.slice('clocksource'.length);
      // A clocksource device keeps its name for as long as it exists: its files are kept open.
      const read = (file: string): string[] =>
        this.host.readKept(`${root}/${name}/${file}`).trim().split(/\s+/).filter(Boolean);
      for (const source of read('available_clocksource')) available.add(1, source, device);
      for (const source of read('current_clocksource')) current.add(1, source, device);
    }
  }
}

export const time = defineCollector({
  name: 'time',
  enabledByDefault: true,
  settings: {},
  create: (_, { host }) => new TimeCollector(host),
});
