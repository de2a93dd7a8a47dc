import fs from 'node:fs';
import path from 'node:path';
import { parseTzif, zoneNameAt } from '../../src/exporter/tzif';

/** tzdata 2025b's files, as Debian installs them under /usr/share/zoneinfo. */
const zone = (name: string): Buffer =>
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'exporter', 'zoneinfo', name));

describe('TZif zone names', () => {
  it("names Berlin's standard and summer time as date +%Z does, the current rule first", () => {
    const names = parseTzif(zone('Europe-Berlin'))!;
    expect(names.slice(0, 2)).toEqual([
      { name: 'CET', offsetSeconds: 3600 },
      { name: 'CEST', offsetSeconds: 7200 },
    ]);
    expect(zoneNameAt(names, 3600)).toBe('CET');
    expect(zoneNameAt(names, 7200)).toBe('CEST');
    expect(zoneNameAt(names, -18000)).toBeUndefined();
  });

  it('reads the numeric names in angle brackets and offsets west of UTC', () => {
    expect(zoneNameAt(parseTzif(zone('Europe-Istanbul'))!, 10800)).toBe('+03');
    const newYork = parseTzif(zone('America-New_York'))!;
    expect(zoneNameAt(newYork, -18000)).toBe('EST');
    expect(zoneNameAt(newYork, -14400)).toBe('EDT');
  });

  it('reads a version 1 file (32-bit transitions, no rule after them)', () => {
    const berlin = zone('Europe-Berlin');
    const count = (field: number): number => berlin.readUInt32BE(20 + field * 4);
    const [isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt] = [0, 1, 2, 3, 4, 5].map(count);
    const v1 = Buffer.from(
      berlin.subarray(0, 44 + timecnt * 5 + typecnt * 6 + charcnt + leapcnt * 8 + isstdcnt + isutcnt),
    );
    v1[4] = 0;
    const names = parseTzif(v1)!;
    expect(zoneNameAt(names, 3600)).toBe('CET');
    expect(zoneNameAt(names, 7200)).toBe('CEST');
  });

  it('refuses what is not TZif, or is cut off, without throwing', () => {
    expect(parseTzif(Buffer.from('Europe/Berlin\n'))).toBeUndefined();
    expect(parseTzif(zone('Europe-Berlin').subarray(0, 100))).toBeUndefined();
    expect(parseTzif(zone('Europe-Berlin').subarray(0, 1200))).toBeUndefined();
  });
});
