import fs from 'node:fs';
import path from 'node:path';
import { parseArpEntries } from '../../src/exporter/procfs/arp';
import { parseConntrackStat } from '../../src/exporter/procfs/conntrack';
import { parseDiskstats } from '../../src/exporter/procfs/diskstats';
import { parseFileNr } from '../../src/exporter/procfs/filefd';
import { parseLoadavg } from '../../src/exporter/procfs/loadavg';
import { parseMeminfo } from '../../src/exporter/procfs/meminfo';
import { parseMounts } from '../../src/exporter/procfs/mounts';
import { readNetClassDevice } from '../../src/exporter/procfs/netclass';
import { NET_DEV_COLUMNS, parseNetDev } from '../../src/exporter/procfs/netdev';
import { parseNetstat, parseSnmp6 } from '../../src/exporter/procfs/netstat';
import { osVersionNumber, parseOsRelease } from '../../src/exporter/procfs/osrelease';
import { parsePressure } from '../../src/exporter/procfs/pressure';
import { parseSockstat } from '../../src/exporter/procfs/sockstat';
import { cleanFileMappings } from '../../src/exporter/procfs/smaps';
import { parseSoftnetStat } from '../../src/exporter/procfs/softnet';
import { parseProcStat } from '../../src/exporter/procfs/stat';
import { parseUdevProperties } from '../../src/exporter/procfs/udev';
import { parseUdpQueues } from '../../src/exporter/procfs/udp';
import { parseVmstat } from '../../src/exporter/procfs/vmstat';
import { FIXTURES, HOST_TREE } from './fixture-host';

const read = (...parts: string[]): string => fs.readFileSync(path.join(HOST_TREE, ...parts), 'latin1');
const sample = (name: string): string => fs.readFileSync(path.join(FIXTURES, 'samples', name), 'latin1');

