import fs from 'node:fs';
import path from 'node:path';
import type { MetricFamily } from '../../src/common/exposition';
import { TextfileCollector } from '../../src/exporter/collectors/textfile';
import { MetricSink } from '../../src/exporter/exposition';
import { parseTextFormat } from '../../src/exporter/text-format';
import { tempDir } from '../helpers/tmp';

async function scrape(
  directory: string,
): Promise<{ families: Map<string, MetricFamily>; warnings: string[] }> {
  const warnings: string[] = [];
  const logger = {
    warn: (fields: { file?: string; path?: string; err?: string }) =>
      void warnings.push(`${fields.file ?? fields.path}: ${fields.err}`),
    debug: () => undefined,
  };
  const sink = new MetricSink();
  await new TextfileCollector(directory, logger).collect(sink);
  return { families: new Map(sink.families.map((family) => [family.name, family])), warnings };
}

const value = (families: Map<string, MetricFamily>, name: string) => families.get(name)?.samples[0]?.value;

describe('Prometheus text format parser', () => {
  it('reads HELP, TYPE, labels with escapes, special values, and histogram samples into their family', () => {
    const families = parseTextFormat(
      [
        '# HELP jobs_total Jobs by "status".\\nSecond line',
        '# TYPE jobs_total counter',
        'jobs_total{status="done",note="a \\"quoted\\" \\\\ word\\n"} 3',
        'jobs_total{status="failed",} +Inf',
        '# TYPE wait_seconds histogram',
        'wait_seconds_bucket{le="1"} 1',
        'wait_seconds_bucket{le="+Inf"} 2',
        'wait_seconds_sum 1.5e0',
        'wait_seconds_count 2',
        '# a comment',
        'plain NaN',
      ].join('\n'),
    );
    expect(families.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['jobs_total', 'counter', 2],
      ['wait_seconds', 'histogram', 4],
      ['plain', 'untyped', 1],
    ]);
    expect(families[0].help).toBe('Jobs by "status".\nSecond line');
    expect(families[0].samples[0].labels).toEqual({ status: 'done', note: 'a "quoted" \\ word\n' });
    expect(families[0].samples[1].value).toBe(Infinity);
    expect(families[1].samples[3]).toEqual({ name: 'wait_seconds_count', labels: {}, value: 2 });
    expect(families[2].help).toBeUndefined();
  });

  it.each([
    ['metric{a="1" 2', /line 1: invalid label set/],
    ['metric two', /line 1: invalid value "two"/],
    ['9metric 1', /line 1: invalid metric name/],
    ['metric{a="1",a="2"} 1', /label a given twice/],
    ['metric 1 1700000000000', /line 1: client-side timestamps are not supported/],
    ['m 1\n# TYPE m gauge', /line 2: TYPE for m after its samples/],
    ['# TYPE m gauge\n# TYPE m counter', /second TYPE line for m/],
    ['# TYPE m histogram\nm_bucket 1', /without an le label/],
    ['# TYPE m gauges', /unknown type/],
  ])('rejects %j', (text, message) => {
    expect(() => parseTextFormat(text)).toThrow(message);
  });
});

describe('textfile collector', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());
  let n = 0;
  const directory = (files: Record<string, string>): string => {
    const target = path.join(dir.path, `case${n++}`);
    fs.mkdirSync(target);
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(target, name), text);
    return target;
  };

  it('reads only *.prom files, with node_textfile_mtime_seconds{file} and scrape_error 0', async () => {
    const target = directory({
      'backup.prom': '# HELP backup_ok Backup state.\n# TYPE backup_ok gauge\nbackup_ok{job="db"} 1\n',
      'raid.prom': 'raid_degraded 0\n',
      'notes.txt': 'not_read 1\n',
      'partial.prom.tmp': 'not_read 1\n',
    });
    fs.utimesSync(path.join(target, 'raid.prom'), 1_700_000_000, 1_700_000_123.9);
    const { families, warnings } = await scrape(target);
    expect(value(families, 'backup_ok')).toBe(1);
    expect(families.get('raid_degraded')?.help).toBe(`Metric read from ${path.join(target, 'raid.prom')}`);
    expect(families.has('not_read')).toBe(false);
    expect(families.get('node_textfile_mtime_seconds')?.samples).toEqual([
      { labels: { file: path.join(target, 'backup.prom') }, value: expect.any(Number) },
      { labels: { file: path.join(target, 'raid.prom') }, value: 1_700_000_123 },
    ]);
    expect(value(families, 'node_textfile_scrape_error')).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('leaves a malformed file out with scrape_error 1 and keeps the other files', async () => {
    const target = directory({
      'a-good.prom': 'good_metric 1\n',
      'b-bad.prom': 'half_written_metric{job="x" 1\n',
      'c-good.prom': 'other_metric 2\n',
    });
    const { families, warnings } = await scrape(target);
    expect(value(families, 'good_metric')).toBe(1);
    expect(value(families, 'other_metric')).toBe(2);
    expect(families.has('half_written_metric')).toBe(false);
    expect(
      families.get('node_textfile_mtime_seconds')?.samples.map((s) => path.basename(String(s.labels.file))),
    ).toEqual(['a-good.prom', 'c-good.prom']);
    expect(value(families, 'node_textfile_scrape_error')).toBe(1);
    expect(warnings[0]).toMatch(/b-bad\.prom: line 1: invalid label set/);
  });

  it('rejects a file repeating a series or a type of an earlier file; same family, other series is fine', async () => {
    const target = directory({
      'a.prom': '# TYPE jobs gauge\njobs{queue="cpu"} 1\n',
      'b.prom': '# TYPE jobs gauge\njobs{queue="gpu"} 2\n',
      'c.prom': '# TYPE jobs gauge\njobs{queue="cpu"} 9\nunrelated 1\n',
      'd.prom': '# TYPE jobs counter\njobs{queue="io"} 3\n',
    });
    const { families, warnings } = await scrape(target);
    expect(families.get('jobs')?.samples.map((s) => [s.labels.queue, s.value])).toEqual([
      ['cpu', 1],
      ['gpu', 2],
    ]);
    expect(families.has('unrelated')).toBe(false);
    expect(value(families, 'node_textfile_scrape_error')).toBe(1);
    expect(warnings.join('\n')).toMatch(/c\.prom: duplicate series jobs\{queue="cpu"\}/);
    expect(warnings.join('\n')).toMatch(/d\.prom: jobs has type counter here but gauge in an earlier file/);
  });

  it('a missing directory is an error; no directory configured reads nothing', async () => {
    expect(value((await scrape(path.join(dir.path, 'absent'))).families, 'node_textfile_scrape_error')).toBe(
      1,
    );
    const none = await scrape('');
    expect([...none.families.keys()]).toEqual(['node_textfile_mtime_seconds', 'node_textfile_scrape_error']);
    expect(value(none.families, 'node_textfile_scrape_error')).toBe(0);
  });
});
