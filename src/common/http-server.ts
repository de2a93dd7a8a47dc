import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import type { Express, NextFunction, Request, Response } from 'express';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import { componentLogger, type Logger } from './logger';
import { errorMessage, UserError } from './errors';
import { parseListen, formatListen, type ListenAddress } from './listen';
import {
  acceptsGzip,
  CONTENT_TYPES,
  deflateRaw,
  ExpositionBody,
  expositionBytes,
  formatFamilies,
  negotiateFormat,
  registryFamilies,
  type ExpositionFormat,
} from './exposition';

export interface TlsFiles {
  cert: Buffer | string;
  key: Buffer | string;
}

export interface ServiceServerOptions {
  /** exporter, detector or bridge: names the logs. */
  service: string;
  /** HOST:PORT or :PORT; port 0 picks a free one. */
  listen: string;
  /** Self-metrics, served on /metrics after whatever `metrics` renders. */
  registry: Registry;
  /** Extra endpoints. */
  routes?: (app: Express) => void;
  /**
   * Requests answered by node:http directly, before Express sees them (true when answered): hot
   * paths, whose objects Express keeps alive past young-generation GCs (the bridge's webhook).
   */
  direct?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  /** /-/ready answers 503 until this says true. */
  isReady?: () => boolean;
  /**
   * The service's own exposition: text rendered per scrape (the exporter's host metrics), or a
   * body shared by several scrapes (the detector's outputs, rendered once per cycle).
   */
  metrics?: (format: ExpositionFormat) => Promise<string | ExpositionBody>;
  tls?: TlsFiles;
  /** Connection and timeout bounds; defaults in DEFAULT_LIMITS. */
  limits?: Partial<ConnectionLimits>;
}

export interface ConnectionLimits {
  /** Open connections at most; more are closed at once. Default: 80% of the process' file limit. */
  maxConnections: number;
  /** A request's headers must arrive within this (an idle new connection is closed after it). */
  headersTimeoutMs: number;
  /** A whole request, body included, must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** How often the timeouts above are checked. */
  checkIntervalMs: number;
}

export const DEFAULT_LIMITS: Omit<ConnectionLimits, 'maxConnections'> = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Longer than the 60 s idle timeout of common load balancers, so they close first.
  keepAliveTimeoutMs: 65_000,
  checkIntervalMs: 1_000,
};

export interface ServiceServer {
  /** Base URL with the real port, e.g. http://127.0.0.1:9110 */
  url: string;
  port: number;
  close(): Promise<void>;
}

// The fastest level: an exposition is repetitive text, so level 1 already shrinks it about six-fold,
// and a scrape's CPU matters more than the last few hundred bytes.
const GZIP_LEVEL = zlib.constants.Z_BEST_SPEED;
/** RFC 1952 member header: deflate, no flags, no time, fastest level, unknown OS. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x04, 0xff]);

/** A final deflate block with no data (fixed Huffman codes, end-of-block only; RFC 1951 3.2.6). */
const EMPTY_FINAL_BLOCK = Buffer.from([0x03, 0x00]);

/**
 * One gzip member of `head` (its compression kept by the ExpositionBody) followed by `tail`:
 * the blocks of both deflate streams in a row are one valid stream, since the head's ends in a
 * sync flush and the tail's blocks refer only to its own bytes.
 */
async function gzipParts(head: ExpositionBody, tail: Buffer): Promise<Buffer[]> {
  const deflated = await head.deflated(GZIP_LEVEL);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(zlib.crc32(tail, deflated.crc), 0);
  trailer.writeUInt32LE((head.bytes.length + tail.length) % 2 ** 32, 4);
  // No self-metrics (the exporter's registry is empty until a connection is refused): the empty
  // final block ends the stream, without a second deflate and thread-pool round trip per scrape.
  const end = tail.length === 0 ? EMPTY_FINAL_BLOCK : await deflateRaw(tail, { level: GZIP_LEVEL });
  return [GZIP_HEADER, deflated.bytes, end, trailer];
}

