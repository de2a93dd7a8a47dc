import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MetricFamily } from '../../src/common/exposition';
import type { Collector } from '../../src/exporter/collector';
import { NoDataError } from '../../src/exporter/collector';
import { ConntrackCollector } from '../../src/exporter/collectors/conntrack';
import { CpuCollector } from '../../src/exporter/collectors/cpu';
import { DISK_DEVICE_EXCLUDE, DiskstatsCollector } from '../../src/exporter/collectors/diskstats';
import {
  FILESYSTEM_DEFAULTS,
  FilesystemCollector,
  MAX_NETWORK_STATFS,
} from '../../src/exporter/collectors/filesystem';
import { NetdevCollector } from '../../src/exporter/collectors/netdev';
import { PressureCollector } from '../../src/exporter/collectors/pressure';
import { SelinuxCollector } from '../../src/exporter/collectors/selinux';
import { TimexCollector } from '../../src/exporter/collectors/timex';
import { VMSTAT_FIELDS, VmstatCollector } from '../../src/exporter/collectors/vmstat';
import { deviceFilter } from '../../src/exporter/device-filter';
import { MetricSink } from '../../src/exporter/exposition';
import { realHost, type FsStats, type Host } from '../../src/exporter/host';
import { FIXTURES, FIXTURE_PATHS, FIXTURE_TIMEX, fakeStatfs, fixtureHost } from './fixture-host';

async function collect(collector: Collector): Promise<MetricFamily[]> {
  const sink = new MetricSink();
  await collector.collect(sink);
  return sink.families;
}

function series(families: MetricFamily[], name: string): Array<Record<string, string | number>> {
  return (families.find((f) => f.name === name)?.samples ?? []).map((s) => ({ ...s.labels, value: s.value }));
}

const sampleMounts = fs.readFileSync(path.join(FIXTURES, 'samples', 'mounts'), 'latin1');

function hostWithMounts(mounts: string, overrides: Partial<Host> = {}): Host {
  const base = fixtureHost();
  return {
    ...base,
    readText: (file) => (file.endsWith(`${path.sep}1${path.sep}mounts`) ? mounts : base.readText(file)),
    ...overrides,
  };
}

const filesystemOptions = {
  mountPointsExclude: new RegExp(FILESYSTEM_DEFAULTS.mountPointsExclude),
  fsTypesExclude: new RegExp(FILESYSTEM_DEFAULTS.fsTypesExclude),
  mountTimeoutMs: 50,
};

