import { NoDataError, type Collector } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import type { Host } from '../host';
import type { ClockState } from '../libc';

const TIME_ERROR = 5;
/** STA_NANO: offset and jitter are in nanoseconds rather than microseconds. */
const STA_NANO = 0x2000;
/** freq, ppsfreq and stabil are scaled parts per million with a 16-bit fraction (adjtimex(2)). */
const PPM16 = 1_000_000 * 65_536;

/** Each node_timex_* metric: name, help, type and its value from adjtimex(2)'s answer. */
const TIMEX_METRICS: ReadonlyArray<{
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  value: (clock: ClockState, divisor: number) => number;
}> = [
  {
    name: 'sync_status',
    help: 'Is clock synchronized to a reliable server (1 = yes, 0 = no).',
    type: 'gauge',
    value: ({ state }) => (state === TIME_ERROR ? 0 : 1),
  },
  {
    name: 'offset_seconds',
    help: 'Time offset in between local system and reference clock.',
    type: 'gauge',
    value: ({ timex }, divisor) => timex.offset / divisor,
  },
  {
    name: 'frequency_adjustment_ratio',
    help: 'Local clock frequency adjustment.',
    type: 'gauge',
    value: ({ timex }) => 1 + timex.freq / PPM16,
  },
  {
    name: 'maxerror_seconds',
    help: 'Maximum error in seconds.',
    type: 'gauge',
    value: ({ timex }) => timex.maxerror / 1e6,
  },
  {
    name: 'estimated_error_seconds',
    help: 'Estimated error in seconds.',
    type: 'gauge',
    value: ({ timex }) => timex.esterror / 1e6,
  },
  {
    name: 'status',
    help: 'Value of the status array bits.',
    type: 'gauge',
    value: ({ timex }) => timex.status,
  },
  {
    name: 'loop_time_constant',
    help: 'Phase-locked loop time constant.',
    type: 'gauge',
    value: ({ timex }) => timex.constant,
  },
  {
    name: 'tick_seconds',
    help: 'Seconds between clock ticks.',
    type: 'gauge',
    value: ({ timex }) => timex.tick / 1e6,
  },
  {
    name: 'pps_frequency_hertz',
    help: 'Pulse per second frequency.',
    type: 'gauge',
    value: ({ timex }) => timex.ppsfreq / PPM16,
  },
  {
    name: 'pps_jitter_seconds',
    help: 'Pulse per second jitter.',
    type: 'gauge',
    value: ({ timex }, divisor) => timex.jitter / divisor,
  },
  {
    name: 'pps_shift_seconds',
    help: 'Pulse per second interval duration.',
    type: 'gauge',
    value: ({ timex }) => timex.shift,
  },
  {
    name: 'pps_stability_hertz',
    help: 'Pulse per second stability, average of recent frequency changes.',
    type: 'gauge',
    value: ({ timex }) => timex.stabil / PPM16,
  },
  {
    name: 'pps_jitter_total',
    help: 'Pulse per second count of jitter limit exceeded events.',
    type: 'counter',
    value: ({ timex }) => timex.jitcnt,
  },
  {
    name: 'pps_calibration_total',
    help: 'Pulse per second count of calibration intervals.',
    type: 'counter',
    value: ({ timex }) => timex.calcnt,
  },
  {
    name: 'pps_error_total',
    help: 'Pulse per second count of calibration errors.',
    type: 'counter',
    value: ({ timex }) => timex.errcnt,
  },
  {
    name: 'pps_stability_exceeded_total',
    help: 'Pulse per second count of stability limit exceeded events.',
    type: 'counter',
    value: ({ timex }) => timex.stbcnt,
  },
  {
    name: 'tai_offset_seconds',
    help: 'International Atomic Time (TAI) offset.',
    type: 'gauge',
    value: ({ timex }) => timex.tai,
  },
];

/** The kernel clock's NTP discipline, node_timex_*, from adjtimex(2) (read only). */
export class TimexCollector implements Collector {
  readonly name = 'timex';

  constructor(private readonly host: Host) {}

  async collect(sink: MetricSink): Promise<void> {
    const clock = await this.host.clock().catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EPERM') throw new NoDataError('adjtimex is not permitted here');
      throw err;
    });
    const divisor = (clock.timex.status & STA_NANO) !== 0 ? 1e9 : 1e6;
    for (const metric of TIMEX_METRICS) {
      sink[metric.type](`node_timex_${metric.name}`, metric.help).add(metric.value(clock, divisor));
    }
  }
}

export const timex = defineCollector({
  name: 'timex',
  enabledByDefault: true,
  settings: {},
  create: (_, { host, platform }) => (platform === 'linux' ? new TimexCollector(host) : undefined),
});
