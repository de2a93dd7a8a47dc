import type { MetricFamily } from '../common/exposition';
import { MetricSink, mergeFamilies } from './exposition';

/** One source of host metrics, like a node_exporter collector. */
export interface Collector {
  /** The `collector` label of node_scrape_collector_*; also the name of its enable flag. */
  readonly name: string;
  collect(sink: MetricSink): void | Promise<void>;
  /** Begins background work (following files, priming a cache) when the exporter starts. */
  start?(): void | Promise<void>;
  /** Stops that work when the exporter closes. */
  close?(): void | Promise<void>;
}

/**
 * Thrown when a collector has nothing to report on this host (e.g. no PSI support): the scrape
 * reports success 0 for it, as node_exporter does, but it is not logged as a failure.
 */
export class NoDataError extends Error {}

export interface ScrapeLogger {
  warn(fields: object, msg: string): void;
  debug(fields: object, msg: string): void;
}

export interface RegistryOptions {
  /** A collector still running after this long is cut off and reports success 0. */
  timeoutMs: number;
  logger?: ScrapeLogger;
}

class CollectorTimeout extends Error {}

/**
 * Runs all collectors concurrently on each scrape, each under a timeout, and adds
 * node_scrape_collector_success / node_scrape_collector_duration_seconds per collector.
 */
export class CollectorRegistry {
  // A collector whose run timed out is not started again until that run settles, so a stuck one
  // costs one pending call rather than one per scrape. Runs that are merely in progress (two
  // Prometheus servers scraping at once) do not block each other.
  private readonly hung = new Map<string, Promise<unknown>>();

  constructor(
    readonly collectors: readonly Collector[],
    private readonly options: RegistryOptions,
  ) {}

  async scrape(): Promise<MetricFamily[]> {
    const results = await Promise.all(this.collectors.map((collector) => this.run(collector)));
    const success = new MetricSink().gauge(
      'node_scrape_collector_success',
      'node_exporter: Whether a collector succeeded.',
      ['collector'],
    );
    const duration = new MetricSink().gauge(
      'node_scrape_collector_duration_seconds',
      'node_exporter: Duration of a collector scrape.',
      ['collector'],
    );
    const families: MetricFamily[] = [success.family, duration.family];
    for (const result of results) {
      success.add(result.ok ? 1 : 0, result.name);
      duration.add(result.seconds, result.name);
      families.push(...result.families);
    }
    return mergeFamilies(families);
  }

  private async run(
    collector: Collector,
  ): Promise<{ name: string; ok: boolean; seconds: number; families: MetricFamily[] }> {
    const { name } = collector;
    if (this.hung.has(name)) {
      this.options.logger?.warn(
        { collector: name },
        'collector still running from an earlier scrape that timed out; skipped',
      );
      return { name, ok: false, seconds: 0, families: [] };
    }
    const sink = new MetricSink();
    // Collectors share the event loop, so each one's duration is taken from its own start to its
    // own end, not to the moment this function resumes.
    let start = 0n;
    let end: bigint | undefined;
    const run = Promise.resolve()
      .then(() => {
        start = process.hrtime.bigint();
        const result = collector.collect(sink);
        if (!(result instanceof Promise)) {
          end = process.hrtime.bigint();
          return;
        }
        return result.finally(() => {
          end = process.hrtime.bigint();
        });
      })
      .finally(() => {
        if (this.hung.get(name) === run) this.hung.delete(name);
      });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CollectorTimeout()), this.options.timeoutMs);
      timer.unref();
    });
    const seconds = (): number => Number((end ?? process.hrtime.bigint()) - start) / 1e9;
    try {
      await Promise.race([run, timeout]);
      return { name, ok: true, seconds: seconds(), families: sink.families };
    } catch (err) {
      this.logFailure(name, err, seconds());
      if (err instanceof CollectorTimeout) this.hung.set(name, run);
      // A late result from a timed-out run is dropped: `sink` is no longer read.
      run.catch(() => undefined);
      return { name, ok: false, seconds: seconds(), families: [] };
    } finally {
      clearTimeout(timer);
    }
  }

  private logFailure(name: string, err: unknown, seconds: number): void {
    const logger = this.options.logger;
    if (!logger) return;
    if (err instanceof CollectorTimeout) {
      logger.warn({ collector: name, timeout_ms: this.options.timeoutMs }, 'collector timed out');
    } else if (err instanceof NoDataError) {
      logger.debug({ collector: name, reason: err.message }, 'collector returned no data');
    } else {
      const reason = err instanceof Error ? err.message : String(err);
      logger.warn({ collector: name, err: reason, duration_seconds: seconds }, 'collector failed');
    }
  }
}
