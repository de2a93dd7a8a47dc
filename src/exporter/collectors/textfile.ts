import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { MetricFamily } from '../../common/exposition';
import { errorMessage } from '../../common/errors';
import type { Collector, ScrapeLogger } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import { parseTextFormat, type ParsedFamily } from '../text-format';

interface ReadFile {
  readonly file: string;
  readonly mtimeSeconds: number;
  readonly families: ParsedFamily[];
}

/** name{labels} with the labels sorted and empty ones left out, as Prometheus identifies a series. */
function seriesKey(family: ParsedFamily, sample: MetricFamily['samples'][number]): string {
  const labels = Object.entries(sample.labels)
    .filter(([, value]) => value !== '')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${JSON.stringify(String(value))}`);
  return `${sample.name ?? family.name}{${labels.join(',')}}`;
}

/**
 * node_exporter's textfile collector: the `*.prom` files of a directory (what cron jobs and scripts
 * write), read whole at each scrape. A file that cannot be read or parsed, has timestamps, or
 * repeats a series or changes a family's type that an earlier file (by name) has is left out and
 * `node_textfile_scrape_error` is 1; the other files and the rest of the scrape are unaffected.
 */
export class TextfileCollector implements Collector {
  readonly name = 'textfile';

  constructor(
    private readonly directory: string,
    private readonly logger?: ScrapeLogger,
  ) {}

  async collect(sink: MetricSink): Promise<void> {
    const { files, errored } = await this.readFiles();
    const accepted = this.withoutConflicts(files);
    for (const family of this.merge(accepted.files)) sink.addFamily(family);
    const mtime = sink.gauge(
      'node_textfile_mtime_seconds',
      'Unixtime mtime of textfiles successfully read.',
      ['file'],
    );
    for (const { file, mtimeSeconds } of accepted.files) mtime.add(mtimeSeconds, file);
    sink
      .gauge('node_textfile_scrape_error', '1 if there was an error opening or reading a file, 0 otherwise')
      .add(errored || accepted.errored ? 1 : 0);
  }

  /** Every `*.prom` file, parsed, in name order; the ones that fail are logged and left out. */
  private async readFiles(): Promise<{ files: ReadFile[]; errored: boolean }> {
    if (this.directory === '') return { files: [], errored: false };
    let names: string[];
    try {
      names = (await fs.promises.readdir(this.directory)).filter((name) => name.endsWith('.prom')).sort();
    } catch (err) {
      this.logger?.warn(
        { path: this.directory, err: errorMessage(err) },
        'failed to read textfile directory',
      );
      return { files: [], errored: true };
    }
    const results = await Promise.all(names.map((name) => this.readFile(path.join(this.directory, name))));
    const files = results.filter((result): result is ReadFile => result !== undefined);
    return { files, errored: files.length !== results.length };
  }

  private async readFile(file: string): Promise<ReadFile | undefined> {
    try {
      const handle = await fs.promises.open(file, 'r');
      try {
        const [text, stat] = await Promise.all([handle.readFile('utf8'), handle.stat()]);
        return { file, mtimeSeconds: Math.floor(stat.mtimeMs / 1000), families: parseTextFormat(text) };
      } finally {
        await handle.close();
      }
    } catch (err) {
      this.logger?.warn({ file, err: errorMessage(err) }, 'textfile left out');
      return undefined;
    }
  }

  /** Leaves out a file that repeats a series or changes a type that an earlier file has. */
  private withoutConflicts(files: readonly ReadFile[]): { files: ReadFile[]; errored: boolean } {
    const series = new Set<string>();
    const types = new Map<string, string>();
    const accepted: ReadFile[] = [];
    for (const file of files) {
      const problem = conflict(file, series, types);
      if (problem) {
        this.logger?.warn({ file: file.file, err: problem }, 'textfile left out');
        continue;
      }
      for (const family of file.families) {
        types.set(family.name, family.type);
        for (const sample of family.samples) series.add(seriesKey(family, sample));
      }
      accepted.push(file);
    }
    return { files: accepted, errored: accepted.length !== files.length };
  }

  /** One family per name; a family without HELP gets node_exporter's "Metric read from <files>". */
  private merge(files: readonly ReadFile[]): MetricFamily[] {
    const byName = new Map<string, { family: ParsedFamily; files: string[] }>();
    for (const { file, families } of files) {
      for (const family of families) {
        const seen = byName.get(family.name);
        if (!seen)
          byName.set(family.name, { family: { ...family, samples: [...family.samples] }, files: [file] });
        else {
          seen.family.samples.push(...family.samples);
          seen.family.help ??= family.help;
          seen.files.push(file);
        }
      }
    }
    return [...byName.values()].map(({ family, files: from }) => ({
      ...family,
      help: family.help ?? `Metric read from ${from.join(', ')}`,
    }));
  }
}

function conflict(file: ReadFile, series: Set<string>, types: Map<string, string>): string | undefined {
  const own = new Set<string>();
  for (const family of file.families) {
    const type = types.get(family.name);
    if (type !== undefined && type !== family.type) {
      return `${family.name} has type ${family.type} here but ${type} in an earlier file`;
    }
    for (const sample of family.samples) {
      const key = seriesKey(family, sample);
      if (series.has(key) || own.has(key)) return `duplicate series ${key}`;
      own.add(key);
    }
  }
  return undefined;
}

export const textfile = defineCollector({
  name: 'textfile',
  enabledByDefault: true,
  /** node_exporter's default is none (Debian's package sets /var/lib/prometheus/node-exporter). */
  settings: { directory: z.string().default('') },
  flags: [
    {
      flag: 'directory',
      key: 'directory',
      kind: 'path',
      help: 'directory to read text files with metrics from (*.prom)',
    },
  ],
  create: (settings, { logger }) => new TextfileCollector(settings.directory, logger),
});
