import http from 'node:http';
import https from 'node:https';
import axios, { isAxiosError, type AxiosInstance, type AxiosProxyConfig } from 'axios';
import { tlsConnectOptions } from '../../common/tls';
import type { HttpClientSettings } from '../../config/types';
import { DeliveryError } from './channel';

/**
 * The one HTTP delivery path of every HTTP channel, with one status policy (Alertmanager's):
 * 2xx delivered; 429, 5xx, timeouts and network errors retried, no sooner than the peer's
 * Retry-After; every other answer permanent. Errors name the peer and its host (never the path:
 * webhook URLs carry secrets) and quote the start of its answer.
 */

export interface HttpRequest {
  url: string;
  method?: 'POST' | 'PUT';
  body: string | Buffer | URLSearchParams;
  headers?: Record<string, string>;
  auth?: { username: string; password: string };
  /** Shutdown: abandons the attempt (it is retried after the restart). */
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Answers are read up to this size: enough for any API's reply, never a memory hazard. */
const MAX_ANSWER_BYTES = 1024 * 1024;
const EXCERPT_CHARS = 200;

export class HttpDelivery {
  private readonly http: AxiosInstance;
  private readonly agents: Array<http.Agent | https.Agent>;

  constructor(
    private readonly settings: HttpClientSettings,
    /** Who the peer is in errors: "Slack", "Teams", "webhook". */
    private readonly peer: string,
  ) {
    const httpAgent = new http.Agent({ keepAlive: true });
    const httpsAgent = new https.Agent({ keepAlive: true, ...tlsConnectOptions(settings.tls) });
    this.agents = [httpAgent, httpsAgent];
    this.http = axios.create({
      httpAgent,
      httpsAgent,
      proxy: settings.proxy_url === undefined ? false : proxyConfig(settings.proxy_url),
      maxRedirects: 0,
      maxContentLength: MAX_ANSWER_BYTES,
      responseType: 'text',
      transformResponse: (data: unknown) => data,
      validateStatus: () => true,
    });
  }

  /** Sends the request; resolves with a 2xx answer, throws DeliveryError for anything else. */
  async send(request: HttpRequest): Promise<HttpAnswer> {
    const host = hostOf(request.url);
    const timeout = AbortSignal.timeout(this.settings.timeout);
    const signal = request.signal === undefined ? timeout : AbortSignal.any([request.signal, timeout]);
    let response;
    try {
      response = await this.http.request<string>({
        url: request.url,
        method: request.method ?? 'POST',
        data: request.body,
        headers: request.headers,
        auth: request.auth,
        signal,
      });
    } catch (err) {
      if (timeout.aborted)
        throw new DeliveryError(`${this.peer} (${host}): no answer within ${this.settings.timeout} ms`);
      if (request.signal?.aborted) throw new DeliveryError(`${this.peer} (${host}): aborted by shutdown`);
      const reason = isAxiosError(err) ? (err.code ?? err.message) : String(err);
      throw new DeliveryError(`${this.peer} (${host}): ${reason}`);
    }
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(response.headers)) {
      if (typeof value === 'string') headers[key.toLowerCase()] = value;
    }
    const answer: HttpAnswer = { status: response.status, headers, body: String(response.data ?? '') };
    if (answer.status >= 200 && answer.status < 300) return answer;
    const what = `${this.peer} (${host}): HTTP ${answer.status}${excerpt(answer.body)}`;
    if (answer.status === 429 || answer.status >= 500) {
      throw new DeliveryError(what, false, retryAfterMs(headers['retry-after']));
    }
    throw new DeliveryError(what, true);
  }

  close(): void {
    for (const agent of this.agents) agent.destroy();
  }
}

/** `: <the start of the answer>` on one line, or nothing for an empty answer. */
export function excerpt(body: string): string {
  const line = body.replace(/\s+/g, ' ').trim();
  if (line === '') return '';
  return `: ${line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS)}…` : line}`;
}

/** Retry-After in seconds or as an HTTP date, in ms from now; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid URL';
  }
}

function proxyConfig(url: string): AxiosProxyConfig {
  const proxy = new URL(url);
  return {
    protocol: proxy.protocol.replace(/:$/, ''),
    host: proxy.hostname,
    port: Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80)),
    auth:
      proxy.username === ''
        ? undefined
        : { username: decodeURIComponent(proxy.username), password: decodeURIComponent(proxy.password) },
  };
}
