import {
  exprFromGeneratorUrl,
  graphQueryFor,
  matchAlertSeries,
  safeHttpUrl,
  seriesName,
  silenceUrl,
  splitThreshold,
} from '../../src/bridge/query';
import type { Alert } from '../../src/bridge/payload';
import { promString } from '../../src/common/promql';

const alert = (patch: Partial<Alert>): Alert => ({
  status: 'firing',
  labels: { alertname: 'A', instance: 'web-1' },
  annotations: {},
  startsAt: 0,
  endsAt: null,
  generatorURL: '',
  fingerprint: 'f',
  ...patch,
});

describe('graph query', () => {
  it('prefers the query annotation, else takes only the expression from generatorURL', () => {
    expect(
      graphQueryFor(
        alert({ annotations: { query: 'up{job="x"}' }, generatorURL: 'http://p/graph?g0.expr=foo' }),
      ),
    ).toEqual({
      expr: 'up{job="x"}',
    });
    expect(
      graphQueryFor(
        alert({ generatorURL: 'http://evil.example:1234/graph?g0.expr=rate(x%5B5m%5D)+%3E+0.9&g0.tab=1' }),
      ),
    ).toEqual({
      expr: 'rate(x[5m])',
      threshold: 0.9,
    });
    expect(graphQueryFor(alert({ generatorURL: 'not a url' }))).toBeUndefined();
    expect(exprFromGeneratorUrl('http://p/graph?g0.tab=1')).toBeUndefined();
  });

  it('splits only a top-level comparison with a number', () => {
    expect(splitThreshold('node_load1 >= 4')).toEqual({ expr: 'node_load1', threshold: 4 });
    expect(splitThreshold('x > bool 1e3')).toEqual({ expr: 'x', threshold: 1000 });
    expect(splitThreshold('sum(rate(x{a=~"b>1"}[5m])) by (i) < -0.5')).toEqual({
      expr: 'sum(rate(x{a=~"b>1"}[5m])) by (i)',
      threshold: -0.5,
    });
    expect(splitThreshold('a > b')).toEqual({ expr: 'a > b' });
    expect(splitThreshold('a > 1 and b > 2')).toEqual({ expr: 'a > 1 and b > 2' });
    expect(splitThreshold('absent(up{job="x"})')).toEqual({ expr: 'absent(up{job="x"})' });
  });

  it('quotes label values safely for PromQL', () => {
    expect(promString('a"} or up{x="')).toBe('"a\\"} or up{x=\\""');
    expect(promString('back\\slash\nnewline')).toBe('"back\\\\slash\\nnewline"');
  });

  it('keeps the series of the alerting instance, or all when none match', () => {
    const series = [{ labels: { instance: 'web-1' } }, { labels: { instance: 'web-2' } }];
    expect(matchAlertSeries(series, { instance: 'web-2', alertname: 'A' })).toEqual([
      { labels: { instance: 'web-2' } },
    ]);
    expect(matchAlertSeries(series, { instance: 'db-1' })).toEqual(series);
    expect(matchAlertSeries([{ labels: { __name__: 'up', job: 'x' } }], { job: 'x' })).toHaveLength(1);
  });

  it('names series as Prometheus prints them', () => {
    expect(seriesName({ __name__: 'up', job: 'node', instance: 'a' })).toBe('up{instance="a", job="node"}');
    expect(seriesName({ __name__: 'up' })).toBe('up');
    expect(seriesName({})).toBe('{}');
  });

  it('links only to http(s)', () => {
    expect(safeHttpUrl('javascript:alert(1)')).toBeUndefined();
    expect(safeHttpUrl('data:text/html,hi')).toBeUndefined();
    expect(safeHttpUrl('file:///etc/passwd')).toBeUndefined();
    expect(safeHttpUrl('https://runbooks.example/cpu')).toBe('https://runbooks.example/cpu');
    expect(silenceUrl('javascript:x', { a: 'b' })).toBeUndefined();
    expect(silenceUrl('http://am:9093/', { instance: 'web-1', alertname: 'A' })).toBe(
      `http://am:9093/#/silences/new?filter=${encodeURIComponent('{alertname="A", instance="web-1"}')}`,
    );
  });
});
