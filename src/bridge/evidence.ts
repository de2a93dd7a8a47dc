import { errorMessage } from '../common/errors';
import { PrometheusError, type PrometheusClient, type RangeSeries } from '../common/prometheus-client';
import { promString } from '../common/promql';
import { bandsFor, explainAnomaly } from './explain';
import type { CircuitBreakerOptions } from './circuit-breaker';
import type { Alert, Notification } from './payload';
import { exprFromGeneratorUrl, graphQueryFor, matchAlertSeries, seriesName, type GraphQuery } from './query';
import type { ChartBand, ChartSeries, ChartSpec } from './render/chart';
import { renderGraph } from './render-task';
import { unitFor, type Unit } from './render/units';

/**
 * Gathering the evidence of one notification's alerts: the data around each from Prometheus, a
 * rendered graph, the plotted data as CSV and, for the detector's anomalies, the normal band and a
 * sentence explaining it. In the bridge this runs in the evidence workers (evidence-pool.ts), so
 * neither the queries nor the parsing of Prometheus' answers nor the drawing take the event loop
 * that acknowledges webhooks; the event loop keeps the circuit breaker (enrich.ts) and replays what
 * a gathering reports: the outcome of each query for the breaker, and the counts for the metrics.
 * A failing query never stops a notification: the alert then carries the reason instead of a graph.
 */

export interface GraphSettings {
  lookbackMs: number;
  maxRangeMs: number;
  points: number;
  width: number;
  maxSeries: number;
  maxGraphs: number;
  timeZone: string;
  /** Longest query (bytes) sent to Prometheus on a payload's behalf; longer ones are not sent. */
  maxQueryBytes: number;
  /** When to stop asking an unreachable Prometheus, and for how long. */
  circuitBreaker: CircuitBreakerOptions;
  /** Alerts listed in one message; the rest are counted. */
  maxListedAlerts: number;
  /** About how large the listed alerts (text, graphs, CSVs) of one message may grow. */
  maxMessageBytes: number;
}

export interface Graph {
  /** Id under /graph/<id>.png. */
  id: string;
  /**
   * The PNG, in the graph store's directory: channels read it from there when they send, so the
   * evidence of deliveries in flight holds no images in memory.
   */
  file: string;
  /** Size of the PNG. */
  bytes: number;
  /** The data the graph shows as CSV, in the graph store's directory beside the PNG. */
  csvFile: string;
  csvBytes: number;
  /** A file name for the CSV attachment. */
  csvName: string;
  /** The last point of the data's first series: the alert's value when it has no `value` annotation. */
  lastValue?: number;
}

export interface AlertEvidence {
  alert: Alert;
  query?: string;
  unit: Unit;
  graph?: Graph;
  /** Why there is no graph, for people. */
  graphError?: string;
  /** For anomaly alerts: what makes the value unusual. */
  explanation?: string;
}

export interface EnrichedNotification {
  notification: Notification;
  /** The alerts a message lists, at most `maxListedAlerts` and `maxMessageBytes` of them. */
  alerts: AlertEvidence[];
  /** Alerts of the notification not listed, to be counted in the message ("and 19,990 more"). */
  omittedAlerts?: number;
}

export interface GatherHooks {
  /** Seconds one graph took to render. */
  onRender?(seconds: number): void;
  /**
   * An alert that should have had a graph goes without (query failed, Prometheus down, render error),
   * or an anomaly rule's query could not be looked up (the graph then lacks the observed line).
   */
  onGraphError?(): void;
  /** A query not sent (too long) or refused by Prometheus (timed out, too expensive). */
  onQueryRefused?(reason: QueryRefusal): void;
  /** An alert goes without a graph because the circuit to Prometheus is open: nothing was asked. */
  onGraphSkipped?(): void;
}

export type QueryRefusal = 'too_long' | 'timeout' | 'too_expensive';

/** A query from a payload over `maxQueryBytes`: never sent, so it cannot cost Prometheus anything. */
export class QueryTooLong extends Error {
  constructor(bytes: number, limit: number) {
    super(
      `the query is ${bytes} bytes, over bridge.graph.max_query_bytes (${limit}): not sent to Prometheus`,
    );
    this.name = 'QueryTooLong';
  }
}

/** A query not sent because the circuit to Prometheus is open: the graph is skipped at once. */
export class GraphSkipped extends Error {
  constructor(url: string, why: string) {
    super(`Prometheus at ${url} unreachable (${why})`);
    this.name = 'GraphSkipped';
  }
}

