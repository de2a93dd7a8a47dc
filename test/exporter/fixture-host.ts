import path from 'node:path';
import { realHost, type FsStats, type Host } from '../../src/exporter/host';
import type { Inventory } from '../../src/exporter/inventory';

export const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'exporter');
export const HOST_TREE = path.join(FIXTURES, 'host');

export const FIXTURE_PATHS = {
  procfs: path.join(HOST_TREE, 'proc'),
  sysfs: path.join(HOST_TREE, 'sys'),
  rootfs: path.join(HOST_TREE, 'rootfs'),
  udev_data: path.join(HOST_TREE, 'udev'),
};

/** statfs answers derived from the mount point, so the golden output does not depend on this machine. */
export function fakeStatfs(mountPoint: string): FsStats {
  const seed = [...mountPoint].reduce((sum, ch) => sum + ch.charCodeAt(0), 0);
  return {
    blockSize: 4096,
    blocks: 1_000_000 + seed,
    blocksFree: 400_000 + seed,
    blocksAvailable: 350_000 + seed,
    files: 65_536,
    filesFree: 60_000 - seed,
  };
}

/** adjtimex(2) as recorded on an unsynchronised VM. */
export const FIXTURE_TIMEX = {
  offset: 0,
  freq: 0,
  maxerror: 16_000_000,
  esterror: 16_000_000,
  status: 64,
  constant: 2,
  tick: 10_000,
  ppsfreq: 0,
  jitter: 0,
  shift: 0,
  stabil: 0,
  jitcnt: 0,
  calcnt: 0,
  errcnt: 0,
  stbcnt: 0,
  tai: 0,
};

/** The recorded /proc, /sys and / trees, with a fixed clock, uname and statfs. */
export function fixtureHost(overrides: Partial<Host> = {}): Host {
  const real = realHost({
    procfs: FIXTURE_PATHS.procfs,
    sysfs: FIXTURE_PATHS.sysfs,
    rootfs: FIXTURE_PATHS.rootfs,
  });
  return {
    ...real,
    statfs: async (mountPoint) => fakeStatfs(path.relative(FIXTURE_PATHS.rootfs, mountPoint)),
    now: () => 1_795_452_154_868,
    timeZone: () => ({ name: 'UTC', offsetSeconds: 0 }),
    uname: () => ({
      sysname: 'Linux',
      nodename: 'vm',
      release: '6.18.44-fc-v669',
      version: '#1 SMP PREEMPT_DYNAMIC @0',
      machine: 'x86_64',
    }),
    clock: async () => ({ state: 5, timex: FIXTURE_TIMEX }),
    pageSize: async () => 4096,
    ...overrides,
  };
}

export const FIXTURE_INVENTORY: Inventory = {
  hostname: 'vm',
  cpuModel: 'AMD EPYC',
  cpuCores: 2,
  cpuPhysicalCores: 2,
  cpuMhz: 2596,
  l2CacheBytes: 2_097_152,
  memoryBytes: 25_276_502_016,
  architecture: 'x86_64',
};
