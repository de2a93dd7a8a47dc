import { z } from 'zod';
import type { LogGroupConfig } from '../../config/logs';
import { duration } from '../../config/types';
import type { Collector } from '../collector';
import { defineCollector } from '../descriptor';
import type { MetricSink } from '../exposition';
import { compileRules, type LogMetric, type LogRule } from '../logs/rules';
import { LogTailer, type TailerLogger, type TailSettings } from '../logs/tailer';

/**
 * Numbers parsed from log files (`exporter.logs`). Files are followed in the background from
 * start to close; a scrape only copies the metrics out, so a slow or huge file never delays it.
 */
export class LogCollector implements Collector {
  readonly name = 'logs';
  private readonly tailer: LogTailer;
  private readonly metrics: LogMetric[];
  private readonly rules: LogRule[];

  constructor(
    groups: readonly LogGroupConfig[],
    settings: TailSettings & { maxSeriesPerMetric: number },
    logger: TailerLogger,
  ) {
    const { ruleSets, metrics } = compileRules(groups, settings.maxSeriesPerMetric);
    this.metrics = metrics;
    this.rules = ruleSets.flatMap((set) => set.rules);
    this.tailer = new LogTailer(
      groups.map((config, i) => ({ config, ruleSets: ruleSets[i] })),
      settings,
      logger,
    );
  }

  start(): void {
    this.tailer.start();
  }

  close(): Promise<void> {
    return this.tailer.close();
  }

  collect(sink: MetricSink): void {
    for (const metric of this.metrics) sink.families.push(metric.family());
    const files = this.tailer.files;
    sink
      .gauge('vigil_log_files_followed', 'Log files open for reading (matched by exporter.logs and present).')
      .add(files.filter((file) => file.following).length);
    const perFile = (
      name: string,
      help: string,
      value: (stats: (typeof files)[number]['stats']) => number,
    ) => {
      const family = name.endsWith('_total')
        ? sink.counter(name, help, ['file'])
        : sink.gauge(name, help, ['file']);
      for (const file of files) family.add(value(file.stats), file.path);
    };
    perFile('vigil_log_lines_read_total', 'Complete lines read from a log file.', (s) => s.linesRead);
    perFile(
      'vigil_log_lines_too_long_total',
      'Lines longer than max_line_bytes, skipped.',
      (s) => s.linesTooLong,
    );
    perFile(
      'vigil_log_lag_bytes',
      'Bytes between the read position and the end of a log file.',
      (s) => s.lagBytes,
    );
    perFile(
      'vigil_log_read_errors_total',
      'Failed reads of a log file (each retried on the next round).',
      (s) => s.readErrors,
    );
    const rotations = sink.counter(
      'vigil_log_rotations_total',
      'Rotations seen: rename (the file was renamed or deleted) or truncate (copytruncate).',
      ['file', 'kind'],
    );
    for (const file of files) {
      rotations.add(file.stats.renames, file.path, 'rename');
      rotations.add(file.stats.truncations, file.path, 'truncate');
    }
    const matches = sink.counter('vigil_log_rule_matches_total', 'Lines matched by a log rule.', [
      'rule',
      'metric',
    ]);
    const parseErrors = sink.counter(
      'vigil_log_parse_errors_total',
      'Matched lines whose value group was not a number (or negative for a counter), so not counted.',
      ['rule', 'metric'],
    );
    for (const rule of this.rules) {
      matches.add(rule.matches, rule.id, rule.metric.name);
      parseErrors.add(rule.parseErrors, rule.id, rule.metric.name);
    }
    const dropped = sink.counter(
      'vigil_log_series_dropped_total',
      'Matches not exported because their metric already had max_series_per_metric label sets.',
      ['metric'],
    );
    for (const metric of this.metrics) dropped.add(metric.dropped, metric.name);
  }
}

const settings = {
  /** Read positions, so a restart neither rereads nor skips lines; written atomically. */
  state_file: z.string().min(1).default('./data/log-positions.json'),
  /** How often files are checked for new lines, new files and rotation. */
  poll_interval: duration().default(1000),
  /** New label sets past this many per metric are counted in vigil_log_series_dropped_total. */
  max_series_per_metric: z.number().int().min(1).default(1000),
};

/** On when `exporter.logs` lists files; its settings say how they are followed. */
export const logs = defineCollector({
  name: 'logs',
  enabledByDefault: true,
  settings,
  create: (own: z.output<z.ZodObject<typeof settings>>, { config, logger }) =>
    config.logs.length === 0
      ? undefined
      : new LogCollector(
          config.logs,
          {
            stateFile: own.state_file,
            pollIntervalMs: own.poll_interval,
            maxSeriesPerMetric: own.max_series_per_metric,
          },
          logger ?? { warn: () => undefined },
        ),
});
