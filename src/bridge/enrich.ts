import { randomBytes } from 'node:crypto';
import { errorMessage } from '../common/errors';
import { PrometheusError, type PrometheusClient, type RangeSeries } from '../common/prometheus-client';
import { promString } from '../common/promql';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitState } from './circuit-breaker';
import { bandsFor, explainAnomaly } from './explain';
import type { GraphStore } from './graphs';
import type { Alert, Notification } from './payload';
import { exprFromGeneratorUrl, graphQueryFor, matchAlertSeries, seriesName, type GraphQuery } from './query';
import type { ChartBand, ChartSeries, ChartSpec } from './render/chart';
import { renderGraph, type RenderedGraph, type RenderTask } from './render-task';
import { unitFor, type Unit } from './render/units';

/**
 * Evidence for each alert: the data around it from the configured Prometheus, a rendered graph, the
 * plotted data as CSV and, for the detector's anomalies, the normal band and a sentence explaining it.
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

type PrometheusQuerier = Pick<PrometheusClient, 'query' | 'queryRange' | 'url'>;

/** What the dispatcher needs of the enricher: evidence shared by the deliveries in flight. */
export type EvidenceSource = Pick<Enricher, 'acquire' | 'release'>;

export interface EnrichHooks {
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
  /** The circuit breaker of the graph queries changed state. */
  onCircuitChange?(state: CircuitState): void;
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
  constructor(url: string, breaker: CircuitBreaker) {
    super(`Prometheus at ${url} unreachable (${breaker.describe()})`);
    this.name = 'GraphSkipped';
  }
}

/** What says Prometheus itself is in trouble (not the query): these open the circuit. */
const OUTAGES = new Set(['unavailable', 'timeout', 'bad_response']);

/** Draws, writes and tabulates a graph: in a worker thread (RenderPool) in the bridge, in-process by default. */
export type GraphRenderer = (task: RenderTask) => Promise<RenderedGraph>;

export class Enricher {
  private readonly breaker: CircuitBreaker;
  /**
   * Evidence of spool entries with a delivery in flight, shared by their channels; dropped when the
   * last one ends, so entries waiting for a retry hold no PNGs or CSVs (a long outage must not grow memory).
   */
  private readonly inFlight = new Map<string, { evidence: Promise<EnrichedNotification>; users: number }>();

  constructor(
    private readonly prometheus: PrometheusQuerier,
    private readonly graphs: GraphStore,
    private readonly settings: GraphSettings,
    private readonly hooks: EnrichHooks = {},
    private readonly renderer: GraphRenderer = renderGraph,
  ) {
    this.breaker = new CircuitBreaker(settings.circuitBreaker, Date.now, (state) =>
      hooks.onCircuitChange?.(state),
    );
  }

  /**
   * Evidence for a delivery of spool entry `id`: gathered once for the deliveries of a notification in
   * flight together, and again for a retry (Prometheus may answer by then). Never rejects: if gathering
   * fails as a whole, every alert goes without a graph and says why. Each call is paired with a release().
   */
  acquire(id: string, notification: Notification): Promise<EnrichedNotification> {
    const shared = this.inFlight.get(id);
    if (shared !== undefined) {
      shared.users++;
      return shared.evidence;
    }
    const evidence = this.enrich(notification, Date.now(), id).catch((err: unknown) => ({
      ...this.bounded(
        notification,
        notification.alerts
          .slice(0, this.settings.maxListedAlerts)
          .map((alert) => this.graphUnavailable({ alert, unit: 'short' }, err)),
      ),
    }));
    this.inFlight.set(id, { evidence, users: 1 });
    return evidence;
  }

  release(id: string): void {
    const shared = this.inFlight.get(id);
    if (shared !== undefined && --shared.users === 0) this.inFlight.delete(id);
  }

  /**
   * `entryId` is the spool entry the graphs belong to: their ids derive from it, so every retry of the
   * notification serves its graphs under the same links (a fresh one when not given).
   */
  async enrich(
    notification: Notification,
    now = Date.now(),
    entryId = randomBytes(12).toString('hex'),
  ): Promise<EnrichedNotification> {
    // Alerts of one group usually share their query: ask Prometheus once per query and range.
    const cache = new Map<string, Promise<RangeSeries[]>>();
    const query = (expr: string, start: number, end: number, step: number): Promise<RangeSeries[]> => {
      const key = `${expr}\n${start}\n${end}\n${step}`;
      let result = cache.get(key);
      if (result === undefined) {
        result = this.boundedQuery(expr, start, end, step);
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
    const listed = notification.alerts.slice(0, this.settings.maxListedAlerts);
    const alerts = await Promise.all(
      listed.map((alert, i) =>
        i < this.settings.maxGraphs
          ? this.evidence(alert, i, now, { query, ruleQuery }, this.graphs.idFor(entryId, i))
          : Promise.resolve<AlertEvidence>({
              alert,
              unit: 'short',
              graphError: `not graphed: only the first ${this.settings.maxGraphs} alerts of a notification are`,
            }),
      ),
    );
    return this.bounded(notification, alerts);
  }

  /**
   * A message lists alerts while it stays under the size bound (20,000 alerts must not become a
   * 27 MB mail an MTA refuses for good); the first alert is always listed.
   */
  private bounded(notification: Notification, evidence: AlertEvidence[]): EnrichedNotification {
    let bytes = 0;
    let count = 0;
    for (const item of evidence) {
      const { alert, graph } = item;
      bytes += JSON.stringify([alert.labels, alert.annotations, item.query, item.graphError]).length;
      // base64 of the PNG, and the CSV attachment.
      if (graph) bytes += Math.ceil((graph.bytes * 4) / 3) + graph.csvBytes;
      if (count > 0 && bytes > this.settings.maxMessageBytes) break;
      count++;
    }
    return {
      notification,
      alerts: evidence.slice(0, count),
      omittedAlerts: notification.alerts.length - count,
    };
  }

  private boundedQuery(expr: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
    return this.capped(expr, () => this.prometheus.queryRange(expr, start, end, step));
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
    if (!this.breaker.tryAcquire()) throw new GraphSkipped(this.prometheus.url, this.breaker);
    try {
      const result = await send();
      this.breaker.succeeded();
      return result;
    } catch (err) {
      if (err instanceof PrometheusError && (err.kind === 'timeout' || err.kind === 'too_expensive')) {
        this.hooks.onQueryRefused?.(err.kind);
      }
      if (err instanceof PrometheusError && OUTAGES.has(err.kind)) this.breaker.failed(errorMessage(err));
      else this.breaker.succeeded();
      throw err;
    }
  }

  private async evidence(
    alert: Alert,
    index: number,
    now: number,
    { query, ruleQuery }: Lookups,
    graphId: string,
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
      const file = this.graphs.fileFor(graphId);
      const csvFile = this.graphs.csvFileFor(graphId);
      // Only what channels use comes back, and goes on to the delivery workers: no series arrays.
      const { bytes, csvBytes, lastValue } = await this.render({ chart, file, csvFile, bandSeries });
      return {
        ...base,
        explanation,
        graph: {
          id: graphId,
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

  /** The graph's PNG written to the graph store, and its CSV. */
  private async render(task: RenderTask): Promise<RenderedGraph> {
    const rendered = await this.renderer(task);
    this.hooks.onRender?.(rendered.seconds);
    return rendered;
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