describe('filesystem collector', () => {
  it("applies node_exporter's default exclusions and reports each (device, fstype, mountpoint) once", async () => {
    const families = await collect(new FilesystemCollector(hostWithMounts(sampleMounts), filesystemOptions));
    const mountpoints = series(families, 'node_filesystem_size_bytes').map((s) => s.mountpoint);
    // /sys, /proc, /dev, /run/credentials/..., docker overlays and cgroup2 are excluded; /run is not (upstream default).
    expect(mountpoints).toEqual(['/run', '/', '/boot/efi', '/srv/My Data', '/mnt/nfs']);
    const data = series(families, 'node_filesystem_readonly').find((s) => s.mountpoint === '/srv/My Data');
    expect(data).toEqual({ device: '/dev/sdb1', fstype: 'ext4', mountpoint: '/srv/My Data', value: 1 });
    const root = series(families, 'node_filesystem_avail_bytes').find((s) => s.mountpoint === '/')!;
    expect(root.value).toBe(fakeStatfs('').blocksAvailable * 4096);
  });

  it('reports a mount added, remounted read-only or removed on the next scrape', async () => {
    let mounts = '/dev/vda1 / ext4 rw,relatime 0 0\n';
    const base = fixtureHost();
    const host: Host = {
      ...base,
      readText: (file) => (file.endsWith(`${path.sep}1${path.sep}mounts`) ? mounts : base.readText(file)),
    };
    const collector = new FilesystemCollector(host, filesystemOptions);
    const readonly = async () =>
      series(await collect(collector), 'node_filesystem_readonly').map((s) => `${s.mountpoint} ${s.value}`);
    expect(await readonly()).toEqual(['/ 0']);
    expect(await readonly()).toEqual(['/ 0']);
    mounts += '/dev/vdb1 /srv xfs rw 0 0\n';
    expect(await readonly()).toEqual(['/ 0', '/srv 0']);
    mounts = mounts.replace('xfs rw', 'xfs ro');
    expect(await readonly()).toEqual(['/ 0', '/srv 1']);
    mounts = '/dev/vdb1 /srv xfs ro 0 0\n';
    expect(await readonly()).toEqual(['/srv 1']);
  });

  it('a mount whose statfs hangs is reported with device_error 1, not statfs-ed again until it answers', async () => {
    const calls: string[] = [];
    let answer: ((stats: FsStats) => void) | undefined;
    const host = hostWithMounts(sampleMounts, {
      statfs: (mountPoint) => {
        calls.push(mountPoint);
        // The server is gone for the first call only.
        if (mountPoint.endsWith('/mnt/nfs') && !answer)
          return new Promise<FsStats>((resolve) => (answer = resolve));
        return Promise.resolve(fakeStatfs(mountPoint));
      },
    });
    const collector = new FilesystemCollector(host, filesystemOptions);
    const nfsCalls = () => calls.filter((c) => c.endsWith('/mnt/nfs')).length;

    const first = await collect(collector);
    const nfsError = (families: MetricFamily[]) =>
      series(families, 'node_filesystem_device_error').find((s) => s.mountpoint === '/mnt/nfs')?.value;
    expect(nfsError(first)).toBe(1);
    expect(series(first, 'node_filesystem_size_bytes').some((s) => s.mountpoint === '/mnt/nfs')).toBe(false);
    expect(series(first, 'node_filesystem_size_bytes').some((s) => s.mountpoint === '/')).toBe(true);

    const second = await collect(collector);
    expect(nfsError(second)).toBe(1);
    expect(nfsCalls()).toBe(1);

    answer!(fakeStatfs('nfs'));
    await new Promise((resolve) => setImmediate(resolve));
    const third = await collect(collector);
    expect(nfsError(third)).toBe(0);
    expect(nfsCalls()).toBe(2);
  });

  it('holds at most MAX_NETWORK_STATFS pool threads with hung network mounts, and still statfs-es local ones', async () => {
    const nfsMounts = Array.from({ length: 5 }, (_, i) => `srv:/e${i} /mnt/e${i} nfs4 rw 0 0`).join('\n');
    const mounts = `/dev/sda1 / ext4 rw 0 0\n${nfsMounts}\n`;
    let hung = 0;
    const host = hostWithMounts(mounts, {
      statfs: (mountPoint) => {
        if (mountPoint.includes('/mnt/e')) {
          hung++;
          return new Promise<FsStats>(() => undefined);
        }
        return Promise.resolve(fakeStatfs(mountPoint));
      },
    });
    const collector = new FilesystemCollector(host, filesystemOptions);
    for (let scrape = 0; scrape < 3; scrape++) {
      const families = await collect(collector);
      const errors = series(families, 'node_filesystem_device_error');
      expect(
        errors.filter((s) => String(s.mountpoint).startsWith('/mnt/e')).every((s) => s.value === 1),
      ).toBe(true);
      expect(errors.find((s) => s.mountpoint === '/')?.value).toBe(0);
    }
    expect(hung).toBe(MAX_NETWORK_STATFS);
  });

  it('lets healthy network mounts through the cap one after another', async () => {
    const nfsMounts = Array.from({ length: 6 }, (_, i) => `srv:/e${i} /mnt/e${i} nfs4 rw 0 0`).join('\n');
    const host = hostWithMounts(`${nfsMounts}\n`, {
      statfs: (mountPoint) =>
        new Promise<FsStats>((resolve) => setTimeout(() => resolve(fakeStatfs(mountPoint)), 5)),
    });
    const families = await collect(new FilesystemCollector(host, filesystemOptions));
    expect(series(families, 'node_filesystem_device_error').map((s) => s.value)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('a failing statfs is device_error 1 for that mount only', async () => {
    const host = hostWithMounts(sampleMounts, {
      statfs: async (mountPoint) => {
        if (mountPoint.endsWith('/boot/efi')) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
        return fakeStatfs(mountPoint);
      },
    });
    const families = await collect(new FilesystemCollector(host, filesystemOptions));
    const errors = Object.fromEntries(
      series(families, 'node_filesystem_device_error').map((s) => [s.mountpoint, s.value]),
    );
    expect(errors).toEqual({ '/run': 0, '/': 0, '/boot/efi': 1, '/srv/My Data': 0, '/mnt/nfs': 0 });
  });
});

describe('cpu collector', () => {
  it('keeps counters monotonic when the kernel steps iowait back, and resets after a CPU replug', async () => {
    let text = 'cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 100 0 50 1000 30 0 5 0 0 0\n';
    const host = { ...fixtureHost(), readText: () => text };
    const collector = new CpuCollector(host);
    const mode = async (m: string) =>
      series(await collect(collector), 'node_cpu_seconds_total').find((s) => s.mode === m)!.value;
    expect(await mode('iowait')).toBe(0.3);
    text = 'cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 101 0 50 1001 29 0 5 0 0 0\n';
    expect(await mode('iowait')).toBe(0.3);
    expect(await mode('user')).toBe(1.01);
    text = 'cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 1 0 1 10 1 0 0 0 0 0\n'; // idle dropped by 9.91 s: replugged
    expect(await mode('idle')).toBe(0.1);
  });

  it('reports guest time by mode', async () => {
    const families = await collect(new CpuCollector(fixtureHost()));
    expect(series(families, 'node_cpu_guest_seconds_total').map((s) => `${s.cpu}/${s.mode}`)).toEqual([
      '0/user',
      '0/nice',
      '1/user',
      '1/nice',
    ]);
  });
});

describe('diskstats collector', () => {
  it('excludes partitions and loop devices by default, converts sectors and ms, labels node_disk_info from udev', async () => {
    const udev = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-udev-'));
    fs.copyFileSync(path.join(FIXTURES, 'samples', 'udev-b8:0'), path.join(udev, 'b8:0'));
    const base = fixtureHost();
    const host = {
      ...base,
      readText: (file: string) =>
        file.endsWith('diskstats')
          ? '   8       0 sda 10 0 8 1500 0 0 0 0 0 0 0\n   8       1 sda1 1 0 1 1 0 0 0 0 0 0 0\n   7       0 loop0 1 0 1 1 0 0 0 0 0 0 0\n'
          : base.readText(file),
    };
    try {
      const families = await collect(
        new DiskstatsCollector(host, {
          devices: deviceFilter({}, DISK_DEVICE_EXCLUDE),
          udevDataPath: udev,
        }),
      );
      expect(series(families, 'node_disk_read_bytes_total')).toEqual([{ device: 'sda', value: 4096 }]);
      expect(series(families, 'node_disk_read_time_seconds_total')).toEqual([{ device: 'sda', value: 1.5 }]);
      expect(series(families, 'node_disk_info')).toEqual([
        {
          device: 'sda',
          major: '8',
          minor: '0',
          model: 'Samsung_SSD_860_EVO_500GB',
          path: 'pci-0000:00:17.0-ata-1',
          revision: 'RVT04B6Q',
          serial: 'S3Z1NB0K123456A',
          wwn: '0x5002538e40a1b2c3',
          value: 1,
        },
      ]);
    } finally {
      fs.rmSync(udev, { recursive: true, force: true });
    }
  });

  it('without a udev database reports node_disk_info with empty labels, and its labels once it appears', async () => {
    const udev = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-udev-')), 'data');
    const base = fixtureHost();
    const host = {
      ...base,
      readText: (file: string) =>
        file.endsWith('diskstats') ? '   8       0 sda 10 0 8 1500 0 0 0 0 0 0 0\n' : base.readText(file),
    };
    const collector = new DiskstatsCollector(host, {
      devices: deviceFilter({}, DISK_DEVICE_EXCLUDE),
      udevDataPath: udev,
    });
    const info = async () =>
      series(await collect(collector), 'node_disk_info').map(({ device, model, serial }) => ({
        device,
        model,
        serial,
      }));
    try {
      expect(await info()).toEqual([{ device: 'sda', model: '', serial: '' }]);
      fs.mkdirSync(udev);
      fs.copyFileSync(path.join(FIXTURES, 'samples', 'udev-b8:0'), path.join(udev, 'b8:0'));
      expect(await info()).toEqual([
        { device: 'sda', model: 'Samsung_SSD_860_EVO_500GB', serial: 'S3Z1NB0K123456A' },
      ]);
    } finally {
      fs.rmSync(path.dirname(udev), { recursive: true, force: true });
    }
  });
});

describe('netdev collector', () => {
  it('device include and exclude patterns', async () => {
    const host = fixtureHost();
    const devices = async (settings: Parameters<typeof deviceFilter>[0]) =>
      series(
        await collect(new NetdevCollector(host, deviceFilter(settings))),
        'node_network_receive_bytes_total',
      ).map((s) => s.device);
    expect((await devices({})).sort()).toEqual(['eth0', 'ifb0', 'ifb1', 'lo']);
    expect((await devices({ device_exclude: '^lo$' })).sort()).toEqual(['eth0', 'ifb0', 'ifb1']);
    expect(await devices({ device_include: '^eth' })).toEqual(['eth0']);
  });

  it('reads rx_nohandler of the device a name names now: after names are swapped, and of a new device', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-netdev-'));
    const procfs = path.join(root, 'proc');
    const sysfs = path.join(root, 'sys');
    const netDev = (...devices: string[]) =>
      fs.writeFileSync(
        path.join(procfs, 'net', 'dev'),
        'Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n' +
          devices.map((device, i) => `${device}: ${i} ${' 0'.repeat(15)}\n`).join(''),
      );
    const statistics = (device: string) => path.join(sysfs, 'class', 'net', device, 'statistics');
    const addDevice = (device: string, nohandler: number) => {
      fs.mkdirSync(statistics(device), { recursive: true });
      fs.writeFileSync(path.join(statistics(device), 'rx_nohandler'), `${nohandler}\n`);
    };
    fs.mkdirSync(path.join(procfs, 'net'), { recursive: true });
    addDevice('lo', 1);
    addDevice('eth0', 5);
    addDevice('eth1', 7);
    netDev('lo', 'eth0', 'eth1');
    const collector = new NetdevCollector(realHost({ procfs, sysfs, rootfs: '/' }), deviceFilter({}));
    const nohandler = async () =>
      Object.fromEntries(
        series(await collect(collector), 'node_network_receive_nohandler_total').map((s) => [
          s.device,
          s.value,
        ]),
      );
    try {
      expect(await nohandler()).toEqual({ lo: 1, eth0: 5, eth1: 7 });
      // eth0 and eth1 swap names: each device keeps its place in the kernel's list, and its
      // /sys directory moves with it (the descriptors kept would still read the other device).
      const netDir = path.join(sysfs, 'class', 'net');
      fs.renameSync(path.join(netDir, 'eth0'), path.join(netDir, 'swap'));
      fs.renameSync(path.join(netDir, 'eth1'), path.join(netDir, 'eth0'));
      fs.renameSync(path.join(netDir, 'swap'), path.join(netDir, 'eth1'));
      netDev('lo', 'eth1', 'eth0');
      expect(await nohandler()).toEqual({ lo: 1, eth0: 7, eth1: 5 });
      addDevice('eth2', 9);
      netDev('lo', 'eth1', 'eth0', 'eth2');
      expect(await nohandler()).toEqual({ lo: 1, eth0: 7, eth1: 5, eth2: 9 });
      // The kept descriptors read each file's current count.
      fs.writeFileSync(path.join(statistics('eth2'), 'rx_nohandler'), '10\n');
      expect((await nohandler()).eth2).toBe(10);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('pressure collector', () => {
  it('fails with no data where PSI is missing', async () => {
    const host = { ...fixtureHost(), paths: { ...FIXTURE_PATHS, procfs: '/nonexistent' } };
    await expect(collect(new PressureCollector(host))).rejects.toThrow(/pressure information is unavailable/);
  });
});

describe('timex collector', () => {
  const timexOf = async (state: number, timex: Partial<typeof FIXTURE_TIMEX>) => {
    const host = fixtureHost({ clock: async () => ({ state, timex: { ...FIXTURE_TIMEX, ...timex } }) });
    const families = await collect(new TimexCollector(host));
    return (name: string) => series(families, `node_timex_${name}`)[0]?.value;
  };

  it("converts adjtimex(2)'s units as node_exporter does, in micro- or nanoseconds by STA_NANO", async () => {
    const micro = await timexOf(0, { offset: -1500, freq: 65_536 * 12, tick: 10_000, jitter: 20 });
    expect(micro('sync_status')).toBe(1);
    expect(micro('offset_seconds')).toBe(-0.0015);
    expect(micro('frequency_adjustment_ratio')).toBeCloseTo(1.000012, 9);
    expect(micro('tick_seconds')).toBe(0.01);
    expect(micro('pps_jitter_seconds')).toBe(0.00002);
    const nano = await timexOf(5, { offset: -1500, status: 0x2000 });
    expect(nano('sync_status')).toBe(0);
    expect(nano('offset_seconds')).toBe(-0.0000015);
    expect(nano('status')).toBe(0x2000);
  });

  it('reports no data where adjtimex is not permitted', async () => {
    const host = fixtureHost({
      clock: async () => Promise.reject(Object.assign(new Error('denied'), { code: 'EPERM' })),
    });
    await expect(collect(new TimexCollector(host))).rejects.toBeInstanceOf(NoDataError);
  });
});

describe('selinux, conntrack and vmstat collectors', () => {
  it('selinux: enabled with selinuxfs mounted, modes from the config file and enforce', async () => {
    const base = fixtureHost();
    const files: Record<string, string> = {
      [path.join(FIXTURE_PATHS.sysfs, 'fs', 'selinux', 'enforce')]: '0\n',
      [path.join(FIXTURE_PATHS.procfs, 'self', 'attr', 'current')]: 'system_u:system_r:unconfined_t:s0\0',
      [path.join(FIXTURE_PATHS.rootfs, 'etc', 'selinux', 'config')]:
        '# comment\nSELINUX=enforcing\nSELINUXTYPE=targeted\n',
    };
    const host = { ...base, readText: (file: string) => files[file] ?? base.readText(file) };
    const families = await collect(new SelinuxCollector(host));
    expect(series(families, 'node_selinux_enabled')[0].value).toBe(1);
    expect(series(families, 'node_selinux_config_mode')[0].value).toBe(1);
    expect(series(families, 'node_selinux_current_mode')[0].value).toBe(0);
    const off = await collect(new SelinuxCollector(base));
    expect(off.map((f) => f.name)).toEqual(['node_selinux_enabled']);
    expect(series(off, 'node_selinux_enabled')[0].value).toBe(0);
  });

  it('conntrack: no data, not a failure, where the module is not loaded', async () => {
    const host = { ...fixtureHost(), paths: { ...FIXTURE_PATHS, procfs: os.tmpdir() } };
    await expect(collect(new ConntrackCollector(host))).rejects.toBeInstanceOf(NoDataError);
  });

  it('vmstat: only the fields matching the pattern, oom_kill among the defaults', async () => {
    const families = await collect(new VmstatCollector(fixtureHost(), new RegExp(VMSTAT_FIELDS)));
    expect(families.map((f) => f.name)).toEqual([
      'node_vmstat_pgpgin',
      'node_vmstat_pgpgout',
      'node_vmstat_pswpin',
      'node_vmstat_pswpout',
      'node_vmstat_pgfault',
      'node_vmstat_pgmajfault',
      'node_vmstat_oom_kill',
    ]);
    expect(families.every((f) => f.type === 'untyped')).toBe(true);
  });
});
