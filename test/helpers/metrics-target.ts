import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsTarget {
  /** host:port, as Prometheus labels it `instance`. */
  address: string;
  stop(): Promise<void>;
}

/** A scrape target over real HTTP whose `/metrics` is whatever `render()` returns at the time. */
export async function startMetricsTarget(render: () => string): Promise<MetricsTarget> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(render());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
