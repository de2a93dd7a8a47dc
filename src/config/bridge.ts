import { z } from 'zod';
import {
  duration,
  listenAddress,
  port,
  prometheusConnectionSchema,
  readableFile,
  tlsClientSchema,
} from './types';

const timeZone = z.string().superRefine((value, ctx) => {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: value });
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `unknown time zone ${JSON.stringify(value)} (expected e.g. Europe/Berlin)`,
    });
  }
});

const name = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, _ . or -');

/** User templates (Handlebars); unset parts use the built-in ones. */
const templatesSchema = z
  .object({
    subject: z.string().optional(),
    html_file: readableFile().optional(),
    text_file: readableFile().optional(),
  })
  .strict();

export const emailChannelSchema = z
  .object({
    name,
    type: z.literal('email'),
    from: z.string().min(3),
    to: z.array(z.string().min(3)).min(1, 'expected at least one recipient'),
    cc: z.array(z.string().min(3)).default([]),
    smtp: z
      .object({
        host: z.string().default('localhost'),
        port: port().default(587),
        /** Implicit TLS (port 465). Otherwise STARTTLS is used when the server offers it. */
        secure: z.boolean().default(false),
        /** Refuse to send unless STARTTLS succeeds. */
        require_tls: z.boolean().default(false),
        username: z.string().optional(),
        password: z.string().optional(),
        /** Name sent in EHLO; default: the host name. */
        hello: z.string().optional(),
        timeout: duration().default(30_000),
        tls: tlsClientSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    /** Attach the plotted data of each graph as CSV. */
    attach_csv: z.boolean().default(true),
    /** Time zone of this channel's recipients; default: bridge.timezone. */
    timezone: timeZone.optional(),
    templates: templatesSchema.prefault({}),
  })
  .strict();

export type EmailChannelConfig = z.infer<typeof emailChannelSchema>;

/** One entry per channel type; the channels issue adds slack, teams, twilio, webhook, zabbix, nagios. */
export const channelSchema = z.discriminatedUnion('type', [emailChannelSchema]);
export type ChannelConfig = z.infer<typeof channelSchema>;

/** The `bridge:` section. */
export const bridgeSchema = z
  .object({
    listen: listenAddress().default(':9112'),
    /** How people and channels reach this bridge (graph links, status page); default: from listen. */
    external_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
    prometheus: prometheusConnectionSchema.prefault({}),
    /** Accepted notifications live here until every delivery is done (fsync'd, survives kill -9). */
    spool_dir: z.string().min(1).default('./data/spool'),
    max_body_bytes: z
      .number()
      .int()
      .min(1024)
      .default(4 * 1024 * 1024),
    /** What Alertmanager's webhook http_config sends: a bearer token or basic auth. */
    auth: z
      .object({
        bearer_token: z.string().optional(),
        basic_auth: z
          .object({ username: z.string(), password: z.string().default('') })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    /** Serve HTTPS with these files. */
    tls: z.object({ cert_file: readableFile(), key_file: readableFile() }).strict().optional(),
    /** Time zone of graphs and times in messages. */
    timezone: timeZone.default('UTC'),
    /** POST /webhook uses `default`, POST /webhook/<route> uses <route>; [] means every channel. */
    routes: z.record(name, z.array(name)).default({ default: [] }),
    channels: z.array(channelSchema).default([]),
    retry: z
      .object({
        initial_backoff: duration().default(1_000),
        max_backoff: duration().default(300_000),
        /** A delivery still failing this long after the notification arrived is dead-lettered. */
        max_age: duration().default(86_400_000),
        /** Deliveries in flight at once. */
        concurrency: z.number().int().min(1).max(256).default(8),
      })
      .strict()
      .prefault({}),
    /** The same notification (HA peers, retries) arriving again within this window is delivered once. */
    dedup_window: duration().default(900_000),
    graph: z
      .object({
        /** Shown before the alert started. */
        lookback: duration().default(3_600_000),
        /** Longest range graphed (the latest part of a long-firing alert). */
        max_range: duration().default(86_400_000),
        /** Points per series asked from Prometheus (sets the step). */
        points: z.number().int().min(10).max(11_000).default(360),
        width: z.number().int().min(300).max(4000).default(800),
        max_series: z.number().int().min(1).max(50).default(8),
        /** Graphs per notification; alerts past it are listed without one. */
        max_graphs: z.number().int().min(0).max(100).default(10),
        /** Graphs rendered at once (CPU work; the rest of delivery is I/O and runs retry.concurrency wide). */
        render_concurrency: z.number().int().min(1).max(64).default(2),
        /**
         * Longest query a payload may make the bridge run (its `query` annotation or generatorURL
         * expression), in bytes: a longer one is not sent and the message says so.
         */
        max_query_bytes: z.number().int().min(64).max(1_048_576).default(4096),
        /** How long /graph/<id>.png links stay valid. */
        ttl: duration().default(7 * 86_400_000),
      })
      .strict()
      .prefault({}),
    /** Dead man's switch: expect the always-firing alert every so often, notify when it stops. */
    watchdog: z
      .object({
        enabled: z.boolean().default(false),
        alertname: z.string().default('Watchdog'),
        timeout: duration().default(600_000),
        /** Channels to notify; [] means the default route's. */
        channels: z.array(name).default([]),
      })
      .strict()
      .prefault({}),
    /** Notifications kept on the status page. */
    history: z.number().int().min(0).max(10_000).default(200),
  })
  .strict()
  .superRefine((bridge, ctx) => {
    const names = new Set<string>();
    bridge.channels.forEach((channel, i) => {
      if (names.has(channel.name))
        ctx.addIssue({
          code: 'custom',
          path: ['channels', i, 'name'],
          message: `duplicate channel "${channel.name}"`,
        });
      names.add(channel.name);
    });
    for (const [route, targets] of Object.entries(bridge.routes)) {
      targets.forEach((target, i) => {
        if (!names.has(target))
          ctx.addIssue({
            code: 'custom',
            path: ['routes', route, i],
            message: `unknown channel "${target}"`,
          });
      });
    }
    bridge.watchdog.channels.forEach((target, i) => {
      if (!names.has(target))
        ctx.addIssue({
          code: 'custom',
          path: ['watchdog', 'channels', i],
          message: `unknown channel "${target}"`,
        });
    });
  });

export type BridgeConfig = z.infer<typeof bridgeSchema>;
