import { z } from 'zod';
import { readUserFile } from '../common/files';
import { threadsBesideEventLoop } from '../common/threads';
import { duration, listenAddress, matcher, prometheusConnectionSchema, readableFile } from './types';

export const timeZone = z.string().superRefine((value, ctx) => {
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

/** A template part as the configuration gives it: its text (a `_file` already read) and the key it came from. */
export interface TemplateSource {
  text: string;
  key: string;
}

/**
 * User templates (Handlebars) for the parts a channel type renders: each part inline (`subject:`)
 * or from a file (`html_file:`, read here, so rendering only gets strings); unset parts use the
 * built-in ones.
 */
function templatesFor(parts: readonly string[]) {
  const shape: Record<string, z.ZodOptional<z.ZodString>> = {};
  for (const part of parts) {
    shape[part] = z.string().optional();
    shape[`${part}_file`] = readableFile().optional();
  }
  return z
    .object(shape)
    .strict()
    .superRefine((templates, ctx) => {
      for (const part of parts) {
        if (templates[part] !== undefined && templates[`${part}_file`] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [part],
            message: `set either ${part} or ${part}_file, not both`,
          });
      }
    })
    .transform((templates) => readTemplates(templates, parts))
    .prefault({});
}

/** Each part the user set, inline or read from its `<part>_file`; `where` is the key path of `templates`. */
export function readTemplates(
  templates: Readonly<Record<string, string | undefined>>,
  parts: readonly string[],
  where = 'templates',
): Record<string, TemplateSource> {
  const sources: Record<string, TemplateSource> = {};
  for (const part of parts) {
    const file = templates[`${part}_file`];
    const inline = templates[part];
    if (file !== undefined) {
      sources[part] = { text: readUserFile(file, `${where}.${part}_file`), key: `${part}_file` };
    } else if (inline !== undefined) {
      sources[part] = { text: inline, key: part };
    }
  }
  return sources;
}

export interface ChannelDefaults {
  /** The parts of the message this channel type renders from templates. */
  templates: readonly string[];
  /** Messages per second the peer takes (0: no limit) and how many may go at once. */
  rateLimit: { per_second: number; burst: number };
}

/**
 * The schema of one channel type: the keys every channel shares, then the type's own. Shared:
 * `name`; `send_resolved` (resolved alerts are sent, default true); `timezone` (of times in its
 * messages); `templates`; `matchers` (Alertmanager syntax, all must match: which alerts of a
 * notification this channel receives); `rate_limit` (a token bucket; messages queue, never drop).
 */
export function channelSchema<T extends string, S extends z.ZodRawShape>(
  type: T,
  defaults: ChannelDefaults,
  shape: S,
) {
  return z
    .object({
      name,
      type: z.literal(type),
      send_resolved: z.boolean().default(true),
      timezone: timeZone.optional(),
      templates: templatesFor(defaults.templates),
      matchers: z.array(matcher()).default([]),
      rate_limit: z
        .object({
          per_second: z.number().min(0).default(defaults.rateLimit.per_second),
          burst: z.number().int().min(1).default(defaults.rateLimit.burst),
        })
        .strict()
        .prefault({}),
      ...shape,
    })
    .strict();
}

/** What the shared base leaves to each channel: the settings all channels have. */
export type ChannelBaseConfig = z.infer<ReturnType<typeof channelSchema<string, Record<never, never>>>>;

/**
 * A channel as this section checks it: a unique name and a type. The type's own keys are checked by
 * the channel's schema in its file (src/bridge/channels/), the way each of node_exporter's
 * collectors owns its flags; `vigil bridge --check-config` runs both.
 */
const channelEntry = z.looseObject({ name, type: z.string().min(1) });

/** The `bridge:` section. */
export const bridgeSchema = z
  .object({
    listen: listenAddress().default(':9112'),
    /** How people and channels reach this bridge (graph links, status page); default: from listen. */
    external_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
    /**
     * Asked once per delivery attempt with a short timeout: the delivery's own retry is the retry,
     * and a mail is not held for seconds by a Prometheus that is down.
     */
    prometheus: prometheusConnectionSchema
      .extend({
        timeout: duration().default(5_000),
        retries: z.number().int().min(0).max(10).default(0),
      })
      .prefault({}),
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
    channels: z.array(channelEntry).default([]),
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
        /**
         * Evidence worker threads: each gathers up to retry.concurrency notifications' graphs at once
         * (queries, parsing, drawing), drawing one at a time. By default one fewer than the CPUs, at
         * most 2: on two cores a second render thread
         * gave no more mails per second in a storm, took the event loop's CPU and held 100-160 MiB
         * more at its peak.
         */
        render_concurrency: z.number().int().min(1).max(64).default(threadsBesideEventLoop(2)),
        /**
         * Longest query a payload may make the bridge run (its `query` annotation or generatorURL
         * expression), in bytes: a longer one is not sent and the message says so.
         */
        max_query_bytes: z.number().int().min(64).max(1_048_576).default(4096),
        /**
         * After `failures` unreachable answers in a row, graphs are skipped (no query sent) for
         * `cool_down`; then one probe query decides whether to ask again.
         */
        circuit_breaker: z
          .object({
            failures: z.number().int().min(1).max(1000).default(5),
            cool_down: duration().default(30_000),
          })
          .strict()
          .prefault({}),
        /** How long /graph/<id>.png links stay valid. */
        ttl: duration().default(7 * 86_400_000),
      })
      .strict()
      .prefault({}),
    /** Bounds of one message, for every channel: alerts past them are counted ("and 120 more"). */
    message: z
      .object({
        max_alerts: z.number().int().min(1).max(10_000).default(100),
        /** About how large the listed alerts (text, inline graphs, CSVs) may make one message. */
        max_bytes: z
          .number()
          .int()
          .min(16_384)
          .default(5 * 1024 * 1024),
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
