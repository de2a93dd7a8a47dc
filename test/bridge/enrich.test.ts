import fs from 'node:fs';
import { Enricher } from '../../src/bridge/enrich';
import { gatherInProcess, type Graph } from '../../src/bridge/evidence';
import { GraphStore } from '../../src/bridge/graphs';
import { buildView } from '../../src/bridge/render/message';
import { loadTemplates } from '../../src/bridge/render/templates';
import { tempDir } from '../helpers/tmp';
import { parseNotification, type Notification } from '../../src/bridge/payload';
import { PrometheusError, type InstantSample, type RangeSeries } from '../../src/common/prometheus-client';
import { alertmanagerPayload, GRAPH_SETTINGS as SETTINGS, type PayloadOptions } from './fixtures';

const NOW = Date.parse('2026-11-23T14:20:00.000Z');

function notification(o: PayloadOptions = {}): Notification {
  const result = parseNotification(alertmanagerPayload(o));
  if (!result.ok) throw new Error(result.reason);
  return result.notification;
}

/**
 * Gathering in this thread from a Prometheus answering range queries with `answer` and instant ones
 * with `instant`, as the client does.
 */
function prometheus(
  answer: (expr: string, start: number, end: number, step: number) => Promise<RangeSeries[]>,
  instant: (expr: string) => Promise<InstantSample[]> = async () => [],
) {
  return gatherInProcess({ url: 'http://127.0.0.1:9090', queryRange: answer, query: instant });
}

function series(instance: string, level: number): RangeSeries {
  const timestamps = Array.from({ length: 10 }, (_, i) => NOW - (10 - i) * 60_000);
  return { labels: { instance, job: 'node' }, timestamps, values: timestamps.map(() => level) };
}

/** A graph's CSV as the render wrote it beside its PNG (its size as the evidence says), '' without a graph. */
function csvOf(graph: Graph | undefined): string {
  if (graph === undefined) return '';
  const csv = fs.readFileSync(graph.csvFile);
  expect(csv.length).toBe(graph.csvBytes);
  return csv.toString('utf8');
}

/** The series of a CSV attachment, in the order of its rows. */
function csvSeries(csv: string): string[] {
  const names = new Set<string>();
  for (const row of csv.split('\r\n').slice(1, -1)) {
    const field = row.slice(row.indexOf(',') + 1, row.lastIndexOf(','));
    names.add(field.startsWith('"') ? field.slice(1, -1).replace(/""/g, '"') : field);
  }
  return [...names];
}

const VIEW = { route: 'default', timeZone: 'UTC', now: NOW };

