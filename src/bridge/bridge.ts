import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import { errorMessage, UserError } from '../common/errors';
import { readUserFile } from '../common/files';
import { startServiceServer, type ServiceServer } from '../common/http-server';
import { parseListen } from '../common/listen';
import { componentLogger, type Logger } from '../common/logger';
import type { RunningService } from '../common/service';
import { threadsBesideEventLoop } from '../common/threads';
import { splitUserinfo } from '../common/url';
import type { BridgeConfig } from '../config/bridge';
import type { Channel } from './channels/channel';
import { createChannel, parseChannels, type OffThreadNotifier } from './channels';
import { DeliveryPool } from './delivery-pool';
import { Dispatcher } from './dispatcher';
import { Enricher } from './enrich';
import { EvidencePool } from './evidence-pool';
import { GraphStore } from './graphs';
import { webhookHandler, type IntakeOptions } from './intake';
import { BridgeMetrics } from './metrics';
import { Spool, type SpoolContents } from './spool';
import { renderStatusPage } from './status-page';
import { Watchdog } from './watchdog';

const GRAPH_ID = /^([A-Za-z0-9_-]{22})\.png$/;

/**
 * Threads making the attempts of off-thread channels (e-mail): one fewer than the CPUs, at most two.
 * On two cores a second one sent no more mails per second in a storm, and held about 60 MiB more
 * at its peak (198-201 against 259-263 MiB with Prometheus down).
 */
const DELIVERY_THREADS = threadsBesideEventLoop(2);

/** Set once started; the HTTP routes, registered before, look them up here. */
interface Started {
  dispatcher?: Dispatcher;
  watchdog?: Watchdog;
}

/** Starts `vigil bridge`: webhook intake, spool, dispatcher, status page, graphs, watchdog. */
export async function startBridge(config: BridgeConfig): Promise<RunningService> {
  const log = componentLogger('bridge');
  const channelConfigs = parseChannels(config.channels);
  const metrics = new BridgeMetrics();
  metrics.setGraphCircuit('closed');
  const { spool, contents } = await openSpool(config, metrics, log);
  const tls = serverTls(config);
  const graphs = new GraphStore(path.join(config.spool_dir, 'graphs'), config.graph.ttl);
  const evidencePool = new EvidencePool(
    config.prometheus,
    config.graph.render_concurrency,
    config.retry.concurrency,
  );
  const deliveryPool = new DeliveryPool(DELIVERY_THREADS, config.retry.concurrency);
  const enricher = newEnricher(config, evidencePool, graphs, metrics);
  const started: Started = {};
  const routes = { default: [], ...config.routes };
  const allChannels = config.channels.map((c) => c.name);
  const routeDeps: RouteDeps = { config, routes, allChannels, started, graphs, metrics, log };

  const server = await startServiceServer({
    service: 'bridge',
    listen: config.listen,
    registry: metrics.registry,
    tls,
    isReady: () => started.dispatcher !== undefined,
    direct: webhookHandler(intakeOptions(routeDeps)),
    routes: (app) => registerRoutes(app, routeDeps),
  });
  // Channels link to graphs on this bridge: they need its URL, known once the server listens.
  const bridgeUrl = config.external_url ?? defaultExternalUrl(config.listen, server.url, Boolean(tls));
  const channels = await createChannels(channelConfigs, config.timezone, bridgeUrl, server, (c, context) =>
    deliveryPool.notifier(c, context),
  );
  warnIfOpen(config, log);
  if (channels.size === 0) log.warn('no channels configured: notifications are accepted but go nowhere');

  const dispatcher = newDispatcher(config, spool, channels, enricher, metrics, log);
  dispatcher.load(contents);
  started.dispatcher = dispatcher;
  const pruner = setInterval(() => {
    dispatcher.prune().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'spool pruning failed'));
    graphs.prune().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'graph pruning failed'));
  }, 60_000);
  pruner.unref();
  if (config.watchdog.enabled) {
    started.watchdog = startWatchdog(config, routes.default, allChannels, dispatcher, metrics, log);
  }
  log.info(
    {
      channels: allChannels,
      spool: config.spool_dir,
      prometheus: splitUserinfo(config.prometheus.url).url,
      pending: contents.pending.length,
    },
    'bridge ready',
  );

  return {
    name: 'bridge',
    url: server.url,
    async close() {
      clearInterval(pruner);
      started.watchdog?.stop();
      await server.close();
      await dispatcher.stop();
      await Promise.all([...channels.values()].map((c) => c.close()));
      await Promise.all([evidencePool.close(), deliveryPool.close()]);
      await spool.close();
    },
  };
}

