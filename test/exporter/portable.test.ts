import { exporterSchema } from '../../src/config/exporter';
import { MetricSink } from '../../src/exporter/exposition';
import { buildCollectors } from '../../src/exporter/exporter';
import { PortableStatCollector } from '../../src/exporter/portable/stat';
import { fixtureHost, FIXTURE_INVENTORY } from './fixture-host';

jest.mock('systeminformation', () => ({
  mem: async () => ({ total: 8e9, free: 1e9, active: 5e9, available: 3e9, swaptotal: 2e9, swapused: 1e8 }),
  fsSize: async () => [
    { fs: '/dev/disk3s1', type: 'apfs', size: 5e11, used: 2e11, available: 2.9e11, mount: '/', rw: true },
    { fs: 'devfs', type: 'devfs', size: 2e5, used: 2e5, available: 0, mount: '/dev', rw: true },
  ],
  networkStats: async () => [
    { iface: 'en0', rx_bytes: 10, rx_errors: 0, rx_dropped: 1, tx_bytes: 20, tx_errors: 0, tx_dropped: 0 },
  ],
}));

const names = async (platform: NodeJS.Platform) => {
  const collectors = buildCollectors(exporterSchema.parse({}), {
    host: fixtureHost(),
    inventory: async () => FIXTURE_INVENTORY,
    platform,
  });
  const sink = new MetricSink();
  for (const collector of collectors) await collector.collect(sink);
  return { collectors: collectors.map((c) => c.name), sink };
};

describe('macOS and Windows collectors', () => {
  it('replace the Linux ones and leave out what has no source there', async () => {
    const { collectors, sink } = await names('darwin');
    expect(collectors).toEqual([
      'cpu',
      'meminfo',
      'filesystem',
      'netdev',
      'loadavg',
      'stat',
      'uname',
      'time',
      'textfile',
      'hostinfo',
    ]);
    const families = new Map(sink.families.map((f) => [f.name, f]));
    expect([...new Set(families.get('node_cpu_seconds_total')!.samples.map((s) => s.labels.mode))]).toEqual([
      'user',
      'nice',
      'system',
      'idle',
    ]);
    expect(families.get('node_memory_total_bytes')!.samples[0].value).toBe(8e9);
    // devfs is excluded by the same fs-types pattern as on Linux.
    expect(families.get('node_filesystem_size_bytes')!.samples.map((s) => s.labels.mountpoint)).toEqual([
      '/',
    ]);
    expect(families.get('node_filesystem_free_bytes')!.samples[0].value).toBe(3e11);
    expect(families.get('node_network_receive_drop_total')!.samples[0]).toEqual({
      labels: { device: 'en0' },
      value: 1,
    });
    expect(families.has('node_disk_read_bytes_total')).toBe(false);
  });

  it('Windows has no load average', async () => {
    const { collectors } = await names('win32');
    expect(collectors).not.toContain('loadavg');
    expect(collectors).toContain('cpu');
  });

  it('report one boot time however the clock moves between scrapes', async () => {
    let now = 1_700_000_000_400;
    const collector = new PortableStatCollector({ ...fixtureHost(), now: () => now });
    const bootTime = async () => {
      const sink = new MetricSink();
      await collector.collect(sink);
      return sink.families[0].samples[0].value;
    };
    const first = await bootTime();
    now += 1000;
    expect(await bootTime()).toBe(first);
  });
});
