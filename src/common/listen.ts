import { UserError } from './errors';

export interface ListenAddress {
  /** Empty for every interface. */
  host: string;
  port: number;
}

/** `HOST:PORT`, `:PORT` or `[v6]:PORT`, as Prometheus' `--web.listen-address`. */
export function parseListen(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new UserError(`invalid listen address "${text}": expected HOST:PORT or :PORT`);
  }
  return { host: match[1] ?? match[2] ?? '', port };
}

export function formatListen({ host, port }: ListenAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
