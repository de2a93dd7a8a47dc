import { Counter, Registry } from 'prom-client';
import { startServiceServer, type ServiceServer } from '../../src/common/http-server';
import { UserError } from '../../src/common/errors';

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
