import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { errorMessage } from '../common/errors';
import { encodePiece, ExpositionWriter, singlePrecision } from '../common/exposition-writer';
import type { Logger } from '../common/logger';
import type { MatrixSeries } from '../common/matrix-parser';
import { PrometheusError } from '../common/prometheus-client';
import { shardQuery, type DetectorConfig } from '../config/detector';
import {
  BANDED_DETECTORS,
  FIRING_DETECTORS,
  SeriesModel,
  type FiringDetector,
  type ModelSettings,
  type Verdict,
} from './algorithms/model';
import { historyNeeded, modelSettings, resolveRule, type ResolvedRule } from './rules';
import { labelTextOf, ownCopy } from './label-text';
import { inShard, seriesKey, seriesLabels } from './sharding';
import { ESTIMATE_FIELDS, VerdictTable } from './verdicts';

/** What the engine needs from a Prometheus client (PrometheusClient, or a fake in tests). */
export interface RangeSource {
  /** Hands each series of the answer to `visit`; resolves to the series count of the answer. */
  queryRangeEach(
    expr: string,
    startMs: number,
    endMs: number,
    stepMs: number,
    visit: (series: MatrixSeries) => void,
  ): Promise<number>;
}

/** One rule: its query, its series and where its last fetch ended. */
export class RuleState {
  readonly settings: ModelSettings;
  readonly history: number;
  /**
   * Each series by its output label text (labelTextOf: source labels + rule, what /metrics
   * writes), to its slot: in the VerdictTable (its latest verdict), `models` and `seenAt`. One
   * string and one number per series, not an object: at 100,000 series every object counts.
   */
  readonly series = new Map<string, number>();
  readonly verdicts = new VerdictTable();
  /** By slot: the series' model (undefined once the slot is free). */
  readonly models: Array<SeriesModel | undefined> = [];
  /** By slot: wall-clock time the series was last returned by its query. */
  readonly seenAt: number[] = [];
  /** End (aligned to the step) of the last successful fetch; undefined until the backfill. */
  fetchedUntil: number | undefined;
  lastError: string | undefined;
  attempted = false;
  /** Series in the rule's last answer (NaN before the first): sizes the next requests. */
  seriesPerAnswer = NaN;

  /** `query` is what is sent: the rule's own, or with the shard's matcher (`shard_label`). */
  constructor(
    readonly rule: ResolvedRule,
    readonly query = rule.query,
  ) {
    this.settings = modelSettings(rule);
    this.history = historyNeeded(rule);
  }

  /** Forgets every series. */
  clear(): void {
    for (const model of this.models) model?.release();
    this.series.clear();
    this.verdicts.clear();
    this.models.length = 0;
    this.seenAt.length = 0;
  }

  /** Tracks a new series from `model` on; returns its slot. */
  add(labelText: string, model: SeriesModel, seenAt: number): number {
    const slot = this.verdicts.allocate();
    this.series.set(ownCopy(labelText), slot);
    this.models[slot] = model;
    this.seenAt[slot] = seenAt;
    return slot;
  }

  /** Forgets one series. */
  remove(labelText: string): void {
    const slot = this.series.get(labelText);
    if (slot === undefined) return;
    this.series.delete(labelText);
    this.models[slot]?.release();
    this.models[slot] = undefined;
    this.verdicts.release(slot);
  }
}

export interface EngineMetrics {
  up: Gauge;
  ruleInfo: Gauge<'rule' | 'query'>;
  ruleUp: Gauge<'rule'>;
  cycleSeconds: Histogram<'rule'>;
  series: Gauge<'rule'>;
  samples: Counter<'rule'>;
  errors: Counter<'rule' | 'kind'>;
}