describe('procfs parsers (recorded files)', () => {
  it('/proc/stat: per-CPU times in seconds (USER_HZ 100), the aggregate line skipped, and the counters', () => {
    const stat = parseProcStat(read('proc', 'stat'));
    expect(stat.cpus.map((cpu) => cpu.cpu)).toEqual(['0', '1']);
    // cpu0 2858 0 1196 22089 40 0 16 79 0 0
    expect(stat.cpus[0]).toEqual({
      cpu: '0',
      user: 28.58,
      nice: 0,
      system: 11.96,
      idle: 220.89,
      iowait: 0.4,
      irq: 0,
      softirq: 0.16,
      steal: 0.79,
      guest: 0,
      guestNice: 0,
    });
    expect(stat.bootTime).toBe(1795451959);
    expect(stat.contextSwitches).toBeGreaterThan(0);
    expect(stat.forks).toBeGreaterThan(0);
    expect(stat.interrupts).toBeGreaterThan(0);
    expect(stat.procsRunning).toBeGreaterThanOrEqual(1);
    expect(stat.procsBlocked).toBeGreaterThanOrEqual(0);
  });

  it('/proc/meminfo: kB to bytes with _bytes, parentheses to underscores, unitless HugePages as they are', () => {
    const fields = new Map(parseMeminfo(read('proc', 'meminfo')).map((f) => [f.name, f.value]));
    const memTotalKb = Number(/MemTotal:\s+(\d+)/.exec(read('proc', 'meminfo'))![1]);
    expect(fields.get('MemTotal_bytes')).toBe(memTotalKb * 1024);
    expect(fields.has('Active_anon_bytes')).toBe(true);
    expect(fields.has('Inactive_file_bytes')).toBe(true);
    expect(fields.get('HugePages_Total')).toBe(0);
    expect(fields.has('HugePages_Total_bytes')).toBe(false);
    expect([...fields.keys()].every((name) => /^[A-Za-z0-9_]+$/.test(name))).toBe(true);
  });

  it('/proc/diskstats: all 20 fields of kernels >= 5.5, including discards and flushes', () => {
    const vda = parseDiskstats(read('proc', 'diskstats')).find((d) => d.device === 'vda')!;
    // 254 0 vda 32988 6527 1744786 14513 9392 29032 1888536 9142 0 5288 23995 3562 69 79784 283 1316 56
    expect(vda).toMatchObject({
      major: '254',
      minor: '0',
      readsCompleted: 32988,
      sectorsRead: 1744786,
      writeTimeMs: 9142,
      ioTimeMs: 5288,
      weightedIoTimeMs: 23995,
      discards: { completed: 3562, merged: 69, sectors: 79784, timeMs: 283 },
      flushes: { completed: 1316, timeMs: 56 },
    });
  });

  it('/proc/diskstats: old kernels without discard and flush fields', () => {
    const [disk] = parseDiskstats('   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n');
    expect(disk.device).toBe('sda');
    expect(disk.weightedIoTimeMs).toBe(11);
    expect(disk.discards).toBeUndefined();
    expect(disk.flushes).toBeUndefined();
  });

  it('/proc/net/dev: the 16 columns per interface, header lines skipped', () => {
    const devices = parseNetDev(read('proc', 'net', 'dev'));
    expect(devices.map((d) => d.device).sort()).toEqual(['eth0', 'ifb0', 'ifb1', 'lo']);
    const lo = devices.find((d) => d.device === 'lo')!;
    expect(lo.values).toHaveLength(NET_DEV_COLUMNS.length);
    expect(lo.values[NET_DEV_COLUMNS.indexOf('receive_bytes')]).toBe(
      lo.values[NET_DEV_COLUMNS.indexOf('transmit_bytes')],
    );
  });

  it('/proc/self/smaps: the private read-only file mappings with no page of their own', () => {
    const mappings = cleanFileMappings(read('proc', 'self', 'smaps'));
    // Not the part of each file the dynamic linker relocated (read-only now, 8 and 16 kB of its
    // own pages), the writable data, [heap], [stack], anonymous memory nor [vdso] (r-xp, no file).
    expect(
      mappings.map((m) => `${m.start.toString(16)} ${m.path.split('/').pop()} ${m.residentBytes / 1024}`),
    ).toEqual([
      '400000 node 5948',
      'b6f000 node 8',
      'b72000 node 16696',
      '2600000 node 0',
      '2601000 node 7548',
      '7fbd82b1e000 libc.so.6 148',
      '7fbd82b44000 libc.so.6 1048',
      '7fbd82c9a000 libc.so.6 152',
    ]);
    expect(mappings[2].end).toBe(0x25fe000n);
  });

  it('/proc/loadavg and a malformed one', () => {
    const load = parseLoadavg(read('proc', 'loadavg'));
    expect(Object.values(load).every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    expect(parseLoadavg('0.65 0.41 0.17 1/123 4567\n')).toEqual({ load1: 0.65, load5: 0.41, load15: 0.17 });
    expect(() => parseLoadavg('garbage')).toThrow(/unexpected loadavg/);
  });

  it('/proc/pressure: totals in microseconds become seconds; cpu has "full" only on newer kernels', () => {
    expect(parsePressure(read('proc', 'pressure', 'io'))).toEqual({
      someSeconds: expect.any(Number),
      fullSeconds: expect.any(Number),
    });
    expect(parsePressure('some avg10=0.00 avg60=0.00 avg300=0.00 total=12611800\n')).toEqual({
      someSeconds: 12.6118,
      fullSeconds: undefined,
    });
    expect(() => parsePressure('')).toThrow(/some/);
  });

  it('os-release: quoted and bare values, major.minor version', () => {
    const release = parseOsRelease(read('rootfs', 'etc', 'os-release'));
    expect(release).toMatchObject({
      ID: 'debian',
      VERSION_ID: '12',
      PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)',
    });
    expect(osVersionNumber('22.04')).toBe(22.04);
    expect(osVersionNumber('3.18.4')).toBe(3.18);
    expect(osVersionNumber(undefined)).toBe(0);
  });

  it('/sys/class/net/<dev>: hex flags, speed in bytes/s, unreadable attributes left out', () => {
    const device = (name: string) =>
      readNetClassDevice((file) => {
        try {
          return read('sys', 'class', 'net', name, file);
        } catch {
          return undefined;
        }
      });
    const eth0 = device('eth0');
    expect(eth0.operstate).toBe('up');
    expect(eth0.values.flags).toBe(0x1003);
    expect(eth0.values.speed_bytes).toBe(-125000); // -1 Mbit/s: the driver does not know
    expect(eth0.values.mtu_bytes).toBe(1400);
    const ifb0 = device('ifb0');
    expect(ifb0.values.carrier).toBeUndefined(); // EINVAL while the link is down
    expect(ifb0.values.iface_id).toBe(2);
  });
});

