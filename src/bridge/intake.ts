import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../common/errors';
import { sendText } from '../common/http-server';
import type { Logger } from '../common/logger';
import type { AcceptResult } from './dispatcher';
import type { BridgeMetrics } from './metrics';
import { parseNotificationText, type Notification } from './payload';

/**
 * POST /webhook and /webhook/<route>: Alertmanager's webhook. 200 only once the notification is in
 * the spool; 503 when it cannot be stored (Alertmanager retries 5xx); 4xx with a one-line reason for
 * what retrying cannot fix (Alertmanager drops those for good, so they are logged and counted).
 *
 * Answered by node:http directly, not Express: under Express each request's objects outlive the
 * young-generation GCs of the event loop that acknowledges webhooks (about 3 MB copied and as much
 * promoted per GC at 200 requests a second, 5-30 ms pauses; 4 KB without it).
 */

export interface IntakeAuth {
  bearer_token?: string;
  basic_auth?: { username: string; password: string };
}

export interface IntakeOptions {
  maxBodyBytes: number;
  auth: IntakeAuth;
  /** Route name -> channel names ([] = every channel). */
  routes: Record<string, string[]>;
  allChannels: string[];
  accept(route: string, notification: Notification, channels: string[]): Promise<AcceptResult>;
  /** Takes the Watchdog alerts out; undefined when nothing is left to deliver. */
  observe?(notification: Notification): Notification | undefined;
  metrics: BridgeMetrics;
  log: Logger;
}

/** A request handler that answers the webhook's paths and returns false for every other one. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** /webhook, /webhook/<route>, with one trailing slash or none, the path's case ignored as Express did. */
const WEBHOOK_PATH = /^\/webhook(?:\/([^/]+))?\/?$/i;

export function webhookHandler(options: IntakeOptions): RequestHandler {
  const checkAuth = authChecker(options.auth);
  return (req, res) => {
    const match = WEBHOOK_PATH.exec((req.url ?? '/').split('?')[0]);
    if (match === null) return false;
    const started = performance.now();
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      sendText(res, 405, 'method not allowed: POST the webhook\n');
      return true;
    }
    const reject = rejecter(options, res);
    if (!checkAuth(req.headers.authorization)) {
      res.setHeader(
        'WWW-Authenticate',
        options.auth.basic_auth ? 'Basic realm="vigil"' : 'Bearer realm="vigil"',
      );
      reject(401, 'unauthorized: missing or wrong credentials', 'unauthorized');
      return true;
    }
    let route: string;
    try {
      route = match[1] === undefined ? 'default' : decodeURIComponent(match[1]);
    } catch {
      reject(400, 'bad request: the route in the path is not valid percent-encoding', 'bad_payload');
      return true;
    }
    // Own keys only: `route in` would let /webhook/toString or /webhook/__proto__ reach the prototype.
    if (!Object.hasOwn(options.routes, route) && route !== 'default') {
      reject(404, `unknown route "${route.slice(0, 100)}"`, 'unknown_route');
      return true;
    }
    readBody(req, options.maxBodyBytes, (outcome) => {
      if (outcome === 'aborted') {
        // The sender went away: nobody is left to answer, and the payload was never bad.
        options.metrics.rejected.inc({ reason: 'aborted' });
        res.destroy();
      } else if (outcome === 'too_large') {
        reject(
          413,
          `payload too large: limit is ${options.maxBodyBytes} bytes (bridge.max_body_bytes)`,
          'too_large',
        );
      } else if (outcome.encoding !== undefined) {
        reject(
          415,
          `unsupported content encoding "${outcome.encoding.slice(0, 40)}": send the payload uncompressed`,
          'bad_payload',
        );
      } else {
        void handleNotification(options, reject, res, route, outcome.text, started);
      }
    });
    return true;
  };
}

type Reject = (status: number, reason: string, label: string, detail?: Record<string, unknown>) => void;

/** Every refusal is answered with one line, logged and counted under its reason. */
function rejecter({ metrics, log }: IntakeOptions, res: ServerResponse): Reject {
  return (status, reason, label, detail = {}) => {
    metrics.rejected.inc({ reason: label });
    log.warn({ status, reason, ...detail }, 'webhook rejected');
    sendText(res, status, `${reason}\n`);
  };
}

type BodyOutcome = { text: string; encoding?: string } | 'aborted' | 'too_large';

/**
 * The body as UTF-8 text, at most `limit` bytes: a larger one (by its Content-Length or as it
 * arrives) is refused without keeping it. A compressed body is reported by its encoding.
 */
function readBody(req: IncomingMessage, limit: number, done: (outcome: BodyOutcome) => void): void {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    done('too_large');
    return;
  }
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const chunks: Buffer[] = [];
  let bytes = 0;
  let finished = false;
  const finish = (outcome: BodyOutcome): void => {
    if (finished) return;
    finished = true;
    done(outcome);
  };
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    // Past the limit the rest is read and dropped, the connection kept: closing it under a sender
    // still writing would lose that sender the answer (EPIPE).
    if (bytes > limit) finish('too_large');
    else if (!finished) chunks.push(chunk);
  });
  req.on('end', () =>
    finish({
      text: Buffer.concat(chunks, bytes).toString('utf8'),
      encoding: encoding === 'identity' ? undefined : encoding,
    }),
  );
  req.on('aborted', () => finish('aborted'));
  req.on('error', () => finish('aborted'));
}

/** Parses the body, takes out the Watchdog, and answers 200 once the spool holds the rest. */
async function handleNotification(
  options: IntakeOptions,
  reject: Reject,
  res: ServerResponse,
  route: string,
  text: string,
  started: number,
): Promise<void> {
  const parsed = parseNotificationText(text);
  if (!parsed.ok) {
    reject(400, parsed.reason, 'bad_payload', { route });
    return;
  }
  const notification = options.observe ? options.observe(parsed.notification) : parsed.notification;
  if (notification === undefined) {
    sendText(res, 200, JSON.stringify({ status: 'watchdog' }), 'application/json; charset=utf-8');
    return;
  }
  const channels = Object.hasOwn(options.routes, route) ? options.routes[route] : [];
  try {
    const result = await options.accept(
      route,
      notification,
      channels.length > 0 ? channels : options.allChannels,
    );
    options.metrics.ackDuration.observe((performance.now() - started) / 1000);
    sendText(res, 200, JSON.stringify(result), 'application/json; charset=utf-8');
  } catch (err) {
    reject(503, `cannot store the notification: ${errorMessage(err)}`, 'spool_error', { route });
  }
}

/** Constant-time comparison of the Authorization header with what is configured. */
function authChecker(auth: IntakeAuth): (header: string | undefined) => boolean {
  const expected: string[] = [];
  if (auth.bearer_token !== undefined) expected.push(`bearer ${auth.bearer_token}`);
  if (auth.basic_auth !== undefined) {
    const { username, password } = auth.basic_auth;
    expected.push(`basic ${Buffer.from(`${username}:${password}`).toString('base64')}`);
  }
  if (expected.length === 0) return () => true;
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  const wanted = expected.map(digest);
  return (header) => {
    if (header === undefined) return false;
    // The scheme is case-insensitive (RFC 7235): `bearer x` is `Bearer x`.
    const [, scheme = '', credentials = ''] = /^\s*(\S+)\s+(.*?)\s*$/.exec(header) ?? [];
    const got = digest(`${scheme.toLowerCase()} ${credentials}`);
    let ok = false;
    for (const w of wanted) ok = timingSafeEqual(got, w) || ok;
    return ok;
  };
}
