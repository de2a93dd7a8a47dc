import { MatrixSyntaxError, parseMatrix, parseSampleValue } from '../../src/common/matrix-parser';

interface Read {
  metric: Record<string, string>;
  timestamps: number[];
  values: number[];
}

function read(text: string): { envelope: ReturnType<typeof parseMatrix>; series: Read[] } {
  const series: Read[] = [];
  const envelope = parseMatrix(Buffer.from(text), (s) =>
    series.push({
      metric: JSON.parse(s.metricText) as Record<string, string>,
      timestamps: Array.from(s.timestamps),
      values: Array.from(s.values),
    }),
  );
  return { envelope, series };
}

/** What JSON.parse and the obvious conversion make of the same answer. */
function reference(text: string): Read[] {
  const body = JSON.parse(text) as {
    data: { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> };
  };
  return body.data.result.map((r) => ({
    metric: r.metric,
    timestamps: r.values.map(([t]) => Math.round(t * 1000)),
    values: r.values.map(([, v]) => parseSampleValue(v)),
  }));
}

describe('parseMatrix', () => {
  test('reads every sample exactly as JSON.parse and Number() do, over many spellings', () => {
    // Values as Go formats floats: shortest decimals, long ones, exponents, negative, NaN and infinities.
    const spellings = [
      '0',
      '1',
      '-1',
      '0.1',
      '12.5',
      '-0.000123',
      '123456789012345',
      '1234567890123456789',
      '0.30000000000000004',
      '1e+06',
      '1.5e-07',
      '-2.5E+20',
      'NaN',
      '+Inf',
      '-Inf',
      '-0',
      '4503599627370497',
      '0.000000000000000000001',
    ];
    let state = 7;
    const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
    for (let k = 0; k < 200; k++)
      spellings.push(String((random() - 0.5) * 10 ** Math.floor(random() * 30 - 10)));
    const result = spellings.map((v, i) => ({
      metric: { __name__: 'x', instance: `h${i}`, path: i % 2 ? 'C:\\temp "q"' : 'é/ü' },
      values: [
        [1700000000 + i, v],
        [1700000000.5 + i, v],
        [1700000000.125, v],
        [1700000000.1234, v],
      ],
    }));
    const text = JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } });
    const { envelope, series } = read(text);
    expect(envelope).toEqual({ status: 'success', resultType: 'matrix', series: spellings.length });
    expect(series).toEqual(reference(text));
  });

  test('skips unknown keys and whitespace, and reads keys in any order within a series', () => {
    const text = `{ "status" : "success", "warnings": ["w", {"a": [1, true, null]}],
      "data": { "resultType": "matrix", "result": [
        { "values": [ [ 1700000000 , "2" ] ], "histograms": [], "metric": { "job": "a\\"b" } }
      ], "stats": { "x": 1.5e3 } } }`;
    const { envelope, series } = read(text);
    expect(envelope.status).toBe('success');
    expect(series).toEqual([{ metric: { job: 'a"b' }, timestamps: [1_700_000_000_000], values: [2] }]);
  });

  test('grows its arrays for series longer than their first size', () => {
    const values = Array.from({ length: 3000 }, (_, i) => [1700000000 + i * 15, String(i / 4)]);
    const text = JSON.stringify({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          { metric: {}, values },
          { metric: { a: 'b' }, values: values.slice(0, 2) },
        ],
      },
    });
    expect(read(text).series).toEqual(reference(text));
  });

  test('an error envelope visits nothing and says why', () => {
    const { envelope, series } = read('{"status":"error","errorType":"bad_data","error":"parse error"}');
    expect(envelope).toEqual({ status: 'error', errorType: 'bad_data', error: 'parse error', series: 0 });
    expect(series).toEqual([]);
  });

  test('another result type visits nothing and reports its type', () => {
    const { envelope, series } = read(
      '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2"]}]}}',
    );
    expect(envelope.resultType).toBe('vector');
    expect(series).toEqual([]);
  });

  test.each([
    [
      'cut short',
      '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"',
    ],
    ['not JSON', '<html>502 Bad Gateway</html>'],
    [
      'a timestamp is not a number',
      '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["1","2"]]}]}}',
    ],
    ['trailing garbage', '{"status":"success"} x'],
  ])('throws a MatrixSyntaxError when %s', (_what, text) => {
    expect(() => read(text)).toThrow(MatrixSyntaxError);
  });
});