/**
 * What `--check-config` adds to the schema: everything the start checks before it serves, without
 * listening, writing or sending anything.
 */
export async function checkBridge(config: BridgeConfig): Promise<void> {
  await checkSpoolDir(config.spool_dir);
  serverTls(config);
  const channels = buildChannels(
    parseChannels(config.channels),
    config.timezone,
    config.external_url ?? 'http://localhost',
  );
  await Promise.all([...channels.values()].map((c) => c.close()));
}

/** Each configured channel, made once: templates compiled, settings checked. */
function buildChannels(
  configs: ReturnType<typeof parseChannels>,
  timeZone: string,
  bridgeUrl: string,
  offThread?: OffThreadNotifier,
): Map<string, Channel> {
  const channels = new Map<string, Channel>();
  configs.forEach((c, i) =>
    channels.set(
      c.name,
      createChannel(c, { timeZone, bridgeUrl, where: `bridge.channels[${i}]` }, offThread),
    ),
  );
  return channels;
}

/** The spool directory exists and is writable, or its nearest existing parent is (it is created). */
async function checkSpoolDir(dir: string): Promise<void> {
  let at = path.resolve(dir);
  for (;;) {
    try {
      const stat = await fs.stat(at);
      if (!stat.isDirectory())
        throw new UserError(`bridge.spool_dir: cannot use ${dir}: ${at} is not a directory`);
      await fs.access(at, fsConstants.W_OK);
      return;
    } catch (err) {
      if (err instanceof UserError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || path.dirname(at) === at) {
        throw new UserError(
          `bridge.spool_dir: cannot use ${dir}: ${at}: ${code === 'EACCES' ? 'not writable' : errorMessage(err)}`,
        );
      }
      at = path.dirname(at);
    }
  }
}

/** The spool and what a previous run left in it; unreadable files were moved aside. */
async function openSpool(
  config: BridgeConfig,
  metrics: BridgeMetrics,
  log: Logger,
): Promise<{ spool: Spool; contents: SpoolContents }> {
  const opened = await Spool.open(config.spool_dir, {
    // Once per notification: a commit that stalled holds every acknowledgement of its group.
    onStored: (seconds) => metrics.spoolCommitDuration.observe(seconds),
  }).catch((err: unknown) => {
    throw new UserError(`bridge.spool_dir: cannot use ${config.spool_dir}: ${errorMessage(err)}`);
  });
  for (const { file, reason } of opened.contents.corrupt) {
    log.warn({ file, reason }, 'spool file moved to corrupt/');
  }
  return opened;
}

function serverTls(config: BridgeConfig): { cert: string; key: string } | undefined {
  if (!config.tls) return undefined;
  return {
    cert: readUserFile(config.tls.cert_file, 'bridge.tls.cert_file'),
    key: readUserFile(config.tls.key_file, 'bridge.tls.key_file'),
  };
}

function newEnricher(
  config: BridgeConfig,
  evidencePool: EvidencePool,
  graphs: GraphStore,
  metrics: BridgeMetrics,
): Enricher {
  const { graph } = config;
  return new Enricher(
    evidencePool,
    graphs,
    {
      lookbackMs: graph.lookback,
      maxRangeMs: graph.max_range,
      points: graph.points,
      width: graph.width,
      maxSeries: graph.max_series,
      maxGraphs: graph.max_graphs,
      timeZone: config.timezone,
      maxQueryBytes: graph.max_query_bytes,
      circuitBreaker: {
        failures: graph.circuit_breaker.failures,
        coolDownMs: graph.circuit_breaker.cool_down,
      },
      maxListedAlerts: config.message.max_alerts,
      maxMessageBytes: config.message.max_bytes,
    },
    {
      onRender: (seconds) => metrics.renderDuration.observe(seconds),
      onGraphError: () => metrics.graphErrors.inc(),
      onQueryRefused: (reason) => metrics.queriesRefused.inc({ reason }),
      onGraphSkipped: () => metrics.graphsSkipped.inc(),
      onCircuitChange: (state) => metrics.setGraphCircuit(state),
    },
  );
}