export type PrometheusQuerier = Pick<PrometheusClient, 'query' | 'queryRange' | 'url'>;

/** Where one graph goes: the graph store's id and files for an alert of a spool entry (GraphStore). */
export interface GraphFiles {
  id: string;
  file: string;
  csvFile: string;
}

/**
 * One notification's evidence to gather. Only the alerts a message may list (`maxListedAlerts`) are
 * handed over, with files for the first `maxGraphs` of them.
 */
export interface GatherTask {
  alerts: Alert[];
  now: number;
  graphFiles: GraphFiles[];
  settings: GraphSettings;
  /**
   * What the event loop's circuit breaker allows this notification: every query (closed), one probe
   * and the rest only once Prometheus answered it (half-open), or none (open).
   */
  allowance: Allowance;
  /** Why queries are not sent, for the alerts a probe leaves without: the breaker's describe(). */
  skipReason: string;
}

export type Allowance = 'all' | 'probe' | 'none';

/** An alert's evidence as a gathering hands it back: the event loop puts the alert (by its place) back in. */
export type GatheredAlert = Omit<AlertEvidence, 'alert'>;

/** What a gathering counted, for the event loop's metrics: GatherHooks' calls, in order. */
export type GatherEvent =
  | { kind: 'render'; seconds: number }
  | { kind: 'graph_error' }
  | { kind: 'query_refused'; reason: QueryRefusal }
  | { kind: 'graph_skipped' };

export interface GatheredEvidence {
  /** The alerts a message lists: the notification's first ones, in its order. */
  alerts: GatheredAlert[];
  events: GatherEvent[];
  /**
   * Each query's outcome for the circuit breaker, in order: undefined when Prometheus answered
   * (even with an error about the query), else the outage.
   */
  outcomes: Array<string | undefined>;
}

/** What gathers evidence: gatherInProcess() (tests), or the evidence pool's worker threads (the bridge). */
export interface EvidenceGathering {
  gather(task: GatherTask): Promise<GatheredEvidence>;
}

/** Gathering in this thread, asking `prometheus`. */
export function gatherInProcess(prometheus: PrometheusQuerier): EvidenceGathering {
  return { gather: (task) => gatherEvidence(prometheus, task) };
}

/** The event loop's side: what a gathering counted, passed on to the hooks. */
export function replayEvents(events: GatherEvent[], hooks: GatherHooks): void {
  for (const event of events) {
    if (event.kind === 'render') hooks.onRender?.(event.seconds);
    else if (event.kind === 'graph_error') hooks.onGraphError?.();
    else if (event.kind === 'query_refused') hooks.onQueryRefused?.(event.reason);
    else hooks.onGraphSkipped?.();
  }
}

/** One notification's evidence; never rejects for a failing query or render (the alert says why). */
export async function gatherEvidence(
  prometheus: PrometheusQuerier,
  task: GatherTask,
): Promise<GatheredEvidence> {
  const events: GatherEvent[] = [];
  const gate = new DelegatedGate(task.allowance, task.skipReason);
  const gatherer = new EvidenceGatherer(prometheus, gate, task.settings, {
    onRender: (seconds) => events.push({ kind: 'render', seconds }),
    onGraphError: () => events.push({ kind: 'graph_error' }),
    onQueryRefused: (reason) => events.push({ kind: 'query_refused', reason }),
    onGraphSkipped: () => events.push({ kind: 'graph_skipped' }),
  });
  const evidence = await gatherer.gather(task.alerts, task.now, task.graphFiles);
  return { alerts: evidence.map(({ alert: _alert, ...rest }) => rest), events, outcomes: gate.outcomes };
}

/**
 * The event loop's circuit breaker as one gathering sees it: what the breaker allowed for this
 * notification, and each query's outcome recorded for the breaker to hear afterwards. After a probe
 * the queries that follow go out only once Prometheus answered it, as the breaker closes then.
 */
class DelegatedGate {
  readonly outcomes: Array<string | undefined> = [];
  private probe: 'unsent' | 'sent' | 'answered' | 'failed' = 'unsent';

  constructor(
    private readonly allowance: Allowance,
    private readonly skipReason: string,
  ) {}

  tryAcquire(): boolean {
    if (this.allowance === 'all' || this.probe === 'answered') return true;
    if (this.allowance === 'none' || this.probe !== 'unsent') return false;
    this.probe = 'sent';
    return true;
  }

  succeeded(): void {
    this.outcomes.push(undefined);
    if (this.probe === 'sent') this.probe = 'answered';
  }