/** A whole answer in one write: `text` with its length, plain text unless `type` says otherwise. */
export function sendText(
  res: http.ServerResponse,
  status: number,
  text: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * The HTTP surface every vigil service shares: /metrics, /-/healthy, /-/ready, answered by
 * node:http directly. Express is loaded only for services with routes of their own (the bridge):
 * it costs about 15 MiB of memory, a quarter of the exporter's budget.
 */
export async function startServiceServer(options: ServiceServerOptions): Promise<ServiceServer> {
  const log = componentLogger(options.service);
  const address = parseListen(options.listen);
  const serveMetrics = metricsEndpoint(options, log);
  const app = options.routes ? await routesApp(options.routes, log) : undefined;

  const handler: http.RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const isRead = req.method === 'GET' || req.method === 'HEAD';
    if (isRead && path === '/metrics') {
      void serveMetrics(req, res);
    } else if (isRead && path === '/-/healthy') {
      sendText(res, 200, 'OK\n');
    } else if (isRead && path === '/-/ready') {
      const ready = options.isReady ? options.isReady() : true;
      sendText(res, ready ? 200 : 503, ready ? 'OK\n' : 'not ready\n');
    } else if (options.direct?.(req, res)) {
      return;
    } else if (app) {
      app(req, res);
    } else {
      sendText(res, 404, 'not found\n');
    }
  };

  const limits = { ...DEFAULT_LIMITS, maxConnections: defaultMaxConnections(), ...options.limits };
  const serverOptions: http.ServerOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
  };
  const server = options.tls
    ? https.createServer({ ...serverOptions, ...options.tls }, handler)
    : http.createServer(serverOptions, handler);
  server.maxConnections = limits.maxConnections;
  watchConnections(server, options.registry, log, limits.maxConnections);
  await listen(server, address, options.service);
  const port = (server.address() as AddressInfo).port;
  log.info({ listen: formatListen({ host: address.host, port }) }, `${options.service} listening`);

  return {
    url: baseUrl(address.host, port, Boolean(options.tls)),
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** /metrics: the service's own text (if any), then its self-metrics, in the format the scraper asked for. */
function metricsEndpoint(
  options: ServiceServerOptions,
  log: Logger,
): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  return async (req, res) => {
    const format = negotiateFormat(req.headers.accept);
    try {
      const rendered = options.metrics ? await options.metrics(format) : '';
      // Both parts are complete documents; OpenMetrics allows a single `# EOF`, at the end.
      const own =
        typeof rendered === 'string'
          ? new ExpositionBody(expositionBytes(rendered.replace(/# EOF\n$/, '')))
          : rendered;
      // A shared body is not written over while this response sends it.
      res.once('close', own.read());
      const self = expositionBytes(formatFamilies(await registryFamilies(options.registry), format));
      // Compressed when asked, as node_exporter does (see ExpositionBody.deflated for where).
      const compressed = acceptsGzip(req.headers['accept-encoding']);
      const parts = compressed ? await gzipParts(own, self) : [own.bytes, self];
      res.writeHead(200, {
        'Content-Type': CONTENT_TYPES[format],
        'Content-Length': parts.reduce((sum, part) => sum + part.length, 0),
        Vary: 'Accept-Encoding',
        ...(compressed ? { 'Content-Encoding': 'gzip' } : {}),
      });
      if (req.method !== 'HEAD') for (const part of parts) res.write(part);
      res.end();
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'rendering /metrics failed');
      sendText(res, 500, `error rendering metrics: ${errorMessage(err)}\n`);
    }
  };
}

/** The service's own routes on Express, with one-line 404s and errors. */
async function routesApp(routes: (app: Express) => void, log: Logger): Promise<Express> {
  const { default: express } = await import('express');
  const app = express();
  app.disable('x-powered-by');
  routes(app);
  app.use((_req: Request, res: Response) => sendText(res, 404, 'not found\n'));
  app.use(oneLineErrors(log));
  return app;
}

/** Listens, or fails with one line saying where (a port in use says so). */
function listen(server: http.Server, address: ListenAddress, service: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = formatListen(address);
      reject(
        new UserError(
          err.code === 'EADDRINUSE'
            ? `${service}: cannot listen on ${where}: address already in use`
            : `${service}: cannot listen on ${where}: ${err.message}`,
        ),
      );
    };
    server.once('error', onError);
    server.listen(address.port, address.host || undefined, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** The URL this server answers on; a wildcard address is reached through loopback. */
function baseUrl(listenHost: string, port: number, tls: boolean): string {
  const host =
    listenHost === '' || listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost;
  return `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** 80% of the soft limit on open files (Linux), leaving the rest for the spool, peers and logs. */
function defaultMaxConnections(): number {
  try {
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const soft = /^Max open files\s+(\d+)/m.exec(limits)?.[1];
    if (soft !== undefined) return Math.max(64, Math.floor(Number(soft) * 0.8));
  } catch {
    // Not Linux: fall through to a bound that fits the usual limits elsewhere.
  }
  return 4096;
}

/**
 * Counts and logs connections refused at the cap and requests cut by a timeout or unreadable
 * framing, and answers those with one line. Logged at most once a minute, with the count since.
 */
function watchConnections(server: http.Server, registry: Registry, log: Logger, cap: number): void {
  const name = 'vigil_http_connections_refused_total';
  // Servers sharing a registry (tests, `vigil all` wiring) share the counter.
  const refused =
    (registry.getSingleMetric(name) as Counter<'reason'> | undefined) ??
    new Counter({
      name,
      help: 'Connections closed without an answer, by reason: limit (too many open), timeout (headers or body too slow), bad_request (unreadable HTTP).',
      labelNames: ['reason'],
      registers: [registry],
    });
  let lastLog = 0;
  let unlogged = 0;
  const note = (reason: string): void => {
    refused.inc({ reason });
    unlogged++;
    const now = Date.now();
    if (now - lastLog < 60_000) return;
    log.warn({ reason, count: unlogged, max_connections: cap }, 'connections refused or cut');
    lastLog = now;
    unlogged = 0;
  };
  server.on('drop', () => note('limit'));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    note(timeout ? 'timeout' : 'bad_request');
    if (socket.writable && !(socket as Socket).bytesWritten) {
      socket.end(
        timeout
          ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 16\r\n\r\nrequest timeout\n'
          : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 12\r\n\r\nbad request\n',
      );
    }
    socket.destroy();
  });
}

/**
 * The last Express handler: any error (a malformed percent-encoding in a path, a handler that
 * threw) becomes one plain-text line for the client and one JSON log line, never a stack trace.
 */
function oneLineErrors(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const status = (err as { status?: unknown }).status;
    const clientError = typeof status === 'number' && status >= 400 && status < 500;
    if (clientError) {
      sendText(
        res,
        status,
        err instanceof URIError
          ? 'bad request: malformed percent-encoding in the path\n'
          : `bad request: ${errorMessage(err)}\n`,
      );
      return;
    }
    log.error({ method: req.method, path: req.path, err: errorMessage(err) }, 'request failed');
    if (res.headersSent) res.destroy();
    else sendText(res, 500, 'internal error\n');
  };
}
