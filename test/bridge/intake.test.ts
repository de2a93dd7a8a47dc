import net from 'node:net';
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import zlib from 'node:zlib';
import type { AcceptResult } from '../../src/bridge/dispatcher';
import { webhookHandler, type IntakeOptions } from '../../src/bridge/intake';
import { BridgeMetrics } from '../../src/bridge/metrics';
import type { Notification } from '../../src/bridge/payload';
import { rootLogger } from '../../src/common/logger';
import { waitFor } from '../helpers/wait';
import { alertmanagerPayload } from './fixtures';

describe('webhook intake', () => {
  const log = rootLogger.child({ component: 'test' });
  log.level = 'silent';
  const accepted: Array<{ route: string; channels: string[] }> = [];
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    server = serveIntake({
      maxBodyBytes: 1 << 20,
      auth: {},
      routes: { default: [], ops: ['pager'] },
      allChannels: ['mail', 'pager'],
      accept: async (route: string, _n: Notification, channels: string[]): Promise<AcceptResult> => {
        accepted.push({ route, channels });
        return { status: 'accepted', id: 'x' };
      },
      metrics: new BridgeMetrics(),
      log,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (accepted.length = 0));

  const post = (route: string) =>
    fetch(`${url}/webhook/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alertmanagerPayload()),
    });

  it.each(['toString', '__proto__', 'constructor', 'hasOwnProperty', 'valueOf'])(
    'answers 404 for /webhook/%s, a name on the object prototype, and delivers nothing',
    async (route) => {
      const response = await post(route);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe(`unknown route "${route}"\n`);
      expect(accepted).toEqual([]);
    },
  );

  it('routes a configured name to its channels', async () => {
    expect((await post('ops')).status).toBe(200);
    expect(accepted).toEqual([{ route: 'ops', channels: ['pager'] }]);
  });

  it('answers GET /webhook with 405 and the allowed method, in one line', async () => {
    for (const path of ['/webhook', '/webhook/ops']) {
      const response = await fetch(`${url}${path}`);
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('POST');
      expect(await response.text()).toBe('method not allowed: POST the webhook\n');
    }
  });

  it('takes a trailing slash and percent-encoding in the route, and refuses a malformed one with 400', async () => {
    const body = JSON.stringify(alertmanagerPayload());
    const send = (path: string) => fetch(`${url}${path}`, { method: 'POST', body });
    expect((await send('/webhook/ops/')).status).toBe(200);
    expect((await send('/webhook/%6Fps')).status).toBe(200);
    expect(accepted).toEqual([
      { route: 'ops', channels: ['pager'] },
      { route: 'ops', channels: ['pager'] },
    ]);
    const malformed = await send('/webhook/%zz');
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).toBe('bad request: the route in the path is not valid percent-encoding\n');
    expect((await send('/webhooks')).status).toBe(404);
    expect(accepted).toHaveLength(2);
  });

  it('refuses a compressed body with 415 in one line, and stores nothing', async () => {
    const response = await fetch(`${url}/webhook`, {
      method: 'POST',
      headers: { 'content-encoding': 'gzip' },
      body: zlib.gzipSync(JSON.stringify(alertmanagerPayload())),
    });
    expect(response.status).toBe(415);
    expect(await response.text()).toBe(
      'unsupported content encoding "gzip": send the payload uncompressed\n',
    );
    expect(accepted).toEqual([]);
  });
});

describe('webhook intake with authentication', () => {
  const log = rootLogger.child({ component: 'test' });
  log.level = 'silent';
  const metrics = new BridgeMetrics();
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    server = serveIntake({
      maxBodyBytes: 1 << 20,
      auth: { bearer_token: 'tok3n' },
      routes: { default: [] },
      allChannels: ['mail'],
      accept: async (): Promise<AcceptResult> => ({ status: 'accepted', id: 'x' }),
      metrics,
      log,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const rejected = async (reason: string): Promise<number> =>
    (await metrics.rejected.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

  it.each(['Bearer tok3n', 'bearer tok3n', 'BEARER  tok3n '])(
    'accepts the auth scheme in any case (RFC 7235): %j',
    async (authorization) => {
      const response = await fetch(`${url}/webhook`, {
        method: 'POST',
        headers: { authorization },
        body: JSON.stringify(alertmanagerPayload()),
      });
      expect(response.status).toBe(200);
    },
  );

  it('still refuses a wrong token', async () => {
    const response = await fetch(`${url}/webhook`, {
      method: 'POST',
      headers: { authorization: 'bearer tok3x' },
      body: JSON.stringify(alertmanagerPayload()),
    });
    expect(response.status).toBe(401);
  });

  it('counts a body the sender aborted as aborted, not as a bad payload', async () => {
    const [badBefore, abortedBefore] = [await rejected('bad_payload'), await rejected('aborted')];
    const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /webhook HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok3n\r\nContent-Length: 500\r\n\r\n{"a":',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    await waitFor(async () => (await rejected('aborted')) === abortedBefore + 1);
    expect(await rejected('bad_payload')).toBe(badBefore);
  });
});

/** The intake on a bare node:http server, as the bridge serves it; other paths get 404. */
function serveIntake(options: IntakeOptions): http.Server {
  const handle = webhookHandler(options);
  return http.createServer((req, res) => {
    if (!handle(req, res)) res.writeHead(404).end('not found\n');
  });
}