export function engineMetrics(registry: Registry): EngineMetrics {
  const registers = [registry];
  return {
    up: new Gauge({
      name: 'vigil_detector_up',
      help: '1 if the last query reached Prometheus, 0 if it was unreachable.',
      registers,
    }),
    // The bridge reads a rule's query here to draw the observed series of an anomaly alert.
    ruleInfo: new Gauge({
      name: 'vigil_detector_rule_info',
      help: "Always 1: the rule's PromQL query in the `query` label.",
      labelNames: ['rule', 'query'],
      registers,
    }),
    ruleUp: new Gauge({
      name: 'vigil_detector_rule_up',
      help: '1 if the last cycle of the rule succeeded, 0 if its query failed.',
      labelNames: ['rule'],
      registers,
    }),
    cycleSeconds: new Histogram({
      name: 'vigil_detector_cycle_duration_seconds',
      help: 'Time of one detector cycle of a rule (fetch, update, publish).',
      labelNames: ['rule'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    series: new Gauge({
      name: 'vigil_detector_series',
      help: 'Series the rule currently tracks (in this shard).',
      labelNames: ['rule'],
      registers,
    }),
    samples: new Counter({
      name: 'vigil_detector_samples_fetched_total',
      help: 'Samples received from Prometheus for the rule.',
      labelNames: ['rule'],
      registers,
    }),
    errors: new Counter({
      name: 'vigil_detector_query_errors_total',
      help: 'Failed queries of the rule by kind (bad_query, unavailable, timeout, bad_response).',
      labelNames: ['rule', 'kind'],
      registers,
    }),
  };
}

export interface EngineOptions {
  config: DetectorConfig;
  source: RangeSource;
  metrics: EngineMetrics;
  logger: Logger;
  now?: () => number;
}

/** The anomaly output families of the banded detectors, with the verdict field each shows. */
const OUTPUTS = [
  [
    'vigil_anomaly_score',
    'How unusual the latest point is, signed: in (robust) standard deviations for zscore and seasonal, in widths of the seen range beyond it for range.',
    'score',
  ],
  [
    'vigil_anomaly_expected',
    'The baseline the latest point was compared with (for range, the middle of the seen range).',
    'expected',
  ],
  ['vigil_anomaly_lower', 'Lower edge of the normal band: the detector alerts below it.', 'lower'],
  ['vigil_anomaly_upper', 'Upper edge of the normal band: the detector alerts above it.', 'upper'],
].map(([name, help, field]) => ({
  header: encodePiece(`# HELP ${name} ${help}\n# TYPE ${name} gauge\n`),
  /** `name{`: the series' label text follows. */
  opening: encodePiece(`${name}{`),
  field: field as keyof typeof ESTIMATE_FIELDS,
}));

/** `,detector="<name>"} ` per banded detector: what follows the label text, then the value. */
const DETECTOR_CLOSINGS = BANDED_DETECTORS.map((detector) => encodePiece(`,detector="${detector}"} `));

const ANOMALY = {
  header: encodePiece(
    '# HELP vigil_anomaly 1 while the combined, debounced decision says the series is anomalous, else 0.\n# TYPE vigil_anomaly gauge\n',
  ),
  opening: encodePiece('vigil_anomaly{'),
  closing: encodePiece('} '),
};

/** Sparse: only anomalous series have a line, by the detector that decided. */
const STRENGTH = {
  header: encodePiece(
    '# HELP vigil_anomaly_strength Only while vigil_anomaly is 1: how far over its own threshold the latest point is (1 = at it), by the detector that decided (zscore, seasonal, range, novelty or shift).\n# TYPE vigil_anomaly_strength gauge\n',
  ),
  opening: encodePiece('vigil_anomaly_strength{'),
  closings: Object.fromEntries(
    FIRING_DETECTORS.map((detector) => [detector, encodePiece(`,detector="${detector}"} `)]),
  ) as Record<FiringDetector, Uint8Array>,
};

/**
 * The detector's cycle: per rule, fetch the points since the last fetch (a backfill of the
 * history the models need on the first cycle), feed them to per-series models, forget series
 * that went away, and keep the latest verdicts for /metrics.
 */
export class DetectorEngine {
  readonly rules: RuleState[];
  private readonly now: () => number;
  /** Cycles run so far (of any rule): the outputs change only with it. */
  cycles = 0;
  /** Size of the last rendering: the next one starts with a buffer that fits. */
  private renderedBytes = 0;

  constructor(private readonly options: EngineOptions) {
    const { defaults, rules, shard, shard_label: label } = options.config;
    this.rules = rules.map(
      (rule) =>
        new RuleState(resolveRule(rule, defaults), label ? shardQuery(rule.query, label, shard) : rule.query),
    );
    this.now = options.now ?? Date.now;
    for (const { rule } of this.rules) {
      options.metrics.series.set({ rule: rule.name }, 0);
      options.metrics.ruleInfo.set({ rule: rule.name, query: rule.query }, 1);
    }
  }

  /** Every rule has had its first cycle (successful or not). */
  get ready(): boolean {
    return this.rules.every((rule) => rule.attempted);
  }

  /** One cycle of one rule; never throws (failures go to the log and the metrics). */
  async runRule(state: RuleState): Promise<void> {
    const { metrics, logger, config } = this.options;
    const name = state.rule.name;
    const stopTimer = metrics.cycleSeconds.startTimer({ rule: name });
    const step = state.settings.stepMs;
    const end = Math.floor((this.now() - config.lag) / step) * step;
    const start =
      state.fetchedUntil === undefined
        ? end - Math.ceil(state.history / step) * step
        : Math.max(
            state.fetchedUntil - Math.ceil(config.overlap / step) * step,
            end - Math.ceil(state.history / step) * step,
          );
    try {
      // Requests are sized from the series count the last answer had, so that a backfill over
      // thousands of series does not ask for millions of samples at once. The very first request
      // of a rule is a single step: it tells how many series there are.
      for (let from = start; from <= end;) {
        // A rule restored from a snapshot knows its series already.
        const known = Number.isNaN(state.seriesPerAnswer) ? state.series.size || NaN : state.seriesPerAnswer;
        const perSeries = Number.isNaN(known)
          ? 1
          : Math.floor(config.max_samples_per_query / Math.max(known, 1));
        const steps = Math.max(1, Math.min(perSeries, Math.floor(config.backfill_chunk / step)));
        const to = Math.min(end, from + (steps - 1) * step);
        const now = this.now();
        let samples = 0;
        state.seriesPerAnswer = await this.options.source.queryRangeEach(
          state.query,
          from,
          to,
          step,
          (series) => {
            samples += series.values.length;
            this.ingest(state, series, now);
          },
        );
        metrics.samples.inc({ rule: name }, samples);
        from = to + step;
      }
      state.fetchedUntil = Math.max(end, state.fetchedUntil ?? end);
      this.dropStale(state);
      metrics.up.set(1);
      metrics.ruleUp.set({ rule: name }, 1);
      if (state.lastError) logger.info({ rule: name }, 'rule recovered');
      state.lastError = undefined;
    } catch (err) {
      const kind = err instanceof PrometheusError ? err.kind : 'bad_response';
      const message = errorMessage(err);
      metrics.errors.inc({ rule: name, kind });
      metrics.ruleUp.set({ rule: name }, 0);
      if (kind === 'unavailable' || kind === 'timeout') metrics.up.set(0);
      else metrics.up.set(1);
      // Once per change, not once per cycle: a Prometheus that is down for an hour must not
      // bury the log in identical lines; the metrics count every failure.
      if (message !== state.lastError) {
        logger.error({ rule: name, kind, err: message }, `rule ${name}: query failed`);
      } else {
        logger.debug({ rule: name, kind, err: message }, `rule ${name}: query still failing`);
      }
      state.lastError = message;
    } finally {
      this.cycles++;
      state.attempted = true;
      metrics.series.set({ rule: name }, state.series.size);
      stopTimer();
    }
  }

  private ingest(state: RuleState, series: MatrixSeries, now: number): void {
    const labelText = labelTextOf(series.metricText, state.rule.name);
    let slot = state.series.get(labelText);
    if (slot === undefined) {
      const { shard, shard_label: label } = this.options.config;
      // Sharded by query, every series of the answer is this replica's.
      if (!label && shard.count > 1) {
        const labels = seriesLabels(JSON.parse(series.metricText) as Record<string, string>);
        if (!inShard(seriesKey(labels), shard)) return;
      }
      slot = state.add(labelText, new SeriesModel(state.settings), now);
    }
    state.seenAt[slot] = now;
    const model = state.models[slot]!;
    const { timestamps, values } = series;
    let latest: Verdict | undefined;
    for (let i = 0; i < timestamps.length; i++) latest = model.update(timestamps[i], values[i]) ?? latest;
    if (latest) state.verdicts.write(slot, latest);
  }

  private dropStale(state: RuleState): void {
    const cutoff = this.now() - this.options.config.stale_after;
    for (const [labelText, slot] of state.series) if (state.seenAt[slot] < cutoff) state.remove(labelText);
  }

  /**
   * The anomaly outputs of every tracked series as exposition bytes (gauges read the same in the
   * text format and OpenMetrics), written from the verdict tables: with 100,000 series that is
   * 1.3 million lines, so no string per line: pre-encoded pieces, the label text and the value
   * go straight into one buffer sized from the last rendering, or into `reusable` (the last
   * rendering's bytes, once nothing reads them) when it is large enough. A rule is left out until
   * its backfill has completed: its models are fed the history in order, and in between they hold
   * a verdict about a point hours back, which a scrape would take for the present.
   */
  renderOutputs(reusable?: Buffer): Buffer {
    const out = new ExpositionWriter(this.renderedBytes, reusable);
    const rules = this.rules.filter((state) => state.fetchedUntil !== undefined);
    for (const family of OUTPUTS) {
      const offset = ESTIMATE_FIELDS[family.field];
      // The band stays inside the series' domain; the score and baseline are the model's own.
      const clip = family.field === 'lower' || family.field === 'upper';
      for (const state of rules) {
        const { min = -Infinity, max = Infinity } = state.rule;
        const { verdicts } = state;
        for (const [labelText, slot] of state.series) {
          for (let index = 0; index < BANDED_DETECTORS.length; index++) {
            const at = verdicts.estimateAt(slot, index);
            if (at < 0) continue;
            const estimate = verdicts.float(at + offset);
            const value = clip ? singlePrecision(Math.min(max, Math.max(min, estimate))) : estimate;
            out.sample(family, labelText, DETECTOR_CLOSINGS[index], value);
          }
        }
      }
    }
    for (const { series, verdicts } of rules) {
      for (const [labelText, slot] of series) {
        if (verdicts.has(slot))
          out.sample(ANOMALY, labelText, ANOMALY.closing, verdicts.anomalous(slot) ? 1 : 0);
      }
    }
    // Sparse: only the anomalous series have a line, so quiet series cost nothing here.
    for (const { series, verdicts } of rules) {
      for (const [labelText, slot] of series) {
        if (!verdicts.has(slot) || !verdicts.anomalous(slot)) continue;
        const detector = verdicts.detector(slot);
        if (detector !== undefined)
          out.sample(STRENGTH, labelText, STRENGTH.closings[detector], verdicts.strength(slot));
      }
    }
    const bytes = out.bytes();
    this.renderedBytes = bytes.length;
    return bytes;
  }
}
