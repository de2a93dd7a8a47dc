import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { DeliveryError } from '../../../src/bridge/channels/channel';
import { HttpDelivery, retryAfterMs } from '../../../src/bridge/channels/http';
import { httpClientSchema } from '../../../src/config/types';
import { freePort } from '../../helpers/net';
import { tempDir } from '../../helpers/tmp';
import { selfSignedCert } from '../../helpers/tls';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

const ROUTES: Record<string, Handler> = {
  '/ok': (_req, res, body) => res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`got ${body}`),
  '/accepted': (_req, res) => res.writeHead(202).end(),
  '/busy': (_req, res) => res.writeHead(503).end(`overloaded\n${'x'.repeat(500)}`),
  '/limited': (_req, res) => res.writeHead(429, { 'Retry-After': '7' }).end('rate_limited'),
  '/bad': (_req, res) => res.writeHead(400).end('invalid_blocks'),
  '/moved': (_req, res) => res.writeHead(302, { Location: '/ok' }).end(),
  '/silent': () => undefined,
};

function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => (ROUTES[req.url ?? ''] ?? ROUTES['/bad'])(req, res, body));
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(err)}`);
  return err;
}

describe('the HTTP delivery helper (one status policy for every HTTP channel)', () => {
  const dir = tempDir('vigil-http-');
  const { cert, key } = selfSignedCert(dir.path);
  const plain = http.createServer(serve);
  const secure = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, serve);
  const connects: string[] = [];
  const tunnels: net.Socket[] = [];
  // A forward proxy that only tunnels (CONNECT), as corporate proxies do for https.
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    connects.push(req.url ?? '');
    tunnels.push(socket);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      tunnels.push(upstream);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    // A reset on either side takes the other down, as a proxy does: an 'error' on the client's side
    // of the tunnel must not go unheard (with no listener it is an uncaught exception in the test).
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  let base = '';
  let secureBase = '';
  let proxyUrl = '';
  const helpers: HttpDelivery[] = [];
  const helper = (settings: Record<string, unknown> = {}): HttpDelivery => {
    const created = new HttpDelivery(httpClientSchema.parse(settings), 'Peer');
    helpers.push(created);
    return created;
  };

  beforeAll(async () => {
    base = `http://127.0.0.1:${await listen(plain)}`;
    secureBase = `https://127.0.0.1:${await listen(secure)}`;
    proxyUrl = `http://127.0.0.1:${await listen(proxy)}`;
  });

  afterAll(async () => {
    for (const h of helpers) h.close();
    plain.closeAllConnections();
    secure.closeAllConnections();
    proxy.closeAllConnections();
    for (const socket of tunnels) socket.destroy();
    await Promise.all([plain, secure, proxy].map((s) => new Promise((resolve) => s.close(resolve))));
    dir.remove();
  });

  it('delivers on 2xx and returns the answer', async () => {
    const answer = await helper().send({ url: `${base}/ok`, body: 'hello' });
    expect(answer).toMatchObject({ status: 200, body: 'got hello' });
    expect((await helper().send({ url: `${base}/accepted`, body: '' })).status).toBe(202);
  });

  it('retries 5xx, quoting the start of the answer on one line, never the URL path', async () => {
    const err = await failure(helper().send({ url: `${base}/busy`, body: '' }));
    expect(err.permanent).toBe(false);
    expect(err.message).toMatch(/^Peer \(127\.0\.0\.1:\d+\): HTTP 503: overloaded x{189}…$/);
    expect(err.message).toMatch(/…$/);
    expect(err.message).not.toContain('/busy');
    expect(err.retryAfterMs).toBeUndefined();
  });

  it('retries 429 no sooner than Retry-After', async () => {
    const err = await failure(helper().send({ url: `${base}/limited`, body: '' }));
    expect(err.permanent).toBe(false);
    expect(err.retryAfterMs).toBe(7_000);
    expect(err.message).toContain('HTTP 429: rate_limited');
  });

  it('gives up on other 4xx and on redirects', async () => {
    const bad = await failure(helper().send({ url: `${base}/bad`, body: '' }));
    expect(bad.permanent).toBe(true);
    expect(bad.message).toContain('HTTP 400: invalid_blocks');
    expect((await failure(helper().send({ url: `${base}/moved`, body: '' }))).permanent).toBe(true);
  });

  it('retries a peer that does not answer within the timeout', async () => {
    const err = await failure(helper({ timeout: '300ms' }).send({ url: `${base}/silent`, body: '' }));
    expect(err.permanent).toBe(false);
    expect(err.message).toMatch(/no answer within 300 ms$/);
  });

  it('retries a refused connection', async () => {
    const port = await freePort();
    const err = await failure(helper().send({ url: `http://127.0.0.1:${port}/`, body: '' }));
    expect(err.permanent).toBe(false);
    expect(err.message).toBe(`Peer (127.0.0.1:${port}): ECONNREFUSED`);
  });

  it('stops an attempt when the bridge shuts down (AbortSignal)', async () => {
    const shutdown = new AbortController();
    const sent = helper().send({ url: `${base}/silent`, body: '', signal: shutdown.signal });
    setTimeout(() => shutdown.abort(), 50);
    const err = await failure(sent);
    expect(err.permanent).toBe(false);
    expect(err.message).toMatch(/aborted by shutdown$/);
  });

  it('verifies TLS peers against the configured CA, and refuses unknown ones', async () => {
    const untrusted = await failure(helper().send({ url: `${secureBase}/ok`, body: 'x' }));
    expect(untrusted.message).toMatch(/SELF_SIGNED|self.signed/i);
    const trusted = await helper({ tls: { ca_file: cert } }).send({ url: `${secureBase}/ok`, body: 'x' });
    expect(trusted.body).toBe('got x');
  });

  it('tunnels https through the configured proxy, with the TLS settings reaching the peer', async () => {
    const port = new URL(secureBase).port;
    const answer = await helper({ proxy_url: proxyUrl, tls: { ca_file: cert } }).send({
      url: `${secureBase}/ok`,
      body: 'via proxy',
    });
    expect(answer.body).toBe('got via proxy');
    expect(connects).toContain(`127.0.0.1:${port}`);
  });

  it('reads Retry-After in seconds or as an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(retryAfterMs('30', now)).toBe(30_000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});
