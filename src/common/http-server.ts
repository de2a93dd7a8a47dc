import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Registry } from 'prom-client';
import { componentLogger } from './logger';
import { errorMessage, UserError } from './errors';
import { parseListen, formatListen } from './listen';
import {
  CONTENT_TYPES,
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
  /** /-/ready answers 503 until this says true. */
  isReady?: () => boolean;
  /** The service's own exposition text (e.g. the exporter's host metrics), rendered per scrape. */
  metrics?: (format: ExpositionFormat) => Promise<string>;
  tls?: TlsFiles;
}

export interface ServiceServer {
  /** Base URL with the real port, e.g. http://127.0.0.1:9110 */
  url: string;
  port: number;
  close(): Promise<void>;
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
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

  async function serveMetrics(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const format = negotiateFormat(req.headers.accept);
    try {
      const own = options.metrics ? await options.metrics(format) : '';
      const self = formatFamilies(await registryFamilies(options.registry), format);
      // Both parts are complete documents; OpenMetrics allows a single `# EOF`, at the end.
      const body = format === 'openmetrics' ? own.replace(/# EOF\n$/, '') + self : own + self;
      res.writeHead(200, {
        'Content-Type': CONTENT_TYPES[format],
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'rendering /metrics failed');
      sendText(res, 500, `error rendering metrics: ${errorMessage(err)}\n`);
    }
  }

  let app: Express | undefined;
  if (options.routes) {
    const { default: express } = await import('express');
    app = express();
    app.disable('x-powered-by');
    options.routes(app);
  }

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
    } else if (app) {
      app(req, res);
    } else {
      sendText(res, 404, 'not found\n');
    }
  };

  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  // Keep-alive sockets from Prometheus would otherwise hold close() until they time out.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = formatListen(address);
      reject(
        new UserError(
          err.code === 'EADDRINUSE'
            ? `${options.service}: cannot listen on ${where}: address already in use`
            : `${options.service}: cannot listen on ${where}: ${err.message}`,
        ),
      );
    };
    server.once('error', onError);
    server.listen(address.port, address.host || undefined, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = options.tls ? 'https' : 'http';
  const host =
    address.host === '' || address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host;
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ listen: formatListen({ host: address.host, port }) }, `${options.service} listening`);

  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
