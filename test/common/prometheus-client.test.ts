import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { PrometheusClient, PrometheusError } from '../../src/common/prometheus-client';
import { prometheusConnectionSchema } from '../../src/config/types';
import { freePort } from '../helpers/net';

/** A stand-in for Prometheus' HTTP API that answers from a script and records the requests. */
async function fakePrometheus(answers: Array<{ status: number; body: unknown }>) {
  const requests: Array<{ url: string; body: string; headers: http.IncomingHttpHeaders }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      requests.push({ url: req.url ?? '', body, headers: req.headers });
      const answer = answers[Math.min(requests.length - 1, answers.length - 1)];
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const matrix = {
  status: 'success',
  data: {
    resultType: 'matrix',
    result: [
      {
        metric: { instance: 'a' },
        values: [
          [1700000000, '1.5'],
          [1700000060.5, 'NaN'],
        ],
      },
    ],
  },
};

function client(url: string, extra: Record<string, unknown> = {}) {
  return new PrometheusClient(prometheusConnectionSchema.parse({ url, ...extra }), { backoffBaseMs: 1 });
}

describe('PrometheusClient', () => {
  it('returns range series with millisecond timestamps and numbers', async () => {
    const fake = await fakePrometheus([{ status: 200, body: matrix }]);
    try {
      const series = await client(fake.url).queryRange('up', 1_700_000_000_000, 1_700_000_060_000, 60_000);
      expect(series).toEqual([
        { labels: { instance: 'a' }, timestamps: [1_700_000_000_000, 1_700_000_060_500], values: [1.5, NaN] },
      ]);
      expect(fake.requests[0].url).toBe('/api/v1/query_range');
      expect(new URLSearchParams(fake.requests[0].body).get('step')).toBe('60');
    } finally {
      await fake.close();
    }
  });

  it('reads answers of rules querying at once into buffers of their own, round after round', async () => {
    // Answers of 0.1 to 3 MB, so that buffers grow, are kept, and are handed to the next answers.
    const sizes: Record<string, number> = { a: 2_000, b: 60_000, c: 15_000, d: 500 };
    const answer = (name: string, round: number) => ({
      status: 'success',
      data: {
        resultType: 'matrix',
        result: Array.from({ length: sizes[name] / 100 }, (_, i) => ({
          metric: { rule: name, i: String(i) },
          values: Array.from({ length: 100 }, (_, j) => [
            1_700_000_000 + j * 60,
            String(round * 1000 + i + j / 8),
          ]),
        })),
      },
    });
    let round = 0;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const text = JSON.stringify(answer(new URLSearchParams(body).get('query')!, round));
        // Half now, half later: every answer of the round is being read at the same time.
        res.writeHead(200, { 'content-type': 'application/json' }).write(text.slice(0, text.length / 2));
        setTimeout(() => res.end(text.slice(text.length / 2)), 50);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const prometheus = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      for (round = 0; round < 3; round++) {
        const names = round === 1 ? ['d', 'c', 'b', 'a'] : ['a', 'b', 'c', 'd'];
        const answers = await Promise.all(
          names.map((name) => prometheus.queryRange(name, 1_700_000_000_000, 1_700_005_940_000, 60_000)),
        );
        answers.forEach((series, k) => {
          const name = names[k];
          expect(series).toHaveLength(sizes[name] / 100);
          series.forEach((s, i) => {
            expect(s.labels).toEqual({ rule: name, i: String(i) });
            expect(s.values).toEqual(Array.from({ length: 100 }, (_, j) => round * 1000 + i + j / 8));
          });
        });
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('keeps no buffer sized for a backfill once the answers are small again', async () => {
    // One answer of about 8 MB (a backfill), then answers of about 50 KB (steady cycles).
    const answer = (points: number) =>
      JSON.stringify({
        status: 'success',
        data: {
          resultType: 'matrix',
          result: Array.from({ length: 100 }, (_, i) => ({
            metric: { i: String(i) },
            values: Array.from({ length: points }, (_, j) => [1_700_000_000 + j * 60, String(i + j / 4)]),
          })),
        },
      });
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const points = Number(new URLSearchParams(body).get('query'));
        res.writeHead(200, { 'content-type': 'application/json' }).end(answer(points));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const prometheus = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      const read = async (points: number) => {
        const series = await prometheus.queryRange(
          String(points),
          1_700_000_000_000,
          1_700_000_000_000,
          60_000,
        );
        expect(series).toHaveLength(100);
        expect(series[99].values).toEqual(Array.from({ length: points }, (_, j) => 99 + j / 4));
      };
      await read(4_000);
      const afterBackfill = prometheus.spareBytes;
      expect(afterBackfill).toBeGreaterThan(8e6);
      await read(25);
      // 1 MiB, the smallest buffer kept, for answers of 50 KB.
      expect(prometheus.spareBytes).toBe(1 << 20);
      await read(25);
      expect(prometheus.spareBytes).toBe(1 << 20);
      // Growing again is as before: the buffer fits the larger answer.
      await read(4_000);
      expect(prometheus.spareBytes).toBeGreaterThan(8e6);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('sends bearer tokens and extra headers', async () => {
    const fake = await fakePrometheus([
      { status: 200, body: { status: 'success', data: { resultType: 'vector', result: [] } } },
    ]);
    try {
      await client(fake.url, { bearer_token: 's3cret', headers: { 'X-Scope-OrgID': 'tenant-1' } }).query(
        'up',
      );
      expect(fake.requests[0].headers.authorization).toBe('Bearer s3cret');
      expect(fake.requests[0].headers['x-scope-orgid']).toBe('tenant-1');
    } finally {
      await fake.close();
    }
  });

  it('does not retry a bad query and reports Prometheus own words', async () => {
    const fake = await fakePrometheus([
      { status: 400, body: { status: 'error', errorType: 'bad_data', error: 'parse error: unexpected ")"' } },
    ]);
    try {
      const attempt = client(fake.url).query('rate(x[5m]))');
      await expect(attempt).rejects.toThrow('bad_data: parse error: unexpected ")"');
      await expect(attempt).rejects.toMatchObject({ kind: 'bad_query' });
      expect(fake.requests).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('retries a server error and succeeds when it passes', async () => {
    const fake = await fakePrometheus([
      { status: 503, body: { status: 'error', error: 'overloaded' } },
      { status: 200, body: matrix },
    ]);
    try {
      const series = await client(fake.url).queryRange('up', 0, 60_000, 60_000);
      expect(series).toHaveLength(1);
      expect(fake.requests).toHaveLength(2);
    } finally {
      await fake.close();
    }
  });

  it('refuses an answer larger than max_response_bytes as a bad query, without retrying', async () => {
    const huge = {
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: { a: 'x'.repeat(4096) }, value: [0, '1'] }] },
    };
    const fake = await fakePrometheus([{ status: 200, body: huge }]);
    try {
      const attempt = client(fake.url, { max_response_bytes: 2048 }).query('{__name__=~".+"}');
      await expect(attempt).rejects.toMatchObject({ kind: 'bad_query' });
      await expect(attempt).rejects.toThrow('answer larger than max_response_bytes (2048): narrow the query');
      expect(fake.requests).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('gives up after the configured retries when Prometheus is down', async () => {
    const port = await freePort();
    const attempt = client(`http://127.0.0.1:${port}`, { retries: 2 }).query('up');
    await expect(attempt).rejects.toBeInstanceOf(PrometheusError);
    await expect(attempt).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(attempt).rejects.toThrow(/ECONNREFUSED/);
  });

  it('reads +Inf, -Inf and NaN as Prometheus spells them', async () => {
    const infinite = {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          {
            metric: {},
            values: [
              [1700000000, '+Inf'],
              [1700000060, '-Inf'],
              [1700000120, 'NaN'],
            ],
          },
        ],
      },
    };
    const fake = await fakePrometheus([{ status: 200, body: infinite }]);
    try {
      const [series] = await client(fake.url).queryRange('x', 0, 120_000, 60_000);
      expect(series.values).toEqual([Infinity, -Infinity, NaN]);
    } finally {
      await fake.close();
    }
  });

  it("sends Prometheus' own evaluation timeout, shorter than the client's", async () => {
    const fake = await fakePrometheus([
      { status: 200, body: { status: 'success', data: { resultType: 'vector', result: [] } } },
    ]);
    try {
      await client(fake.url, { timeout: '10s' }).query('up');
      expect(new URLSearchParams(fake.requests[0].body).get('timeout')).toBe('9');
    } finally {
      await fake.close();
    }
  });

  it.each([
    [503, 'timeout', 'query timed out in expression evaluation'],
    [422, 'execution', 'query processing would load too many samples into memory in query execution'],
  ])(
    'does not retry a query Prometheus refused as too expensive (%i %s)',
    async (status, errorType, error) => {
      const fake = await fakePrometheus([{ status, body: { status: 'error', errorType, error } }]);
      try {
        const attempt = client(fake.url, { retries: 3 }).query('x + x + x');
        await expect(attempt).rejects.toMatchObject({ kind: 'too_expensive' });
        await expect(attempt).rejects.toThrow(`query refused as too expensive: ${error}`);
        expect(fake.requests).toHaveLength(1);
      } finally {
        await fake.close();
      }
    },
  );

  it('does not retry a query that timed out', async () => {
    const requests: string[] = [];
    const silent = http.createServer((req) => requests.push(req.url ?? ''));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const attempt = client(`http://127.0.0.1:${port}`, { timeout: '200ms', retries: 3 }).query('up');
      await expect(attempt).rejects.toMatchObject({ kind: 'timeout' });
      expect(requests).toHaveLength(1);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('asks for a gzipped answer and reads it inflated, max_response_bytes counting the inflated bytes', async () => {
    const points = Array.from({ length: 200 }, (_, i) => [1700000000 + 60 * i, '1.5']);
    const body = JSON.stringify({
      status: 'success',
      data: { resultType: 'matrix', result: [{ metric: { instance: 'a' }, values: points }] },
    });
    const headers: http.IncomingHttpHeaders[] = [];
    const server = http.createServer((req, res) => {
      headers.push(req.headers);
      req.resume();
      req.on('end', () =>
        req.headers['accept-encoding'] === 'gzip'
          ? res
              .writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
              .end(zlib.gzipSync(body))
          : res.writeHead(200, { 'content-type': 'application/json' }).end(body),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const [series] = await client(url).queryRange('x', 0, 60_000, 60_000);
      expect(headers[0]['accept-encoding']).toBe('gzip');
      expect(series.values).toEqual(points.map(() => 1.5));
      // Fits compressed, not inflated.
      expect(zlib.gzipSync(body).length).toBeLessThan(1024);
      expect(body.length).toBeGreaterThan(2048);
      const attempt = client(url, { max_response_bytes: 2048 }).queryRange('x', 0, 60_000, 60_000);
      await expect(attempt).rejects.toMatchObject({ kind: 'bad_query' });
      // The bridge's client asks for the answer as it is.
      const plain = new PrometheusClient(prometheusConnectionSchema.parse({ url }), { gzip: false });
      expect((await plain.queryRange('x', 0, 60_000, 60_000))[0].values).toHaveLength(points.length);
      expect(headers[headers.length - 1]['accept-encoding']).toBe('identity');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('times out an answer that stops halfway, without retrying', async () => {
    let requests = 0;
    const stalling = http.createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(JSON.stringify(matrix).slice(0, 40));
      });
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(stalling.address() as AddressInfo).port}`;
      const attempt = client(url, { timeout: '300ms', retries: 3 }).queryRange('up', 0, 60_000, 60_000);
      await expect(attempt).rejects.toMatchObject({ kind: 'timeout' });
      await expect(attempt).rejects.toThrow(`${url}/api/v1/query_range: timed out after 300 ms`);
      expect(requests).toBe(1);
    } finally {
      stalling.closeAllConnections();
      await new Promise<void>((resolve) => stalling.close(() => resolve()));
    }
  });

  it('times out an answer that trickles in for longer than the timeout (a byte every 50 ms, 7 s in all)', async () => {
    const trickling = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const text = JSON.stringify(matrix);
        let sent = 0;
        const drip = setInterval(() => {
          if (res.destroyed || sent === text.length) {
            clearInterval(drip);
            res.end();
          } else res.write(text[sent++]);
        }, 50);
      });
    });
    await new Promise<void>((resolve) => trickling.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(trickling.address() as AddressInfo).port}`;
      const attempt = client(url, { timeout: '300ms', retries: 0 }).queryRange('up', 0, 60_000, 60_000);
      await expect(attempt).rejects.toThrow(`${url}/api/v1/query_range: timed out after 300 ms`);
    } finally {
      trickling.closeAllConnections();
      await new Promise<void>((resolve) => trickling.close(() => resolve()));
    }
  });

  it('sends credentials of the URL as basic auth and never prints them', async () => {
    const fake = await fakePrometheus([{ status: 500, body: { status: 'error', error: 'down' } }]);
    try {
      const withCredentials = fake.url.replace('http://', 'http://admin:s3cr%40t@');
      const prometheus = client(withCredentials, { retries: 0 });
      expect(prometheus.url).toBe(fake.url);
      const attempt = prometheus.query('up');
      await expect(attempt).rejects.toThrow(`${fake.url}/api/v1/query: HTTP 500: down`);
      expect(fake.requests[0].headers.authorization).toBe(
        `Basic ${Buffer.from('admin:s3cr@t').toString('base64')}`,
      );
    } finally {
      await fake.close();
    }
  });
});