describe('procfs parsers of the network and kernel tables (recorded files)', () => {
  it('/proc/net/snmp and netstat: header and value line pairs become Protocol_Field', () => {
    const stats = parseNetstat(read('proc', 'net', 'snmp'), parseNetstat(read('proc', 'net', 'netstat')));
    // Tcp: 1 200 120000 -1 1769 444 1196 38 15 2154235 ...
    expect(stats.get('Tcp_ActiveOpens')).toBe(1769);
    expect(stats.get('Tcp_CurrEstab')).toBe(15);
    expect(stats.get('Tcp_MaxConn')).toBe(-1);
    expect(stats.get('TcpExt_SyncookiesSent')).toBe(0);
    expect(stats.get('IpExt_InOctets')).toBe(2389478512);
    expect(() => parseNetstat('Tcp: A B\nTcp: 1\n')).toThrow(/mismatched field count for Tcp/);
  });

  it('/proc/net/snmp6: the protocol is the name up to its 6', () => {
    const stats = parseSnmp6(read('proc', 'net', 'snmp6'));
    expect(stats.get('Ip6_InOctets')).toBe(128);
    expect(stats.get('Icmp6_InErrors')).toBe(1);
    expect(stats.get('UdpLite6_InErrors')).toBe(0);
  });

  it('/proc/net/sockstat and sockstat6: sockets used, and each protocol with the states it has', () => {
    const ipv4 = parseSockstat(read('proc', 'net', 'sockstat'));
    expect(ipv4.used).toBe(46);
    expect(ipv4.protocols.find((p) => p.protocol === 'TCP')?.fields).toEqual([
      ['inuse', 17],
      ['orphan', 0],
      ['tw', 0],
      ['alloc', 17],
      ['mem', 266],
    ]);
    const ipv6 = parseSockstat(read('proc', 'net', 'sockstat6'));
    expect(ipv6.used).toBeUndefined();
    expect(ipv6.protocols.map((p) => p.protocol)).toEqual(['TCP6', 'UDP6', 'UDPLITE6', 'RAW6', 'FRAG6']);
  });

  it('/proc/net/softnet_stat: hexadecimal, one line per CPU', () => {
    expect(parseSoftnetStat(read('proc', 'net', 'softnet_stat'))).toEqual([
      { processed: 0x108d22, dropped: 0, timeSqueezed: 2 },
      { processed: 0x1052eb, dropped: 0, timeSqueezed: 7 },
    ]);
  });

  it('/proc/net/stat/nf_conntrack: hexadecimal columns by header name, summed over CPUs', () => {
    expect(parseConntrackStat(read('proc', 'net', 'stat', 'nf_conntrack')).get('found')).toBe(0);
    const busy = parseConntrackStat(
      'entries found invalid insert_failed drop\n0000000a 00000010 00000001 00000000 000000ff\n0000000a 00000001 00000002 00000003 00000001\n',
    );
    expect(Object.fromEntries(busy)).toEqual({
      entries: 20,
      found: 17,
      invalid: 3,
      insert_failed: 3,
      drop: 256,
    });
  });

  it('/proc/net/arp: entries counted per device, header skipped', () => {
    expect(parseArpEntries(read('proc', 'net', 'arp'))).toEqual(new Map([['eth0', 1]]));
    const table = [
      'IP address       HW type     Flags       HW address            Mask     Device',
      '10.0.0.1         0x1         0x2         52:54:00:12:35:02     *        eth0',
      '10.0.0.2         0x1         0x2         52:54:00:12:35:03     *        eth0',
      '10.1.0.1         0x1         0x2         52:54:00:12:35:04     *        br-lan',
    ].join('\n');
    expect(parseArpEntries(table)).toEqual(
      new Map([
        ['eth0', 2],
        ['br-lan', 1],
      ]),
    );
  });

  it('/proc/net/udp and udp6: hexadecimal tx:rx queues summed over sockets', () => {
    expect(parseUdpQueues(read('proc', 'net', 'udp6'))).toEqual({ tx: 0, rx: 0 });
    const table = [
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '  1: 0100007F:A1E1 00000000:0000 07 00000010:00000200 00:00000000 00000000     0        0 194591',
      '  2: 0100007F:B545 00000000:0000 07 00000001:00000E00 00:00000000 00000000     0        0 194367',
    ].join('\n');
    expect(parseUdpQueues(table)).toEqual({ tx: 17, rx: 0x1000 });
  });

  it('/proc/vmstat and /proc/sys/fs/file-nr', () => {
    const vmstat = new Map(parseVmstat(read('proc', 'vmstat')));
    expect(vmstat.get('oom_kill')).toBe(0);
    expect(vmstat.get('pgmajfault')).toBe(1328);
    expect(parseFileNr(read('proc', 'sys', 'fs', 'file-nr'))).toEqual({ allocated: 1431, maximum: 2466112 });
    expect(() => parseFileNr('12\n')).toThrow(/expected 3 values/);
  });
});

describe('procfs parsers (samples)', () => {
  it('mounts: octal escapes in mount points, options kept', () => {
    const mounts = parseMounts(sample('mounts'));
    expect(mounts.find((m) => m.device === '/dev/sdb1')).toEqual({
      device: '/dev/sdb1',
      mountPoint: '/srv/My Data',
      fsType: 'ext4',
      options: 'ro,relatime',
    });
    expect(mounts).toHaveLength(12);
  });

  it('udev database entry: E: properties only', () => {
    const props = parseUdevProperties(sample('udev-b8:0'));
    expect(props.ID_MODEL).toBe('Samsung_SSD_860_EVO_500GB');
    expect(props.ID_SERIAL_SHORT).toBe('S3Z1NB0K123456A');
    expect(props['disk/by-id/ata-Samsung_SSD_860_EVO_500GB_S3Z1NB0K123456A']).toBeUndefined();
  });
});
