import { Enricher } from '../../src/bridge/enrich';
import { GraphStore } from '../../src/bridge/graphs';
import { buildView } from '../../src/bridge/render/message';
import { loadTemplates } from '../../src/bridge/render/templates';
import { tempDir } from '../helpers/tmp';
import { parseNotification, type Notification } from '../../src/bridge/payload';
import { PrometheusError, type RangeSeries } from '../../src/common/prometheus-client';
import { alertmanagerPayload, GRAPH_SETTINGS as SETTINGS, type PayloadOptions } from './fixtures';

const NOW = Date.parse('2026-11-23T14:20:00.000Z');

function notification(o: PayloadOptions = {}): Notification {
  const result = parseNotification(alertmanagerPayload(o));
  if (!result.ok) throw new Error(result.reason);
  return result.notification;
}

/** Prometheus answering with `series` (or failing with `error`), as the client returns them. */
function prometheus(answer: () => Promise<RangeSeries[]>) {
  return { url: 'http://127.0.0.1:9090', queryRange: answer };
}

function series(instance: string, level: number): RangeSeries {
  const timestamps = Array.from({ length: 10 }, (_, i) => NOW - (10 - i) * 60_000);
  return { labels: { instance, job: 'node' }, timestamps, values: timestamps.map(() => level) };
}

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

  it('does not count alerts that got their graph', async () => {
    let graphErrors = 0;
    const enricher = new Enricher(
      prometheus(async () => [series('web-1', 0.95)]),
      new GraphStore(graphDir.path, 60_000),
      SETTINGS,
      { onGraphError: () => graphErrors++ },
    );
    const enriched = await enricher.enrich(notification(), NOW);
    expect(enriched.alerts[0].graph?.png.length).toBeGreaterThan(0);
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
    const drawn = ['web-1', 'web-2', 'web-3', 'web-4', 'web-5'].filter((i) => graph?.csv.includes(i));
    expect(drawn).toEqual(['web-4', 'web-5']);
    expect(graph?.csv.split('\r\n')).toHaveLength(1 + 2 * 10 + 1); // header, 2 series x 10 points, final CRLF
    expect(graph?.series).toHaveLength(2);
  });

  it('never sends a payload query over max_query_bytes, says so in the alert and counts it', async () => {
    const sent: string[] = [];
    const refusals: string[] = [];
    const enricher = new Enricher(
      { url: 'http://127.0.0.1:9090', queryRange: async (expr: string) => (sent.push(expr), []) },
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
});
