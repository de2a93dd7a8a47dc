import fs from 'node:fs';
import path from 'node:path';
import { parseSeriesCsv, parseWindows } from '../../src/detector/backtest/csv';
import { runVigil } from '../helpers/vigil';
import { tempDir } from '../helpers/tmp';
import { MINUTE, noise } from './series';

const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('.000Z', '');

/**
 * A small NAB-shaped corpus: `flat/` series with one spike each (labelled), `quiet/` series with
 * none. 5-minute rows over 10 days.
 */
function writeCorpus(dir: string): { labels: string; data: string } {
  const data = path.join(dir, 'data');
  const windows: Record<string, string[][]> = {};
  const start = Date.UTC(2024, 2, 1);
  const rows = 2880;
  for (const [category, count, spiky] of [
    ['spiky', 3, true],
    ['quiet', 2, false],
  ] as const) {
    fs.mkdirSync(path.join(data, category), { recursive: true });
    for (let f = 0; f < count; f++) {
      const rand = noise(100 + f + (spiky ? 0 : 50));
      const spikeAt = 1500 + f * 300;
      const lines = ['timestamp,value'];
      for (let i = 0; i < rows; i++) {
        const value = 50 + rand() * 4 + (spiky && i >= spikeAt && i < spikeAt + 6 ? 40 : 0);
        lines.push(`${stamp(start + i * 5 * MINUTE)},${value}`);
      }
      const name = `${category}/series_${f}.csv`;
      fs.writeFileSync(path.join(data, name), `${lines.join('\n')}\n`);
      windows[name] = spiky
        ? [
            [
              `${stamp(start + (spikeAt - 20) * 5 * MINUTE)}.000000`,
              `${stamp(start + (spikeAt + 20) * 5 * MINUTE)}.000000`,
            ],
          ]
        : [];
    }
  }
  const labels = path.join(dir, 'labels.json');
  fs.writeFileSync(labels, JSON.stringify(windows, null, 2));
  return { labels, data };
}

