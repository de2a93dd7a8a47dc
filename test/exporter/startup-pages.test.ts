import fs from 'node:fs';
import zlib from 'node:zlib';
import { releaseStartupPages } from '../../src/exporter/startup-pages';

const residentFileKiB = (): number =>
  Number(/^RssFile:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'latin1'))![1]);

describe('releaseStartupPages (this process, Linux)', () => {
  it("unmaps the binary's and libraries' clean file pages, and the process runs on", async () => {
    const before = residentFileKiB();
    const released = await releaseStartupPages();
    const after = residentFileKiB();
    // The node binary alone has tens of MiB of such pages resident in a test runner.
    expect(released).toBeGreaterThan(10 * 2 ** 20);
    expect(after).toBeLessThan(before - released / 1024 / 2);
    // Code and read-only data dropped come back from the file when used.
    const text = 'node_load1 0.5\n'.repeat(1000);
    expect(zlib.gunzipSync(zlib.gzipSync(text)).toString()).toBe(text);
    expect(new Intl.NumberFormat('de-DE').format(1234.5)).toBe('1.234,5');
  });

  it('fails with the reason when smaps cannot be read', async () => {
    await expect(releaseStartupPages('/nonexistent/smaps')).rejects.toThrow(/ENOENT/);
  });
});