  failed(reason: string): void {
    this.outcomes.push(reason);
    if (this.probe === 'sent') this.probe = 'failed';
  }

  describe(): string {
    return this.probe === 'failed' ? `the probe failed: ${this.outcomes.at(-1)}` : this.skipReason;
  }
}

/** What says Prometheus itself is in trouble (not the query): these open the circuit. */
const OUTAGES = new Set(['unavailable', 'timeout', 'bad_response']);

class EvidenceGatherer {
  constructor(
    private readonly prometheus: PrometheusQuerier,
    private readonly gate: DelegatedGate,
    private readonly settings: GraphSettings,
    private readonly hooks: GatherHooks,
  ) {}

  /** The alerts' evidence, as many of them as a message lists (listedCount). */
  async gather(alerts: Alert[], now: number, graphFiles: GraphFiles[]): Promise<AlertEvidence[]> {
    // Alerts of one group usually share their query: ask Prometheus once per query and range.
    const cache = new Map<string, Promise<RangeSeries[]>>();
    const query = (expr: string, start: number, end: number, step: number): Promise<RangeSeries[]> => {
      const key = `${expr}\n${start}\n${end}\n${step}`;
      let result = cache.get(key);
      if (result === undefined) {
        result = this.capped(expr, () => this.prometheus.queryRange(expr, start, end, step));
        cache.set(key, result);
      }
      return result;
    };
    const ruleQueries = new Map<string, Promise<string | undefined>>();
    const ruleQuery = (rule: string): Promise<string | undefined> => {
      let result = ruleQueries.get(rule);
      if (result === undefined) {
        result = this.lookupRuleQuery(rule);
        ruleQueries.set(rule, result);
      }
      return result;
    };
    const evidence = await Promise.all(
      alerts.map((alert, i) =>
        i < graphFiles.length
          ? this.evidence(alert, i, now, { query, ruleQuery }, graphFiles[i])
          : Promise.resolve<AlertEvidence>({
              alert,
              unit: 'short',
              graphError: `not graphed: only the first ${this.settings.maxGraphs} alerts of a notification are`,
            }),
      ),
    );
    return evidence.slice(0, listedCount(evidence, this.settings.maxMessageBytes));
  }

  /**
   * The query of an anomaly rule, from the detector's `vigil_detector_rule_info{rule,query}`;
   * undefined when no detector exports it or the lookup fails (counted: the graph lacks its observed line).
   */
  private async lookupRuleQuery(rule: string): Promise<string | undefined> {
    const expr = `vigil_detector_rule_info{rule=${promString(rule)}}`;
    try {
      const samples = await this.capped(expr, () => this.prometheus.query(expr));
      // Every shard of a detector exports the same query; any one will do.
      return samples.map((s) => s.labels.query?.trim()).find((q) => q !== undefined && q !== '');
    } catch {
      this.hooks.onGraphError?.();
      return undefined;
    }
  }

  /**
   * Every query made for a payload passes here: the length cap, the circuit breaker, and counting
   * what Prometheus refused. One request per query: the delivery's own retry is the retry.
   */
  private async capped<T>(expr: string, send: () => Promise<T>): Promise<T> {
    const bytes = Buffer.byteLength(expr);
    if (bytes > this.settings.maxQueryBytes) {
      this.hooks.onQueryRefused?.('too_long');
      throw new QueryTooLong(bytes, this.settings.maxQueryBytes);
    }
    if (!this.gate.tryAcquire()) throw new GraphSkipped(this.prometheus.url, this.gate.describe());
    try {
      const result = await send();
      this.gate.succeeded();
      return result;
    } catch (err) {
      if (err instanceof PrometheusError && (err.kind === 'timeout' || err.kind === 'too_expensive')) {
        this.hooks.onQueryRefused?.(err.kind);
      }
      if (err instanceof PrometheusError && OUTAGES.has(err.kind)) this.gate.failed(errorMessage(err));
      else this.gate.succeeded();
      throw err;
    }
  }