describe('vigil backtest', () => {
  let dir: ReturnType<typeof tempDir>;
  let corpus: { labels: string; data: string };
  beforeAll(() => {
    dir = tempDir();
    corpus = writeCorpus(dir.path);
  });
  afterAll(() => dir.remove());

  test('--json: NAB scores per profile; spikes found, quiet files clean; results in NAB format', () => {
    const results = path.join(dir.path, 'results');
    const run = runVigil([
      'backtest',
      '--data',
      corpus.data,
      '--labels',
      corpus.labels,
      '--results',
      results,
      '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(Object.keys(report.nab).sort()).toEqual(['reward_low_FN_rate', 'reward_low_FP_rate', 'standard']);
    // Every spike is caught early in its window and nothing else is flagged.
    expect(report.nab.standard).toBeGreaterThan(90);
    expect(report.windows).toBe(3);
    for (const file of report.per_file) {
      expect(file.false_positives).toBe(0);
      expect(file.detected).toBe(file.windows);
    }
    const written = fs
      .readFileSync(path.join(results, 'spiky', 'series_0.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(written[0]).toBe('timestamp,value,anomaly_score,label');
    expect(written).toHaveLength(2881);
    const rows = written.slice(1).map((line) => line.split(','));
    expect(rows.every((r) => Number(r[2]) >= 0 && Number(r[2]) <= 1)).toBe(true);
    // Labels mark the 41 rows of the window; the highest score sits on the spike's first row.
    expect(rows.filter((r) => r[3] === '1')).toHaveLength(41);
    const top = rows.reduce((best, r, i) => (Number(r[2]) > Number(rows[best][2]) ? i : best), 0);
    expect(top).toBe(1500);
  });

  test('tables by default; --detector picks the detector', () => {
    const run = runVigil([
      'backtest',
      '--data',
      corpus.data,
      '--labels',
      corpus.labels,
      '--detector',
      'zscore',
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/spiky\/series_0\.csv\s+2880\s+1\s+1\s+0/);
    expect(run.stdout).toMatch(/detector: zscore, 5 files, 3 windows/);
    expect(run.stdout).toMatch(/^standard\s+\d+\.\d/m);
    expect(run.stdout).toMatch(/^reward_low_FP_rate\s/m);
    expect(run.stdout).toMatch(/^reward_low_FN_rate\s/m);
  });

  test('--config: detector.defaults are what is tested; --rule picks a rule', () => {
    const config = path.join(dir.path, 'vigil.yml');
    fs.writeFileSync(
      config,
      'detector:\n  defaults: { seasonal: { enabled: false }, range: { enabled: false }, novelty: { enabled: false } }\n  rules:\n    - { name: spiky, query: up, direction: low }\n',
    );
    const args = ['backtest', '--data', corpus.data, '--labels', corpus.labels, '--json'];
    const fromConfig = JSON.parse(runVigil([...args, '--config', config]).stdout);
    const zscoreOnly = JSON.parse(runVigil([...args, '--detector', 'zscore']).stdout);
    expect(fromConfig.nab).toEqual(zscoreOnly.nab);
    // The spikes go up: a rule watching only drops finds none of them.
    const low = JSON.parse(runVigil([...args, '--config', config, '--rule', 'spiky']).stdout);
    expect(low.per_file.every((f: { detected: number }) => f.detected === 0)).toBe(true);
    const missing = runVigil([...args, '--config', config, '--rule', 'nope']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`vigil: --rule nope: no such rule in ${config}\n`);
  });

  test('malformed CSV: one line naming the file and the line, exit 2', () => {
    const bad = path.join(dir.path, 'bad');
    fs.mkdirSync(path.join(bad, 'x'), { recursive: true });
    fs.writeFileSync(
      path.join(bad, 'x', 'broken.csv'),
      'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,abc\n',
    );
    fs.writeFileSync(path.join(dir.path, 'bad-labels.json'), '{"x/broken.csv": []}');
    const run = runVigil(['backtest', '--data', bad, '--labels', path.join(dir.path, 'bad-labels.json')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`vigil: ${path.join(bad, 'x', 'broken.csv')}:3: invalid value "abc"\n`);
  });

  test('a file missing from the labels, and labels that are not NAB windows, are named', () => {
    fs.writeFileSync(path.join(dir.path, 'partial.json'), '{"spiky/series_0.csv": []}');
    const missing = runVigil([
      'backtest',
      '--data',
      corpus.data,
      '--labels',
      path.join(dir.path, 'partial.json'),
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/partial\.json: no windows listed for quiet\/series_0\.csv\n$/);
  });
});

describe('CSV and labels parsing', () => {
  test('NAB timestamps, ISO and Unix seconds; NaN and empty values are gaps', () => {
    const series = parseSeriesCsv(
      'timestamp,value\n2014-04-01 00:00:00,1\n2014-04-01T00:05:00Z,\n1396311000,nan\n',
      'f.csv',
    );
    expect(series.timestamps).toEqual([1396310400000, 1396310700000, 1396311000000]);
    expect(series.values[0]).toBe(1);
    expect(series.values.slice(1).every(Number.isNaN)).toBe(true);
  });

  test('errors name file and line', () => {
    expect(() => parseSeriesCsv('timestamp,value\n2014-04-01 00:00:00\n', 'f.csv')).toThrow(
      'f.csv:2: expected "timestamp,value"',
    );
    expect(() => parseSeriesCsv('timestamp,value\nyesterday,1\n', 'f.csv')).toThrow(
      'f.csv:2: invalid timestamp "yesterday"',
    );
    expect(() => parseSeriesCsv('timestamp,value\n', 'f.csv')).toThrow('f.csv: no data rows');
    expect(() => parseWindows('{"a.csv": [["2014-01-02", "x"]]}', 'l.json')).toThrow(
      'l.json: a.csv[0]: expected [start, end] timestamps',
    );
    expect(() => parseWindows('[1]', 'l.json')).toThrow(/l\.json: expected an object/);
  });
});
