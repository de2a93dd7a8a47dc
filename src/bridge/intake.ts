import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { errorMessage } from '../common/errors';
import type { Logger } from '../common/logger';
import type { AcceptResult } from './dispatcher';
import type { BridgeMetrics } from './metrics';
import { parseNotificationText, type Notification } from './payload';

/**
 * POST /webhook and /webhook/<route>: Alertmanager's webhook. 200 only once the notification is in
 * the spool; 503 when it cannot be stored (Alertmanager retries 5xx); 4xx with a one-line reason for
 * what retrying cannot fix (Alertmanager drops those for good, so they are logged and counted).
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

export function registerIntake(app: Express, options: IntakeOptions): void {
  const reject = rejecter(options);
  const guard = guardRoute(options, reject);
  const body = express.text({ type: () => true, limit: options.maxBodyBytes });
  const handle = handleNotification(options, reject);
  const bodyErrors = bodyErrorHandler(options, reject);
  for (const path of ['/webhook', '/webhook/:route']) {
    app.post(path, guard, body, handle, bodyErrors);
    app.all(path, (_req, res) => {
      res.set('Allow', 'POST').status(405).type('text/plain').send('method not allowed: POST the webhook\n');
    });
  }
}

type Reject = (
  res: Response,
  status: number,
  reason: string,
  label: string,
  detail?: Record<string, unknown>,
) => void;

/** Every refusal is answered with one line, logged and counted under its reason. */
function rejecter({ metrics, log }: IntakeOptions): Reject {
  return (res, status, reason, label, detail = {}) => {
    metrics.rejected.inc({ reason: label });
    log.warn({ status, reason, ...detail }, 'webhook rejected');
    res.status(status).type('text/plain').send(`${reason}\n`);
  };
}

/** Authentication and the route, checked before the body is read. */
function guardRoute(options: IntakeOptions, reject: Reject) {
  const checkAuth = authChecker(options.auth);
  return (req: Request, res: Response, next: NextFunction): void => {
    res.locals.started = performance.now();
    if (!checkAuth(req.get('authorization'))) {
      res.set('WWW-Authenticate', options.auth.basic_auth ? 'Basic realm="vigil"' : 'Bearer realm="vigil"');
      reject(res, 401, 'unauthorized: missing or wrong credentials', 'unauthorized');
      return;
    }
    const route = typeof req.params.route === 'string' ? req.params.route : 'default';
    // Own keys only: `route in` would let /webhook/toString or /webhook/__proto__ reach the prototype.
    if (!Object.hasOwn(options.routes, route) && route !== 'default') {
      reject(res, 404, `unknown route "${route.slice(0, 100)}"`, 'unknown_route');
      return;
    }
    res.locals.route = route;
    next();
  };
}

/** Parses the body, takes out the Watchdog, and answers 200 once the spool holds the rest. */
function handleNotification(options: IntakeOptions, reject: Reject) {
  return async (req: Request, res: Response): Promise<void> => {
    const route = res.locals.route as string;
    const text = typeof req.body === 'string' ? req.body : '';
    const parsed = parseNotificationText(text);
    if (!parsed.ok) {
      reject(res, 400, parsed.reason, 'bad_payload', { route });
      return;
    }
    const notification = options.observe ? options.observe(parsed.notification) : parsed.notification;
    if (notification === undefined) {
      res.json({ status: 'watchdog' });
      return;
    }
    const channels = Object.hasOwn(options.routes, route) ? options.routes[route] : [];
    try {
      const result = await options.accept(
        route,
        notification,
        channels.length > 0 ? channels : options.allChannels,
      );
      options.metrics.ackDuration.observe((performance.now() - (res.locals.started as number)) / 1000);
      res.json(result);
    } catch (err) {
      reject(res, 503, `cannot store the notification: ${errorMessage(err)}`, 'spool_error', { route });
    }
  };
}

/** Errors of reading the body: too large, aborted by the sender, or otherwise unreadable. */
function bodyErrorHandler(options: IntakeOptions, reject: Reject) {
  return (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    const e = err as { type?: string; status?: number };
    if (e.type === 'request.aborted') {
      // The sender went away: nobody is left to answer, and the payload was never bad.
      options.metrics.rejected.inc({ reason: 'aborted' });
      res.destroy();
    } else if (e.type === 'entity.too.large') {
      reject(
        res,
        413,
        `payload too large: limit is ${options.maxBodyBytes} bytes (bridge.max_body_bytes)`,
        'too_large',
      );
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      reject(res, e.status, `bad request: ${errorMessage(err)}`, 'bad_payload');
    } else {
      next(err);
    }
  };
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
