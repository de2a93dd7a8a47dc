import { CollectorRegistry, NoDataError, type Collector } from '../../src/exporter/collector';
import { HostinfoCollector } from '../../src/exporter/collectors/hostinfo';
import { MetricSink } from '../../src/exporter/exposition';
import { exporterSchema } from '../../src/config/exporter';
import { startExporter } from '../../src/exporter/exporter';
import { FIXTURE_INVENTORY, fixtureHost } from './fixture-host';
import type { MetricFamily } from '../../src/common/exposition';

const sample = (
  families: MetricFamily[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined =>
  families
    .find((f) => f.name === name)
    ?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

const working: Collector = {
  name: 'working',
  collect: (sink: MetricSink) => void sink.gauge('node_working', 'Works.').add(42),
};

describe('CollectorRegistry', () => {
  it('reports success and duration per collector and merges their families sorted by name', async () => {
    const registry = new CollectorRegistry([working], { timeoutMs: 1000 });
    const families = await registry.scrape();
    expect(families.map((f) => f.name)).toEqual([
      'node_scrape_collector_duration_seconds',
      'node_scrape_collector_success',
      'node_working',
    ]);
    expect(sample(families, 'node_working')).toBe(42);
    expect(sample(families, 'node_scrape_collector_success', { collector: 'working' })).toBe(1);
    expect(
      sample(families, 'node_scrape_collector_duration_seconds', { collector: 'working' }),
    ).toBeGreaterThanOrEqual(0);
  });

  it('merges families of one name from several collectors without changing the ones a collector keeps', async () => {
    // A family kept between scrapes (as the textfile collector's parsed files are).
    const kept: MetricFamily = {
      name: 'node_shared',
      help: 'Shared.',
      type: 'gauge',
      samples: [{ labels: { from: 'kept' }, value: 1 }],
    };
    const keeping: Collector = { name: 'keeping', collect: (sink) => sink.addFamily(kept) };
    const adding: Collector = {
      name: 'adding',
      collect: (sink) => void sink.gauge('node_shared', 'Shared.', ['from']).add(2, 'added'),
    };
    const registry = new CollectorRegistry([keeping, adding], { timeoutMs: 1000 });
    for (let scrape = 0; scrape < 3; scrape++) {
      const shared = (await registry.scrape()).filter((f) => f.name === 'node_shared');
      expect(shared).toHaveLength(1);
      expect(shared[0].samples.map((s) => s.value)).toEqual([1, 2]);
    }
    expect(kept.samples).toHaveLength(1);
    const alone = new CollectorRegistry([keeping], { timeoutMs: 1000 });
    expect((await alone.scrape()).find((f) => f.name === 'node_shared')?.samples).toHaveLength(1);
  });

  it('a failing collector reports success 0, loses its partial output, and the others still answer', async () => {
    const failing: Collector = {
      name: 'failing',
      collect: (sink) => {
        sink.gauge('node_partial', 'Half done.').add(1);
        throw new Error('cannot read /proc/nothing');
      },
    };
    const warnings: string[] = [];
    const registry = new CollectorRegistry([failing, working], {
      timeoutMs: 1000,
      logger: {
        warn: (fields, msg) => warnings.push(`${msg} ${JSON.stringify(fields)}`),
        debug: () => undefined,
      },
    });
    const families = await registry.scrape();
    expect(sample(families, 'node_scrape_collector_success', { collector: 'failing' })).toBe(0);
    expect(sample(families, 'node_scrape_collector_success', { collector: 'working' })).toBe(1);
    expect(families.find((f) => f.name === 'node_partial')).toBeUndefined();
    expect(sample(families, 'node_working')).toBe(42);
    expect(warnings.join('\n')).toContain('cannot read /proc/nothing');
  });

  it('a hanging collector is cut off by the timeout and is not started again while it still hangs', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    const hanging: Collector = {
      name: 'hanging',
      collect: () => {
        calls++;
        return new Promise<void>((resolve) => (release = resolve));
      },
    };
    const registry = new CollectorRegistry([hanging, working], { timeoutMs: 50 });
    const first = await registry.scrape();
    expect(sample(first, 'node_scrape_collector_success', { collector: 'hanging' })).toBe(0);
    expect(sample(first, 'node_scrape_collector_success', { collector: 'working' })).toBe(1);

    const second = await registry.scrape();
    expect(sample(second, 'node_scrape_collector_success', { collector: 'hanging' })).toBe(0);
    expect(calls).toBe(1);

    release();
    await new Promise((resolve) => setImmediate(resolve));
    await registry.scrape();
    expect(calls).toBe(2);
  });

  it('two scrapes at once (two Prometheus servers) both get a collector that is slow but not hung', async () => {
    let calls = 0;
    const slow: Collector = {
      name: 'slow',
      collect: async (sink) => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 30));
        sink.gauge('node_slow', 'Slow.').add(1);
      },
    };
    const registry = new CollectorRegistry([slow], { timeoutMs: 1000 });
    const [a, b] = await Promise.all([registry.scrape(), registry.scrape()]);
    expect(calls).toBe(2);
    expect(sample(a, 'node_slow')).toBe(1);
    expect(sample(b, 'node_slow')).toBe(1);
  });

  it('NoDataError reports success 0 without a warning', async () => {
    const warnings: string[] = [];
    const registry = new CollectorRegistry(
      [
        {
          name: 'pressure',
          collect: () => {
            throw new NoDataError('no PSI');
          },
        },
      ],
      { timeoutMs: 100, logger: { warn: (_f, msg) => warnings.push(msg), debug: () => undefined } },
    );
    const families = await registry.scrape();
    expect(sample(families, 'node_scrape_collector_success', { collector: 'pressure' })).toBe(0);
    expect(warnings).toEqual([]);
  });
});

describe('hostinfo collector', () => {
  it('reads the inventory once, and after a failure waits before spawning the reader again', async () => {
    let calls = 0;
    let clock = 0;
    let fail = true;
    const collector = new HostinfoCollector(
      async () => {
        calls++;
        if (fail) throw new Error('lscpu not found');
        return FIXTURE_INVENTORY;
      },
      60_000,
      () => clock,
    );
    await expect(collector.collect(new MetricSink())).rejects.toThrow(/lscpu/);
    await expect(collector.collect(new MetricSink())).rejects.toThrow(/unavailable/);
    expect(calls).toBe(1);
    clock = 60_000;
    fail = false;
    const sink = new MetricSink();
    await collector.collect(sink);
    await collector.collect(new MetricSink());
    expect(calls).toBe(2);
    expect(sink.families[0].samples[0].labels).toMatchObject({
      hostname: 'vm',
      cpu_cores: '2',
      architecture: 'x86_64',
    });
  });
});

describe('collector lifecycle', () => {
  it('starts background work (the hostinfo inventory) with the exporter, before any scrape', async () => {
    let reads = 0;
    const exporter = await startExporter(
      { ...exporterSchema.parse({ listen: '127.0.0.1:0' }), collectors: { cpu: { enabled: false } } },
      {
        host: fixtureHost(),
        inventory: async () => {
          reads++;
          return FIXTURE_INVENTORY;
        },
      },
    );
    try {
      expect(reads).toBe(1);
      const body = await (await fetch(`${exporter.url}/metrics`)).text();
      expect(body).toMatch(/^vigil_host_info\{hostname="vm",/m);
      expect(body).not.toMatch(/^node_cpu_seconds_total/m);
      expect(reads).toBe(1);
    } finally {
      await exporter.close();
    }
  });
});