  private async evidence(
    alert: Alert,
    index: number,
    now: number,
    { query, ruleQuery }: Lookups,
    files: GraphFiles,
  ): Promise<AlertEvidence> {
    let graphQuery = graphQueryFor(alert);
    const anomaly = isAnomalyAlert(alert, graphQuery);
    // An anomaly alert's own expression (generatorURL) is on the detector's outputs, not the observed
    // series: that is its rule's query, unless the alert names it in a `query` annotation.
    if (anomaly && !alert.annotations.query?.trim() && alert.labels.rule !== undefined) {
      const observed = await ruleQuery(alert.labels.rule);
      graphQuery = observed === undefined ? undefined : { expr: observed };
    }
    const unit = unitFor(graphQuery?.expr ?? '', alert.annotations.unit);
    const base: AlertEvidence = { alert, query: graphQuery?.expr, unit };
    if (graphQuery === undefined && !anomaly) {
      return {
        ...base,
        graphError: 'no graph: the alert has no `query` annotation and no expression in its generatorURL',
      };
    }
    const { start, end, step } = this.range(alert, now);
    try {
      const plotted =
        graphQuery === undefined
          ? []
          : matchAlertSeries(await query(graphQuery.expr, start, end, step), alert.labels).map(toChartSeries);
      let band: ChartBand | undefined;
      let bandSeries: ChartSeries[] = [];
      let explanation: string | undefined;
      if (anomaly) {
        const found = await this.anomalyBand(alert, start, end, step, query, plotted[0], unit);
        if (found) {
          ({ band, bandSeries, explanation } = found);
        }
      }
      const chart: ChartSpec = {
        title: `${alert.labels.alertname ?? 'alert'}: ${graphQuery?.expr ?? `vigil_anomaly{rule=${promString(alert.labels.rule ?? '')}}`}`,
        series: plotted,
        band,
        threshold: graphQuery?.threshold,
        startMs: start,
        endMs: end,
        alertStartMs: alert.startsAt,
        alertEndMs: alert.endsAt,
        unit,
        timeZone: this.settings.timeZone,
        width: this.settings.width,
        maxSeries: this.settings.maxSeries,
      };
      const { file, csvFile } = files;
      // Only what channels use comes back, and goes on to the delivery workers: no series arrays.
      const { bytes, csvBytes, lastValue, seconds } = await renderGraph({ chart, file, csvFile, bandSeries });
      this.hooks.onRender?.(seconds);
      return {
        ...base,
        explanation,
        graph: {
          id: files.id,
          file,
          bytes,
          csvFile,
          csvBytes,
          csvName: `${safeFileName(alert.labels.alertname ?? 'alert')}-${index + 1}.csv`,
          lastValue,
        },
      };
    } catch (err) {
      return this.graphUnavailable(base, err);
    }
  }

  /** The one place an alert that should have had a graph is counted as going without. */
  private graphUnavailable(base: AlertEvidence, err: unknown): AlertEvidence {
    this.hooks.onGraphError?.();
    if (err instanceof GraphSkipped) this.hooks.onGraphSkipped?.();
    return { ...base, graphError: `graph unavailable: ${errorMessage(err)}` };
  }

  /** From `lookback` before the start to the end (or now), at most `max_range` long. */
  private range(alert: Alert, now: number): { start: number; end: number; step: number } {
    const { lookbackMs, maxRangeMs, points } = this.settings;
    const end = Math.min(now, (alert.endsAt ?? now) + lookbackMs / 6);
    const from = Math.max(alert.startsAt - lookbackMs, end - maxRangeMs);
    const step = Math.max(1, Math.ceil((end - from) / points / 1000)) * 1000;
    // Aligned to the step, so the same alert asks the same range of every replica and retry.
    return { start: Math.floor(from / step) * step, end: Math.ceil(end / step) * step, step };
  }

