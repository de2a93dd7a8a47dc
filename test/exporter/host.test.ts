import fs from 'node:fs';
import path from 'node:path';
import { realHost } from '../../src/exporter/host';
import { tempDir } from '../helpers/tmp';

const openFiles = (): number => fs.readdirSync('/proc/self/fd').length;
/** utime of this process in clock ticks, as /proc/self/stat says. */
const utime = (stat: string): number => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[11]);

describe('realHost file reads (Linux)', () => {
  it('reads a /proc file through one descriptor kept open, and gets its current content each time', () => {
    const host = realHost();
    const before = openFiles();
    const first = utime(host.readText('/proc/self/stat'));
    const kept = openFiles();
    expect(kept).toBe(before + 1);
    // Burn CPU until the kernel's own count (read afresh) has moved on by two ticks.
    const start = process.cpuUsage().user;
    while (process.cpuUsage().user - start < 40_000) Math.sqrt(Math.random());
    const second = utime(host.readText('/proc/self/stat'));
    expect(second).toBeGreaterThanOrEqual(first + 2);
    expect(utime(fs.readFileSync('/proc/self/stat', 'latin1'))).toBeGreaterThanOrEqual(second);
    expect(openFiles()).toBe(kept);
  });

  it('opens files outside procfs on every read: a file replaced by renaming is read anew', () => {
    const dir = tempDir();
    try {
      const host = realHost({ procfs: '/proc', sysfs: dir.path, rootfs: '/' });
      const file = path.join(dir.path, 'data');
      fs.writeFileSync(file, 'E:ID_MODEL=old\n');
      const before = openFiles();
      expect(host.readText(file)).toBe('E:ID_MODEL=old\n');
      expect(openFiles()).toBe(before);
      fs.writeFileSync(`${file}.tmp`, 'E:ID_MODEL=new\n');
      fs.renameSync(`${file}.tmp`, file);
      expect(host.readText(file)).toBe('E:ID_MODEL=new\n');
    } finally {
      dir.remove();
    }
  });

  it('fails as before for a file that is not there', () => {
    expect(() => realHost().readText('/proc/nonexistent')).toThrow(/ENOENT/);
  });
});
