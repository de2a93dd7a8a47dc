import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import zlib from 'node:zlib';
import {
  cachedExposition,
  ExpositionBody,
  expositionBytes,
  formatFamilies,
  negotiateFormat,
  registryFamilies,
  type MetricFamily,
} from '../../src/common/exposition';

const cpu: MetricFamily = {
  name: 'node_cpu_seconds_total',
  help: 'Seconds the CPUs spent in each mode.',
  type: 'counter',
  samples: [
    { labels: { cpu: '0', mode: 'idle' }, value: 12.5 },
    { labels: { cpu: '0', mode: 'user' }, value: 3 },
  ],
};

describe('exposition', () => {
  it('writes the Prometheus text format', () => {
    expect(formatFamilies([cpu], 'text')).toBe(
      '# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n' +
        '# TYPE node_cpu_seconds_total counter\n' +
        'node_cpu_seconds_total{cpu="0",mode="idle"} 12.5\n' +
        'node_cpu_seconds_total{cpu="0",mode="user"} 3\n',
    );
  });

  it('writes OpenMetrics with the counter family named without _total and a closing EOF', () => {
    const text = formatFamilies([cpu], 'openmetrics');
    expect(text).toContain('# TYPE node_cpu_seconds counter\n');
    expect(text).toContain('node_cpu_seconds_total{cpu="0",mode="idle"} 12.5\n');
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('escapes label values and help text', () => {
    const text = formatFamilies(
      [{ name: 'x', help: 'a\\b\nc', type: 'gauge', samples: [{ labels: { v: 'q"\\\n' }, value: NaN }] }],
      'text',
    );
    expect(text).toContain('# HELP x a\\\\b\\nc\n');
    expect(text).toContain('x{v="q\\"\\\\\\n"} NaN\n');
  });

  it('encodes an exposition as UTF-8, ASCII or not', () => {
    for (const text of [
      'node_load1 0.5\n',
      'x{mountpoint="/srv/Données",dev="日本"} 1\n',
      'x{v="\u00e9\ud83d\ude00"} 1\n',
      '',
    ]) {
      expect(expositionBytes(text).equals(Buffer.from(text, 'utf8'))).toBe(true);
    }
  });

  it('deflates a small body and one past the size compressed on the thread pool alike', async () => {
    const line = (i: number) =>
      `node_filesystem_size_bytes{device="/dev/sd${i}",mountpoint="/m/${i}"} ${i * 4096}\n`;
    for (const lines of [300, 20_000]) {
      const bytes = Buffer.from(Array.from({ length: lines }, (_, i) => line(i)).join(''));
      const { bytes: deflated, crc } = await new ExpositionBody(bytes).deflated(zlib.constants.Z_BEST_SPEED);
      // A sync flush ends it (more blocks may follow: here the empty final block).
      expect(deflated.subarray(-4)).toEqual(Buffer.from([0, 0, 0xff, 0xff]));
      expect(zlib.inflateRawSync(Buffer.concat([deflated, Buffer.from([0x03, 0x00])])).equals(bytes)).toBe(
        true,
      );
      expect(crc).toBe(zlib.crc32(bytes));
    }
  });

  it('writes special values as Prometheus expects', () => {
    const text = formatFamilies(
      [
        {
          name: 'y',
          help: 'h',
          type: 'gauge',
          samples: [
            { labels: { a: '1' }, value: Infinity },
            { labels: { a: '2' }, value: -Infinity },
          ],
        },
      ],
      'text',
    );
    expect(text).toContain('y{a="1"} +Inf\ny{a="2"} -Inf\n');
  });

  it('writes a family under its help and type of the moment, not those of an earlier scrape', () => {
    const load = (help: string, type: MetricFamily['type']): MetricFamily => ({
      name: 'node_load1',
      help,
      type,
      samples: [{ labels: {}, value: 0.5 }],
    });
    expect(formatFamilies([load('1m load average.', 'gauge')], 'text')).toBe(
      '# HELP node_load1 1m load average.\n# TYPE node_load1 gauge\nnode_load1 0.5\n',
    );
    expect(formatFamilies([load('Load, 1m.', 'gauge')], 'text')).toBe(
      '# HELP node_load1 Load, 1m.\n# TYPE node_load1 gauge\nnode_load1 0.5\n',
    );
    expect(formatFamilies([load('Load, 1m.', 'untyped')], 'openmetrics')).toBe(
      '# HELP node_load1 Load, 1m.\n# TYPE node_load1 unknown\nnode_load1 0.5\n# EOF\n',
    );
    expect(formatFamilies([load('Load, 1m.', 'untyped')], 'text')).toContain('# TYPE node_load1 untyped\n');
    const forks: MetricFamily = { ...load('Forks.', 'counter'), name: 'node_forks_total' };
    expect(formatFamilies([forks], 'openmetrics')).toContain(
      '# TYPE node_forks counter\nnode_forks_total 0.5\n',
    );
    expect(formatFamilies([{ ...forks, type: 'gauge' }], 'openmetrics')).toContain(
      '# TYPE node_forks_total gauge\nnode_forks_total 0.5\n',
    );
  });

  it('leaves out families without samples', () => {
    expect(formatFamilies([{ ...cpu, samples: [] }], 'text')).toBe('');
  });

  it('negotiates OpenMetrics only when asked for', () => {
    expect(negotiateFormat(undefined)).toBe('text');
    expect(negotiateFormat('text/plain;version=0.0.4;q=0.5,*/*;q=0.1')).toBe('text');
    expect(
      negotiateFormat(
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75',
      ),
    ).toBe('openmetrics');
  });

  it('renders a prom-client registry, histograms included', async () => {
    const registry = new Registry();
    new Counter({ name: 'vigil_things_total', help: 'Things.', registers: [registry] }).inc(2);
    new Gauge({ name: 'vigil_level', help: 'Level.', labelNames: ['kind'], registers: [registry] }).set(
      { kind: 'a' },
      7,
    );
    new Histogram({ name: 'vigil_seconds', help: 'Time.', buckets: [0.1, 1], registers: [registry] }).observe(
      0.5,
    );
    const text = formatFamilies(await registryFamilies(registry), 'text');
    expect(text).toContain('vigil_things_total 2\n');
    expect(text).toContain('vigil_level{kind="a"} 7\n');
    expect(text).toContain('vigil_seconds_bucket{le="0.1"} 0\n');
    expect(text).toContain('vigil_seconds_bucket{le="1"} 1\n');
    expect(text).toContain('vigil_seconds_bucket{le="+Inf"} 1\n');
    expect(text).toContain('vigil_seconds_count 1\n');
    const om = formatFamilies(await registryFamilies(registry), 'openmetrics');
    expect(om).toContain('# TYPE vigil_things counter\nvigil_things_total 2\n');
  });
});

describe('cachedExposition', () => {
  test('renders once per version, and hands the last bytes over only once nothing reads them', async () => {
    let version = 1;
    const reusables: Array<Buffer | undefined> = [];
    const outputs = cachedExposition(
      () => version,
      (reusable) => {
        reusables.push(reusable);
        // Past the size deflated on the event loop, so that a compression takes a while.
        return Buffer.from(`rendering ${reusables.length}\n${'# pad\n'.repeat(60_000)}`);
      },
    );
    const first = outputs();
    expect(outputs()).toBe(first);
    // A response is sending the first body when the version changes: it must not be written over.
    const sent = first.read();
    version++;
    const second = outputs();
    expect(reusables).toEqual([undefined, undefined]);
    sent();
    expect(first.bytes.toString().startsWith('rendering 1\n')).toBe(true);
    // A compression reads the second body until it is done.
    const deflating = second.deflated(1);
    version++;
    outputs();
    expect(reusables[2]).toBeUndefined();
    await deflating;
    version++;
    outputs();
    expect(reusables[3]?.toString().startsWith('rendering 3\n')).toBe(true);
  });
});