  private async anomalyBand(
    alert: Alert,
    start: number,
    end: number,
    step: number,
    query: (expr: string, start: number, end: number, step: number) => Promise<RangeSeries[]>,
    observed: ChartSeries | undefined,
    unit: Unit,
  ): Promise<{ band: ChartBand; bandSeries: ChartSeries[]; explanation: string } | undefined> {
    const rule = alert.labels.rule;
    if (rule === undefined) return undefined;
    const matchers = [`rule=${promString(rule)}`];
    if (alert.labels.detector !== undefined) matchers.push(`detector=${promString(alert.labels.detector)}`);
    const selector = `{${matchers.join(',')}}`;
    const fetch = async (metric: string): Promise<RangeSeries[]> =>
      matchAlertSeries(await query(`${metric}${selector}`, start, end, step), alert.labels);
    const [strengths, scores, expected, lower, upper] = await Promise.all(
      [
        'vigil_anomaly_strength',
        'vigil_anomaly_score',
        'vigil_anomaly_expected',
        'vigil_anomaly_lower',
        'vigil_anomaly_upper',
      ].map(fetch),
    );
    const from = alert.startsAt - step;
    const to = alert.endsAt ?? end;
    // The detector that decided, where it was strongest during the alert; a detector that exports no
    // strength (an older version) leaves the largest score of any detector to go by.
    const fired = strongestSample(strengths, from, to);
    const best = fired ?? strongestSample(scores, from, to);
    if (best === undefined) return undefined;
    const detector = best.series.labels.detector ?? '';
    const at = (s: { timestamps: number[]; values: number[] } | undefined): number | undefined => {
      const i = s === undefined ? -1 : s.timestamps.indexOf(best.at);
      return i < 0 ? undefined : s?.values[i];
    };
    for (const bandOf of fired ? bandsFor(detector) : [detector]) {
      const [s, e, l, u] = [scores, expected, lower, upper].map((series) =>
        series.find((one) => (one.labels.detector ?? '') === bandOf),
      );
      const [sv, ev, lv, uv] = [s, e, l, u].map(at);
      if (!e || !l || !u || sv === undefined || ev === undefined || lv === undefined || uv === undefined)
        continue;
      const explanation = explainAnomaly(
        {
          value: observed ? at(observed) : undefined,
          expected: ev,
          lower: lv,
          upper: uv,
          score: sv,
          detector,
          band: bandOf,
        },
        unit,
      );
      return { band: alignBand(e, l, u), bandSeries: [e, l, u].map(toChartSeries), explanation };
    }
    return undefined;
  }
}

/**
 * How many of the alerts a message lists while it stays under `maxMessageBytes` (20,000 alerts must
 * not become a 27 MB mail an MTA refuses for good); the first alert is always listed.
 */
export function listedCount(evidence: AlertEvidence[], maxMessageBytes: number): number {
  let bytes = 0;
  let count = 0;
  for (const item of evidence) {
    const { alert, graph } = item;
    bytes += JSON.stringify([alert.labels, alert.annotations, item.query, item.graphError]).length;
    // base64 of the PNG, and the CSV attachment.
    if (graph) bytes += Math.ceil((graph.bytes * 4) / 3) + graph.csvBytes;
    if (count > 0 && bytes > maxMessageBytes) break;
    count++;
  }
  return count;
}

/** How one notification's evidence asks Prometheus, each answer shared by its alerts. */
interface Lookups {
  query: (expr: string, start: number, end: number, step: number) => Promise<RangeSeries[]>;
  /** The detector's query of an anomaly rule, undefined when unknown. */
  ruleQuery: (rule: string) => Promise<string | undefined>;
}

/** The sample of largest magnitude of any series between `from` and `to`, with its series and time. */
function strongestSample(
  series: RangeSeries[],
  from: number,
  to: number,
): { series: RangeSeries; at: number } | undefined {
  let best: { series: RangeSeries; at: number; magnitude: number } | undefined;
  for (const one of series) {
    one.timestamps.forEach((t, i) => {
      const magnitude = Math.abs(one.values[i]);
      if (t >= from && t <= to && Number.isFinite(magnitude) && (!best || magnitude > best.magnitude)) {
        best = { series: one, at: t, magnitude };
      }
    });
  }
  return best;
}

/** The detector's alerts: on `vigil_anomaly`, with the `rule` label that selects the band. */
export function isAnomalyAlert(alert: Alert, graphQuery: GraphQuery | undefined): boolean {
  if (alert.labels.rule === undefined) return false;
  return (
    alert.labels.alertname === 'vigil_anomaly' ||
    /\bvigil_anomaly\b/.test(exprFromGeneratorUrl(alert.generatorURL) ?? '') ||
    /\bvigil_anomaly\b/.test(graphQuery?.expr ?? '')
  );
}

function toChartSeries(s: RangeSeries): ChartSeries {
  return { name: seriesName(s.labels), timestamps: s.timestamps, values: s.values };
}

/** Lower and upper on the expected series' timestamps (they come from one detector cycle, so agree). */
function alignBand(expected: RangeSeries, lower: RangeSeries, upper: RangeSeries): ChartBand {
  const index = (s: RangeSeries): Map<number, number> =>
    new Map(s.timestamps.map((t, i) => [t, s.values[i]]));
  const lo = index(lower);
  const hi = index(upper);
  return {
    timestamps: expected.timestamps,
    expected: expected.values,
    lower: expected.timestamps.map((t) => lo.get(t) ?? NaN),
    upper: expected.timestamps.map((t) => hi.get(t) ?? NaN),
  };
}

function safeFileName(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60) || 'alert';
}