interface RouteDeps {
  config: BridgeConfig;
  routes: Record<string, string[]>;
  allChannels: string[];
  started: Started;
  graphs: GraphStore;
  metrics: BridgeMetrics;
  log: Logger;
}

/** The webhook intake's settings and what it hands notifications to. */
function intakeOptions(deps: RouteDeps): IntakeOptions {
  const { config, started } = deps;
  return {
    maxBodyBytes: config.max_body_bytes,
    auth: config.auth,
    routes: deps.routes,
    allChannels: deps.allChannels,
    accept: (route, notification, names) => {
      if (started.dispatcher === undefined) throw new Error('bridge is starting');
      return started.dispatcher.accept(route, notification, names);
    },
    observe: config.watchdog.enabled ? (n) => started.watchdog?.observe(n) : undefined,
    metrics: deps.metrics,
    log: deps.log,
  };
}

/** The status page and the graphs channels link to. */
function registerRoutes(app: Express, deps: RouteDeps): void {
  const { config, started, graphs } = deps;
  app.get('/', (_req, res) => {
    res.type('html').send(
      renderStatusPage(started.dispatcher?.recent() ?? [], {
        timeZone: config.timezone,
        now: Date.now(),
        limit: config.history,
        deadLetters: started.dispatcher?.deadLetters() ?? 0,
        watchdog: started.watchdog?.describe(config.timezone),
      }),
    );
  });
  app.get('/graph/:file', async (req, res) => {
    const id = GRAPH_ID.exec(req.params.file)?.[1];
    const png = id === undefined ? undefined : await graphs.get(id);
    if (png === undefined) {
      res.status(404).type('text/plain').send('graph not found or expired\n');
      return;
    }
    res.set('Cache-Control', 'private, max-age=3600').type('png').send(png);
  });
}

/** The configured channels by name; a channel that cannot start closes the server again. */
async function createChannels(
  configs: ReturnType<typeof parseChannels>,
  timeZone: string,
  bridgeUrl: string,
  server: ServiceServer,
  offThread: OffThreadNotifier,
): Promise<Map<string, Channel>> {
  try {
    return buildChannels(configs, timeZone, bridgeUrl, offThread);
  } catch (err) {
    await server.close();
    throw err;
  }
}

function newDispatcher(
  config: BridgeConfig,
  spool: Spool,
  channels: ReadonlyMap<string, Channel>,
  enricher: Enricher,
  metrics: BridgeMetrics,
  log: Logger,
): Dispatcher {
  const { retry } = config;
  return new Dispatcher(
    spool,
    channels,
    enricher,
    {
      retry: {
        initialBackoffMs: retry.initial_backoff,
        maxBackoffMs: retry.max_backoff,
        maxAgeMs: retry.max_age,
        concurrency: retry.concurrency,
      },
      dedupWindowMs: config.dedup_window,
      history: config.history,
    },
    metrics,
    log,
  );
}

/** The dead man's switch: its notification goes to watchdog.channels, else the default route, else all. */
function startWatchdog(
  config: BridgeConfig,
  defaultRoute: string[],
  allChannels: string[],
  dispatcher: Dispatcher,
  metrics: BridgeMetrics,
  log: Logger,
): Watchdog {
  const targets = config.watchdog.channels.length > 0 ? config.watchdog.channels : defaultRoute;
  const watchdog = new Watchdog(
    { alertname: config.watchdog.alertname, timeoutMs: config.watchdog.timeout },
    (n) => dispatcher.accept('watchdog', n, targets.length > 0 ? targets : allChannels),
    metrics,
    log,
  );
  watchdog.start();
  return watchdog;
}

/** A webhook anyone can reach makes Prometheus run what they send: say so when there is no auth. */
function warnIfOpen(config: BridgeConfig, log: Logger): void {
  const { bearer_token, basic_auth } = config.auth;
  if (bearer_token !== undefined || basic_auth !== undefined || isLoopback(parseListen(config.listen).host))
    return;
  log.warn(
    { listen: config.listen },
    'the webhook has no authentication and listens beyond loopback: set bridge.auth (see the security section of the README)',
  );
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** With no external_url: this host's name and the port listened on. */
function defaultExternalUrl(listen: string, serverUrl: string, tls: boolean): string {
  const { host } = parseListen(listen);
  if (host !== '' && host !== '0.0.0.0' && host !== '::') return serverUrl;
  return `${tls ? 'https' : 'http'}://${os.hostname()}:${new URL(serverUrl).port}`;
}