describe('enricher', () => {
  const graphDir = tempDir('vigil-graphs-');
  afterAll(() => graphDir.remove());

  it('counts each alert that goes without a graph because Prometheus failed', async () => {
    let graphErrors = 0;
    const enricher = new Enricher(
      prometheus(() =>
        Promise.reject(new PrometheusError('unavailable', 'http://127.0.0.1:9090: ECONNREFUSED')),
      ),
      new GraphStore(graphDir.path, 60_000),
      SETTINGS,
      { onGraphError: () => graphErrors++ },
    );
    const enriched = await enricher.enrich(notification({ instances: ['web-1', 'web-2'] }), NOW);
    expect(enriched.alerts.map((a) => a.graphError)).toEqual([
      expect.stringMatching(/^graph unavailable: .*ECONNREFUSED/),
      expect.stringMatching(/^graph unavailable: .*ECONNREFUSED/),
    ]);
    expect(graphErrors).toBe(2);
  });

  it('sends the alerts without their graphs, saying why, when the gathering fails (a worker crashed)', async () => {
    let graphErrors = 0;
    const enricher = new Enricher(
      { gather: () => Promise.reject(new Error('graph evidence worker exited with code 1')) },
      new GraphStore(graphDir.path, 60_000),
      SETTINGS,
      { onGraphError: () => graphErrors++ },
    );
    const enriched = await enricher.acquire('entry-1', notification({ instances: ['web-1', 'web-2'] }));
    expect(enriched.alerts.map((a) => [a.alert.labels.instance, a.graph, a.graphError])).toEqual([
      ['web-1', undefined, 'graph unavailable: graph evidence worker exited with code 1'],
      ['web-2', undefined, 'graph unavailable: graph evidence worker exited with code 1'],
    ]);
    expect(graphErrors).toBe(2);
  });

  it('does not count alerts that got their graph', async () => {
    let graphErrors = 0;
    const enricher = new Enricher(
      prometheus(async () => [series('web-1', 0.95)]),
      new GraphStore(graphDir.path, 60_000),
      SETTINGS,
      { onGraphError: () => graphErrors++ },
    );
    const enriched = await enricher.enrich(notification(), NOW);
    expect(enriched.alerts[0].graph?.bytes).toBeGreaterThan(0);
    expect(fs.readFileSync(enriched.alerts[0].graph!.file).subarray(1, 4).toString()).toBe('PNG');
    expect(graphErrors).toBe(0);
  });

  it('attaches as CSV only the series the graph draws, the highest max_series', async () => {
    const enricher = new Enricher(
      prometheus(async () => [1, 5, 3, 4, 2].map((level) => series(`web-${level}`, level))),
      new GraphStore(graphDir.path, 60_000),
      { ...SETTINGS, maxSeries: 2 },
    );
    // An alert on the whole job: every instance's series matches.
    const alert = notification({ labels: { instance: '' } });
    delete alert.alerts[0].labels.instance;
    const graph = (await enricher.enrich(alert, NOW)).alerts[0].graph;
    const drawn = ['web-1', 'web-2', 'web-3', 'web-4', 'web-5'].filter((i) => csvOf(graph).includes(i));
    expect(drawn).toEqual(['web-4', 'web-5']);
    expect(csvOf(graph).split('\r\n')).toHaveLength(1 + 2 * 10 + 1); // header, 2 series x 10 points, final CRLF
    // The alert's value in messages is the last point of the first series drawn, the highest.
    expect(graph?.lastValue).toBe(5);
    expect(
      buildView({ notification: alert, alerts: [{ alert: alert.alerts[0], unit: 'short', graph }] }, VIEW)
        .alerts[0].value,
    ).toBe('5');
  });

  it('never sends a payload query over max_query_bytes, says so in the alert and counts it', async () => {
    const sent: string[] = [];
    const refusals: string[] = [];
    const enricher = new Enricher(
      prometheus(async (expr) => (sent.push(expr), [])),
      new GraphStore(graphDir.path, 60_000),
      SETTINGS,
      { onQueryRefused: (reason) => refusals.push(reason) },
    );
    const hostile = Array.from({ length: 2000 }, () => 'x').join(' + ');
    const enriched = await enricher.enrich(notification({ annotations: { query: hostile } }), NOW);
    expect(sent).toEqual([]);
    expect(refusals).toEqual(['too_long']);
    expect(enriched.alerts[0].graphError).toBe(
      `graph unavailable: the query is ${hostile.length} bytes, over bridge.graph.max_query_bytes (4096): not sent to Prometheus`,
    );
  });

  it('counts a query Prometheus refused as too expensive', async () => {
    const refusals: string[] = [];
    const enricher = new Enricher(
      prometheus(() =>
        Promise.reject(new PrometheusError('too_expensive', 'query refused as too expensive')),
      ),
      new GraphStore(graphDir.path, 60_000),
      SETTINGS,
      { onQueryRefused: (reason) => refusals.push(reason) },
    );
    await enricher.enrich(notification(), NOW);
    expect(refusals).toEqual(['too_expensive']);
  });

  it('lists at most max_listed_alerts alerts and counts the rest, so 20,000 alerts make a small message', async () => {
    const enricher = new Enricher(
      prometheus(async () => []),
      new GraphStore(graphDir.path, 60_000),
      { ...SETTINGS, maxGraphs: 0, maxListedAlerts: 10 },
    );
    const instances = Array.from({ length: 20_000 }, (_, i) => `web-${i}`);
    const enriched = await enricher.enrich(notification({ instances }), NOW);
    expect(enriched.alerts).toHaveLength(10);
    expect(enriched.omittedAlerts).toBe(19_990);
    const view = buildView(enriched, { route: 'default', timeZone: 'UTC', now: NOW });
    expect(view.alerts).toHaveLength(10);
    expect(view.firingCount).toBe(20_000);
    const text = loadTemplates('email').render('text', view);
    expect(text).toContain('And 19990 more alerts, not listed here.');
    expect(text.length).toBeLessThan(20_000);
  });

  it('stops listing alerts when the message would pass max_message_bytes, but always lists one', async () => {
    const enricher = new Enricher(
      prometheus(async () => []),
      new GraphStore(graphDir.path, 60_000),
      {
        ...SETTINGS,
        maxGraphs: 0,
        maxMessageBytes: 20_000,
      },
    );
    const big = { description: 'x'.repeat(6_000) };
    const enriched = await enricher.enrich(
      notification({ instances: ['a', 'b', 'c', 'd', 'e'], annotations: big }),
      NOW,
    );
    expect(enriched.alerts.length).toBe(3);
    expect(enriched.omittedAlerts).toBe(2);
    const huge = { description: 'x'.repeat(50_000) };
    const one = await enricher.enrich(notification({ instances: ['a', 'b'], annotations: huge }), NOW);
    expect(one.alerts).toHaveLength(1);
  });

  it('opens the circuit on the outages a gathering reports, then asks nothing until the cool-down', async () => {
    let asked = 0;
    const states: string[] = [];
    let skipped = 0;
    const enricher = new Enricher(
      prometheus(() => {
        asked++;
        return Promise.reject(new PrometheusError('unavailable', 'http://127.0.0.1:9090: ECONNREFUSED'));
      }),
      new GraphStore(graphDir.path, 60_000),
      { ...SETTINGS, circuitBreaker: { failures: 2, coolDownMs: 60_000 } },
      { onCircuitChange: (state) => states.push(state), onGraphSkipped: () => skipped++ },
    );
    await enricher.enrich(notification({ instances: ['web-1'] }), NOW);
    expect(states).toEqual([]);
    await enricher.enrich(notification({ instances: ['web-2'] }), NOW);
    expect(states).toEqual(['open']);
    const third = await enricher.enrich(notification({ instances: ['web-3'] }), NOW);
    expect(asked).toBe(2);
    expect(skipped).toBe(1);
    expect(third.alerts[0].graphError).toMatch(
      /^graph unavailable: Prometheus at http:\/\/127\.0\.0\.1:9090 unreachable \(circuit open since .*, last error: .*ECONNREFUSED\)$/,
    );
  });

  it('a probe with nothing to ask leaves the probe to the next notification, whose answer closes the circuit', async () => {
    let up = false;
    const states: string[] = [];
    const enricher = new Enricher(
      prometheus(async () => {
        if (!up) throw new PrometheusError('unavailable', 'http://127.0.0.1:9090: ECONNREFUSED');
        return [series('web-1', 0.95)];
      }),
      new GraphStore(graphDir.path, 60_000),
      { ...SETTINGS, circuitBreaker: { failures: 1, coolDownMs: 0 } },
      { onCircuitChange: (state) => states.push(state) },
    );
    await enricher.enrich(notification(), NOW);
    expect(states).toEqual(['open']);
    up = true;
    // No query annotation, no generatorURL: nothing to ask, so this one cannot be the probe.
    const nothing = await enricher.enrich(notification({ generatorURL: '' }), NOW);
    expect(nothing.alerts[0].graphError).toMatch(/^no graph: /);
    expect(states).toEqual(['open', 'half_open', 'open']);
    const probe = await enricher.enrich(notification(), NOW);
    expect(probe.alerts[0].graph?.bytes).toBeGreaterThan(0);
    expect(states).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });

  describe("anomaly alert without a `query` annotation: the observed series from its rule's vigil_detector_rule_info", () => {
    const anomaly = (labels: Record<string, string> = {}) =>
      notification({
        alertname: 'VigilAnomaly',
        instances: ['web-1', 'web-2'],
        labels: { rule: 'cpu_busy', ...labels },
        generatorURL: 'http://prometheus.example:9090/graph?g0.expr=vigil_anomaly+%3D%3D+1&g0.tab=1',
      });
    const ruleInfo: InstantSample = {
      labels: {
        __name__: 'vigil_detector_rule_info',
        rule: 'cpu_busy',
        query: 'instance:node_cpu_busy:ratio',
        instance: 'detector:9101',
        job: 'vigil-detector',
      },
      timestamp: NOW,
      value: 1,
    };
    /** The source series of two hosts, and the detector's outputs for them on the range asked. */
    const detectorPrometheus = (expr: string, start: number, end: number, step: number): RangeSeries[] => {
      const timestamps: number[] = [];
      for (let t = start; t <= end; t += step) timestamps.push(t);
      const each = (extra: Record<string, string>, value: (instance: string) => number) =>
        ['web-1', 'web-2'].map((instance) => ({
          labels: { instance, job: 'node', ...extra },
          timestamps,
          values: timestamps.map(() => value(instance)),
        }));
      if (expr === 'instance:node_cpu_busy:ratio') return each({}, (i) => (i === 'web-1' ? 0.5 : 0.25));
      const [metric] = expr.split('{');
      const outputs: Record<string, number> = {
        vigil_anomaly_score: 8,
        vigil_anomaly_expected: 0.1,
        vigil_anomaly_lower: 0.05,
        vigil_anomaly_upper: 0.15,
        vigil_anomaly: 1,
      };
      // A detector of an older version: no vigil_anomaly_strength.
      if (outputs[metric] === undefined) return [];
      return each({ __name__: metric, rule: 'cpu_busy', detector: 'zscore' }, () => outputs[metric]);
    };

    it("draws and quotes the alerting host's series of the rule's query, looked up once per rule", async () => {
      const instant: string[] = [];
      const ranges: string[] = [];
      const enricher = new Enricher(
        prometheus(
          async (expr, start, end, step) => (ranges.push(expr), detectorPrometheus(expr, start, end, step)),
          async (expr) => (
            instant.push(expr),
            [ruleInfo, { ...ruleInfo, labels: { ...ruleInfo.labels, instance: 'detector-1:9101' } }]
          ),
        ),
        new GraphStore(graphDir.path, 60_000),
        SETTINGS,
      );
      const enriched = await enricher.enrich(anomaly(), NOW);
      expect(instant).toEqual(['vigil_detector_rule_info{rule="cpu_busy"}']);
      expect(ranges.filter((e) => e === 'instance:node_cpu_busy:ratio')).toHaveLength(1);
      const [first, second] = enriched.alerts;
      expect(first.query).toBe('instance:node_cpu_busy:ratio');
      expect(first.unit).toBe('ratio');
      expect(first.explanation).toBe('50% where 10% ± 5% is normal lately; 8 deviations, z-score detector');
      expect(second.explanation).toMatch(/^25% where/);
      // The observed line is the alert's own host; the band series follow it.
      expect(csvSeries(csvOf(first.graph))[0]).toBe('{instance="web-1", job="node"}');
      expect(first.graph?.lastValue).toBe(0.5);
      expect(csvOf(first.graph)).not.toContain('web-2');
    });

    it('a failing lookup leaves the graph without the observed line, counted as a graph error', async () => {
      let graphErrors = 0;
      const enricher = new Enricher(
        prometheus(
          async (expr, start, end, step) => detectorPrometheus(expr, start, end, step),
          () => Promise.reject(new PrometheusError('unavailable', 'http://127.0.0.1:9090: ECONNREFUSED')),
        ),
        new GraphStore(graphDir.path, 60_000),
        SETTINGS,
        { onGraphError: () => graphErrors++ },
      );
      const enriched = await enricher.enrich(anomaly(), NOW);
      expect(graphErrors).toBe(1);
      const [first] = enriched.alerts;
      // Not the alert's own expression either: that is the 0/1 flag, not the observed value.
      expect(first.query).toBeUndefined();
      expect(first.graph).toBeDefined();
      expect(first.explanation).toBe('0.1 ± 0.05 is normal lately; 8 deviations, z-score detector');
      expect(csvSeries(csvOf(first.graph))).not.toContainEqual(expect.stringContaining('vigil_anomaly{'));
    });

    it('the lookup obeys max_query_bytes: a huge rule label sends nothing and is counted', async () => {
      const instant: string[] = [];
      const refusals: string[] = [];
      const enricher = new Enricher(
        prometheus(
          async () => [],
          async (expr) => (instant.push(expr), [ruleInfo]),
        ),
        new GraphStore(graphDir.path, 60_000),
        SETTINGS,
        { onQueryRefused: (reason) => refusals.push(reason) },
      );
      await enricher.enrich(anomaly({ rule: 'x'.repeat(5000) }), NOW);
      expect(instant).toEqual([]);
      expect(refusals[0]).toBe('too_long');
    });

    it('an alert with a `query` annotation keeps it and looks nothing up', async () => {
      const instant: string[] = [];
      const enricher = new Enricher(
        prometheus(
          async (expr, start, end, step) => detectorPrometheus(expr, start, end, step),
          async (expr) => (instant.push(expr), [ruleInfo]),
        ),
        new GraphStore(graphDir.path, 60_000),
        SETTINGS,
      );
      const alert = anomaly();
      for (const a of alert.alerts) a.annotations.query = 'instance:node_cpu_busy:ratio';
      const enriched = await enricher.enrich(alert, NOW);
      expect(instant).toEqual([]);
      expect(enriched.alerts[0].explanation).toMatch(/^50% where/);
    });
  });
  describe('the anomaly sentence names the detector that decided, from vigil_anomaly_strength', () => {
    /** The detector's view at the alert's peak (14:10) differs from the rest of the range. */
    const PEAK = Date.parse('2026-11-23T14:10:00.000Z');
    type Output = (t: number, peak: boolean) => number | undefined;
    /** Per metric, per detector label: the value at each step (undefined: no sample, as for a sparse family). */
    type Outputs = Record<string, Record<string, Output>>;
    const band = (
      detector: string,
      score: number,
      expected: number,
      lower: number,
      upper: number,
    ): Outputs => ({
      vigil_anomaly_score: { [detector]: () => score },
      vigil_anomaly_expected: { [detector]: () => expected },
      vigil_anomaly_lower: { [detector]: () => lower },
      vigil_anomaly_upper: { [detector]: () => upper },
    });
    const merge = (...parts: Outputs[]): Outputs => {
      const out: Outputs = {};
      for (const part of parts)
        for (const [metric, byDetector] of Object.entries(part))
          Object.assign((out[metric] ??= {}), byDetector);
      return out;
    };
    /** The z-score and seasonal detectors far over their thresholds by score (30 and 20 deviations). */
    const loudBands = merge(band('zscore', 30, 0.1, 0.05, 0.15), band('seasonal', -20, 0.8, 0.75, 0.85));
    const answer =
      (outputs: Outputs) =>
      async (expr: string, start: number, end: number, step: number): Promise<RangeSeries[]> => {
        const timestamps: number[] = [];
        for (let t = start; t <= end; t += step) timestamps.push(t);
        if (expr === 'instance:node_cpu_busy:ratio')
          return [series('web-1', 0.5)].map((s) => ({ ...s, timestamps, values: timestamps.map(() => 0.5) }));
        const [metric] = expr.split('{');
        return Object.entries(outputs[metric] ?? {}).flatMap(([detector, value]) => {
          const at = (t: number) => value(t, t <= PEAK && PEAK < t + step);
          const kept = timestamps.filter((t) => at(t) !== undefined);
          const labels = { __name__: metric, instance: 'web-1', job: 'node', rule: 'cpu_busy', detector };
          return kept.length === 0 ? [] : [{ labels, timestamps: kept, values: kept.map((t) => at(t)!) }];
        });
      };
    const explain = async (outputs: Outputs) => {
      const enricher = new Enricher(
        prometheus(answer(outputs)),
        new GraphStore(graphDir.path, 60_000),
        SETTINGS,
      );
      const alert = notification({
        alertname: 'VigilAnomaly',
        instances: ['web-1'],
        labels: { rule: 'cpu_busy' },
        annotations: { query: 'instance:node_cpu_busy:ratio' },
        generatorURL: 'http://prometheus.example:9090/graph?g0.expr=vigil_anomaly+%3D%3D+1&g0.tab=1',
      });
      const [evidence] = (await enricher.enrich(alert, NOW)).alerts;
      const bandNames = csvSeries(csvOf(evidence.graph)).filter((n) => n.startsWith('vigil_anomaly_'));
      return { explanation: evidence.explanation, bands: bandNames, graph: evidence.graph };
    };
    /** The decided detector's strength: 40 at the peak, 3 after, 2 before (or `before`'s 2 before it). */
    const strength = (detector: string, before?: string): Outputs => {
      const family: Record<string, Output> = {
        [detector]: (t, peak) => (peak ? 40 : t > PEAK ? 3 : before === undefined ? 2 : undefined),
      };
      if (before !== undefined) family[before] = (t, peak) => (t < PEAK && !peak ? 2 : undefined);
      return { vigil_anomaly_strength: family };
    };

    it('range: the seen range at the peak and how far outside it, though the z-score has the largest score', async () => {
      const range = band('range', 1, 0.35, 0.3, 0.4);
      // Elsewhere the seen range was another: the sentence quotes it at the moment of the peak.
      range.vigil_anomaly_lower.range = (_t, peak) => (peak ? 0.3 : 0.2);
      const { explanation, bands } = await explain(merge(loudBands, range, strength('range', 'zscore')));
      expect(explanation).toBe(
        '50% where 30% to 40% is the range seen over the past weeks; 10% above it, range detector',
      );
      // The graph's band is the range detector's too.
      expect(bands).toHaveLength(3);
      expect(bands.every((name) => name.includes('detector="range"'))).toBe(true);
    });

    it('novelty: the seasonal band (else the z-score one) and "a pattern not seen before"', async () => {
      const { explanation, bands } = await explain(merge(loudBands, strength('novelty')));
      expect(explanation).toBe(
        '50% where 80% ± 5% is normal at this hour; a pattern not seen before, novelty detector',
      );
      expect(bands.every((name) => name.includes('detector="seasonal"'))).toBe(true);
      const zscoreOnly = await explain(merge(band('zscore', 30, 0.1, 0.05, 0.15), strength('novelty')));
      expect(zscoreOnly.explanation).toBe(
        '50% where 10% ± 5% is normal lately; a pattern not seen before, novelty detector',
      );
    });

    it('shift: a sustained departure from the usual level at this hour, with the seasonal band', async () => {
      const { explanation, bands } = await explain(merge(loudBands, strength('shift')));
      expect(explanation).toBe(
        '50% where 80% ± 5% is normal at this hour; a sustained fall below its usual level, shift detector',
      );
      expect(bands.every((name) => name.includes('detector="seasonal"'))).toBe(true);
    });

    it('zscore and seasonal keep their deviations, of the detector that decided', async () => {
      const { explanation } = await explain(merge(loudBands, strength('seasonal', 'zscore')));
      expect(explanation).toBe('50% where 80% ± 5% is normal at this hour; 20 deviations, seasonal detector');
    });

    it('without the strength family (an older detector) the largest score names the detector, as before', async () => {
      const { explanation } = await explain(loudBands);
      expect(explanation).toBe('50% where 10% ± 5% is normal lately; 30 deviations, z-score detector');
    });

    it('a decided detector with no band to quote leaves the sentence out and still draws the graph', async () => {
      const { explanation, graph } = await explain(
        merge(band('range', 1, 0.35, 0.3, 0.4), strength('shift')),
      );
      expect(explanation).toBeUndefined();
      expect(graph).toBeDefined();
    });
  });
});
