import fs from 'node:fs';
import { processFamilies } from '../../src/common/process-metrics';

const value = (name: string): number => {
  const family = processFamilies().find((f) => f.name === name);
  if (!family) throw new Error(`${name} is missing`);
  return family.samples[0].value;
};

describe('processFamilies', () => {
  it("has node_exporter's process_* set, sorted by name, each with one sample", () => {
    const names = processFamilies().map((family) => family.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(
      expect.arrayContaining([
        'process_cpu_seconds_total',
        'process_max_fds',
        'process_open_fds',
        'process_resident_memory_bytes',
        'process_start_time_seconds',
        'process_virtual_memory_bytes',
        'process_virtual_memory_max_bytes',
        'nodejs_heap_size_used_bytes',
        'nodejs_heap_space_size_total_bytes',
      ]),
    );
  });

  it('reads the values of this process', () => {
    const status = fs.readFileSync('/proc/self/status', 'latin1');
    const kB = (field: string): number =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
    // Sizes move a little between the two reads; within 16 MiB is the same process.
    expect(Math.abs(value('process_virtual_memory_bytes') - kB('VmSize'))).toBeLessThan(16 * 2 ** 20);
    expect(Math.abs(value('process_resident_memory_bytes') - kB('VmRSS'))).toBeLessThan(16 * 2 ** 20);
    expect(value('process_open_fds')).toBe(fs.readdirSync('/proc/self/fd').length - 1);
    const softLimit = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'latin1'))![1];
    expect(value('process_max_fds')).toBe(Number(softLimit));
    const started = Date.now() / 1000 - process.uptime();
    expect(Math.abs(value('process_start_time_seconds') - started)).toBeLessThan(2);
    const cpu = process.cpuUsage();
    expect(value('process_cpu_seconds_total')).toBeCloseTo((cpu.user + cpu.system) / 1e6, 0);
    expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(1e6);
  });

  it('names the V8 heap spaces as prom-client does', () => {
    const spaces = processFamilies().find((f) => f.name === 'nodejs_heap_space_size_total_bytes')!;
    expect(spaces.samples.map((s) => s.labels.space)).toEqual(expect.arrayContaining(['new', 'old', 'code']));
  });
});
