import net from 'node:net';
import zlib from 'node:zlib';
import { Counter, Registry } from 'prom-client';
import { startServiceServer, type ServiceServer } from '../../src/common/http-server';
import { UserError } from '../../src/common/errors';
import { rawRequest } from '../helpers/net';
import { waitFor } from '../helpers/wait';

describe('startServiceServer', () => {
  let server: ServiceServer | undefined;
  let ready = false;
  const registry = new Registry();
  new Counter({ name: 'vigil_test_requests_total', help: 'Requests.', registers: [registry] }).inc(3);

  beforeAll(async () => {
    server = await startServiceServer({
      service: 'test',
      listen: '127.0.0.1:0',
      registry,
      isReady: () => ready,
      metrics: async (format) =>
        format === 'openmetrics' ? '# TYPE own gauge\nown 1\n# EOF\n' : '# TYPE own gauge\nown 1\n',
      routes: (app) => app.get('/hello', (_req, res) => void res.send('hi')),
    });
  });
  afterAll(async () => server?.close());

  it('reports the real port in its URL', () => {
    expect(server!.port).toBeGreaterThan(0);
    expect(server!.url).toBe(`http://127.0.0.1:${server!.port}`);
  });

  it('serves the service metrics followed by the self-metrics as text', async () => {
    const response = await fetch(`${server!.url}/metrics`);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = await response.text();
    expect(body.startsWith('# TYPE own gauge\nown 1\n')).toBe(true);
    expect(body).toContain('vigil_test_requests_total 3\n');
  });

  it('serves OpenMetrics with a single EOF when asked for', async () => {
    const response = await fetch(`${server!.url}/metrics`, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    expect(response.headers.get('content-type')).toContain('application/openmetrics-text');
    const body = await response.text();
    expect(body.match(/# EOF/g)).toHaveLength(1);
    expect(body.endsWith('vigil_test_requests_total 3\n# EOF\n')).toBe(true);
  });

  describe('gzip negotiation on /metrics', () => {
    const metricsUrl = () => `${server!.url}/metrics`;
    const identity = async () => (await rawRequest(metricsUrl())).body.toString();

    it('gzips when the scraper asks, as Prometheus does, and the body gunzips to the same exposition', async () => {
      const response = await rawRequest(metricsUrl(), { headers: { 'accept-encoding': 'gzip' } });
      expect(response.status).toBe(200);
      expect(response.headers['content-encoding']).toBe('gzip');
      expect(response.headers.vary).toBe('Accept-Encoding');
      expect(Number(response.headers['content-length'])).toBe(response.body.length);
      expect(response.body.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      const text = zlib.gunzipSync(response.body).toString();
      expect(text.startsWith('# TYPE own gauge\nown 1\n')).toBe(true);
      expect(text).toBe(await identity());
    });

    it('keeps identity for clients that do not ask or refuse gzip', async () => {
      for (const acceptEncoding of [
        undefined,
        'identity',
        'gzip;q=0',
        'br, gzip; q=0.000',
        '*;q=0',
        'deflate',
      ]) {
        const response = await rawRequest(metricsUrl(), {
          headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding },
        });
        expect([acceptEncoding, response.headers['content-encoding']]).toEqual([acceptEncoding, undefined]);
        expect(response.headers.vary).toBe('Accept-Encoding');
        expect(response.body.toString()).toContain('vigil_test_requests_total 3\n');
        expect(Number(response.headers['content-length'])).toBe(response.body.length);
      }
    });

    it('gzips for a weighted or wildcard offer', async () => {
      for (const acceptEncoding of ['deflate, gzip;q=0.5', 'x-gzip', '*', 'GZIP']) {
        const response = await rawRequest(metricsUrl(), { headers: { 'accept-encoding': acceptEncoding } });
        expect([acceptEncoding, response.headers['content-encoding']]).toEqual([acceptEncoding, 'gzip']);
        expect(zlib.gunzipSync(response.body).toString()).toContain('vigil_test_requests_total 3\n');
      }
    });

    it('answers HEAD with the headers of the gzipped GET and no body', async () => {
      const get = await rawRequest(metricsUrl(), { headers: { 'accept-encoding': 'gzip' } });
      const head = await rawRequest(metricsUrl(), { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } });
      expect(head.status).toBe(200);
      expect(head.headers['content-encoding']).toBe('gzip');
      expect(head.headers['content-length']).toBe(get.headers['content-length']);
      expect(head.body.length).toBe(0);
    });

    it('gzips a service whose self-metrics are empty (the exporter until a refusal) to a whole stream', async () => {
      const quiet = await startServiceServer({
        service: 'quiet',
        listen: '127.0.0.1:0',
        registry: new Registry(),
        metrics: async () => '# TYPE own gauge\nown 1\n',
      });
      try {
        const response = await rawRequest(`${quiet.url}/metrics`, { headers: { 'accept-encoding': 'gzip' } });
        expect(response.headers['content-encoding']).toBe('gzip');
        // gunzipSync checks the stream's end, the CRC-32 and the length.
        expect(zlib.gunzipSync(response.body).toString()).toBe('# TYPE own gauge\nown 1\n');
      } finally {
        await quiet.close();
      }
    });

    it('answers a failed render with a plain readable line even when gzip is asked', async () => {
      const failing = await startServiceServer({
        service: 'failing',
        listen: '127.0.0.1:0',
        registry,
        metrics: () => Promise.reject(new Error('collector exploded')),
      });
      try {
        const response = await rawRequest(`${failing.url}/metrics`, {
          headers: { 'accept-encoding': 'gzip' },
        });
        expect(response.status).toBe(500);
        expect(response.headers['content-encoding']).toBeUndefined();
        expect(response.body.toString()).toBe('error rendering metrics: collector exploded\n');
      } finally {
        await failing.close();
      }
    });
  });

  it('answers health at once and readiness only when ready', async () => {
    expect((await fetch(`${server!.url}/-/healthy`)).status).toBe(200);
    expect((await fetch(`${server!.url}/-/ready`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${server!.url}/-/ready`)).status).toBe(200);
  });

  it('mounts the service routes', async () => {
    expect(await (await fetch(`${server!.url}/hello`)).text()).toBe('hi');
  });

  it('answers 404 for paths no one serves, with and without service routes', async () => {
    expect((await fetch(`${server!.url}/nope`)).status).toBe(404);
    const bare = await startServiceServer({ service: 'bare', listen: '127.0.0.1:0', registry });
    try {
      expect((await fetch(`${bare.url}/nope`)).status).toBe(404);
      expect((await fetch(`${bare.url}/metrics`, { method: 'POST' })).status).toBe(404);
      expect(await (await fetch(`${bare.url}/metrics?debug=1`)).text()).toContain(
        'vigil_test_requests_total 3',
      );
    } finally {
      await bare.close();
    }
  });

  it('fails with a one-line error when the port is taken', async () => {
    const attempt = startServiceServer({ service: 'other', listen: `127.0.0.1:${server!.port}`, registry });
    await expect(attempt).rejects.toThrow(UserError);
    await expect(attempt).rejects.toThrow(
      /^other: cannot listen on 127\.0\.0\.1:\d+: address already in use$/,
    );
  });
});

describe('startServiceServer under hostile clients', () => {
  const registry = new Registry();
  let server: ServiceServer;

  beforeAll(async () => {
    server = await startServiceServer({
      service: 'test',
      listen: '127.0.0.1:0',
      registry,
      routes: (app) => {
        app.get('/graph/:file', (req, res) => void res.send(req.params.file));
        app.post('/upload', (req, res) => {
          req.resume();
          req.on('end', () => res.send('stored'));
        });
      },
      limits: { maxConnections: 3, headersTimeoutMs: 300, requestTimeoutMs: 600, checkIntervalMs: 100 },
    });
  });
  afterAll(async () => server.close());

  const refused = async (reason: string): Promise<number> =>
    (await registry.getSingleMetric('vigil_http_connections_refused_total')!.get()).values.find(
      (v) => v.labels.reason === reason,
    )?.value ?? 0;

  /** A raw connection that writes `sent` and collects what comes back until the server closes it. */
  function connect(sent = '', port = server.port): Promise<{ socket: net.Socket; answer: Promise<string> }> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        if (sent) socket.write(sent);
        const answer = new Promise<string>((done) => {
          let text = '';
          socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
          socket.on('close', () => done(text));
          socket.on('error', () => undefined);
        });
        resolve({ socket, answer });
      });
    });
  }

  it('answers a malformed percent-encoding in a path with one plain line, no stack trace', async () => {
    const response = await fetch(`${server.url}/graph/%E0%A4%A.png`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toBe('bad request: malformed percent-encoding in the path\n');
  });

  it('answers unknown paths with one plain line, not an HTML page', async () => {
    const response = await fetch(`${server.url}/nothing/here`);
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('not found\n');
  });

  it('closes a connection that sends no request within the headers timeout, and counts it', async () => {
    const before = await refused('timeout');
    const { answer } = await connect();
    expect(await answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(await refused('timeout')).toBe(before + 1);
  });

  it('closes a body trickled slower than the request timeout', async () => {
    const { socket, answer } = await connect(
      'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n',
    );
    const trickle = setInterval(() => socket.writable && socket.write('x'), 50);
    try {
      expect(await answer).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(trickle);
    }
  });

  it('refuses connections over the cap, counts them, and serves again once they close', async () => {
    // A server of its own: the other tests' keep-alive connections would count against the cap.
    const own = new Registry();
    const capped = await startServiceServer({
      service: 'capped',
      listen: '127.0.0.1:0',
      registry: own,
      limits: { maxConnections: 3 },
    });
    try {
      const idle = await Promise.all([1, 2, 3].map(() => connect('', capped.port)));
      const extra = await connect('', capped.port);
      expect(await extra.answer).toBe('');
      const counted = await own.getSingleMetric('vigil_http_connections_refused_total')!.get();
      expect(counted.values).toEqual([expect.objectContaining({ labels: { reason: 'limit' }, value: 1 })]);
      for (const c of idle) c.socket.destroy();
      await waitFor(async () => (await fetch(`${capped.url}/-/healthy`).catch(() => undefined))?.ok);
    } finally {
      await capped.close();
    }
  });
});
