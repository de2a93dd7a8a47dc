import { formatFamilies } from '../../src/common/exposition';
import { logsSchema, namedGroups } from '../../src/config/logs';
import { compileRules } from '../../src/exporter/logs/rules';

function compile(rules: unknown[], maxSeries = 1000) {
  return compileRules(logsSchema.parse([{ files: ['/x.log'], rules }]), maxSeries);
}

function text(metrics: ReturnType<typeof compile>['metrics']): string {
  return formatFamilies(
    metrics.map((metric) => metric.family()),
    'text',
  );
}

describe('log rules', () => {
  it('lists the named groups of a regex, not lookbehinds or escaped parentheses', () => {
    expect(namedGroups('(?<=a)\\(?<no>x\\) (?<status>\\w+) (?:(?<seconds>\\d+)|-)')).toEqual([
      'status',
      'seconds',
    ]);
  });

  it('counts by 1 or by the value group, sets gauges, and observes histograms into cumulative buckets', () => {
    const { ruleSets, metrics } = compile([
      { regex: 'job (?<status>done|failed)', metric: 'jobs_total', type: 'counter', labels: ['status'] },
      { regex: 'sent (?<bytes>\\d+)', metric: 'sent_bytes_total', type: 'counter', value: 'bytes' },
      {
        regex: 'queue=(?<n>\\d+)',
        metric: 'queue_length',
        type: 'gauge',
        value: 'n',
        const_labels: { q: 'main' },
      },
      {
        regex: 'took (?<s>[0-9.]+)s',
        metric: 'took_seconds',
        type: 'histogram',
        value: 's',
        buckets: [1, 10],
      },
    ]);
    for (const line of [
      'job done took 0.5s',
      'job failed took 5s',
      'job done took 50s',
      'sent 100',
      'sent 23',
      'queue=4',
      'queue=2',
    ])
      ruleSets[0].apply(line);
    expect(text(metrics)).toBe(
      [
        '# HELP jobs_total Lines of log files matched by exporter.logs[0].rules[0].',
        '# TYPE jobs_total counter',
        'jobs_total{status="done"} 2',
        'jobs_total{status="failed"} 1',
        '# HELP sent_bytes_total Lines of log files matched by exporter.logs[0].rules[1].',
        '# TYPE sent_bytes_total counter',
        'sent_bytes_total 123',
        '# HELP queue_length Lines of log files matched by exporter.logs[0].rules[2].',
        '# TYPE queue_length gauge',
        'queue_length{q="main"} 2',
        '# HELP took_seconds Lines of log files matched by exporter.logs[0].rules[3].',
        '# TYPE took_seconds histogram',
        'took_seconds_bucket{le="1"} 1',
        'took_seconds_bucket{le="10"} 2',
        'took_seconds_bucket{le="+Inf"} 3',
        'took_seconds_sum 55.5',
        'took_seconds_count 3',
        '',
      ].join('\n'),
    );
  });

  it('counts a value that is not a number (or negative for a counter) as a parse error, not in the metric', () => {
    const { ruleSets, metrics } = compile([
      { regex: 'delta (?<d>\\S+)', metric: 'delta_total', type: 'counter', value: 'd' },
    ]);
    for (const line of ['delta 2', 'delta abc', 'delta -1', 'delta 1e400', 'delta 3'])
      ruleSets[0].apply(line);
    const rule = ruleSets[0].rules[0];
    expect([rule.matches, rule.parseErrors]).toEqual([5, 3]);
    expect(text(metrics)).toContain('delta_total 5\n');
  });

  it('keeps at most max_series_per_metric label sets and counts the matches left out', () => {
    const { ruleSets, metrics } = compile(
      [{ regex: 'user=(?<user>\\S+)', metric: 'logins_total', type: 'counter', labels: ['user'] }],
      2,
    );
    for (const user of ['a', 'b', 'c', 'a', 'd', 'b']) ruleSets[0].apply(`user=${user}`);
    expect(text(metrics)).toContain('logins_total{user="a"} 2\nlogins_total{user="b"} 2\n');
    expect(text(metrics)).not.toContain('user="c"');
    expect(metrics[0].dropped).toBe(2);
  });

  it('lets two rules feed one metric with the same labels, in either order of constants and groups', () => {
    const { ruleSets, metrics } = compile([
      {
        regex: 'ok (?<q>\\w+)',
        metric: 'runs_total',
        type: 'counter',
        labels: ['q'],
        const_labels: { outcome: 'ok' },
      },
      {
        regex: 'fail (?<q>\\w+)',
        metric: 'runs_total',
        type: 'counter',
        labels: ['q'],
        const_labels: { outcome: 'failed' },
      },
    ]);
    ruleSets[0].apply('ok nightly');
    ruleSets[0].apply('fail nightly');
    expect(text(metrics)).toContain(
      'runs_total{q="nightly",outcome="ok"} 1\nruns_total{q="nightly",outcome="failed"} 1\n',
    );
  });

  it.each([
    [{ regex: 'a(', metric: 'a_total', type: 'counter' }, ['regex'], 'invalid regular expression'],
    [{ regex: 'a', metric: '1a_total', type: 'counter' }, ['metric'], 'invalid metric name'],
    [{ regex: 'a', metric: 'vigil_log_x_total', type: 'counter' }, ['metric'], "the log collector's own"],
    [
      { regex: '(?<v>\\d)', metric: 'v_total', type: 'gauge', value: 'v' },
      ['metric'],
      'does not end in _total',
    ],
    [{ regex: 'a', metric: 'a', type: 'gauge' }, ['value'], 'needs the named group'],
    [
      { regex: '(?<le>\\d)', metric: 'h', type: 'histogram', value: 'le', labels: ['le'] },
      ['labels', 0],
      'invalid label name',
    ],
    [
      { regex: '(?<v>\\d)', metric: 'h', type: 'histogram', value: 'v', buckets: [1, 1] },
      ['buckets', 1],
      'increasing',
    ],
    [
      { regex: '(?<v>\\d)', metric: 'g', type: 'gauge', value: 'v', buckets: [1] },
      ['buckets'],
      'only a histogram',
    ],
  ])('rejects %j at its key path', (rule, path, message) => {
    const result = logsSchema.safeParse([{ files: ['/x.log'], rules: [rule] }]);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0].path).toEqual([0, 'rules', 0, ...path]);
    expect(result.error!.issues[0].message).toContain(message);
  });

  it('rejects two rules that feed one metric with different labels', () => {
    const result = logsSchema.safeParse([
      {
        files: ['/x.log'],
        rules: [
          { regex: '(?<a>x)', metric: 'm_total', type: 'counter', labels: ['a'] },
          { regex: 'y', metric: 'm_total', type: 'counter' },
        ],
      },
    ]);
    expect(result.error!.issues[0].path).toEqual([0, 'rules', 1, 'metric']);
  });
});
