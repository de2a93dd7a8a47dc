import fs from 'node:fs';
import { z } from 'zod';
import { parseDuration } from '../common/duration';
import { errorMessage } from '../common/errors';
import { parseListen } from '../common/listen';
import type { PrometheusConnection } from '../common/prometheus-client';
import { parseMatcher, type Matcher } from '../common/matchers';

/** A duration such as `30s`, `5m`, `1h30m`, `1d` (a bare number is seconds), parsed to ms. */
export function duration() {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    try {
      return parseDuration(value);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration such as 30s, 5m, 1h, got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
  });
}

/** `HOST:PORT` or `:PORT`. */
export function listenAddress() {
  return z.string().superRefine((value, ctx) => {
    try {
      parseListen(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected HOST:PORT or :PORT, got ${JSON.stringify(value)}` });
    }
  });
}

export function port() {
  return z
    .number({ error: (issue) => `expected integer 1-65535, got ${JSON.stringify(issue.input)}` })
    .int({ error: (issue) => `expected integer 1-65535, got ${JSON.stringify(issue.input)}` })
    .min(1, { error: (issue) => `expected integer 1-65535, got ${JSON.stringify(issue.input)}` })
    .max(65535, { error: (issue) => `expected integer 1-65535, got ${JSON.stringify(issue.input)}` });
}

/** A regular expression given as a string, checked at load time. */
export function regex() {
  return z.string().superRefine((value, ctx) => {
    try {
      new RegExp(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${errorMessage(err)}` });
    }
  });
}

/**
 * A file vigil reads at start (certificates, keys, templates): checked when the configuration is
 * loaded, so `--check-config` catches a wrong path with its key, not a service at its first use.
 */
export function readableFile() {
  return z.string().superRefine((file, ctx) => {
    try {
      fs.accessSync(file, fs.constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      ctx.addIssue({
        code: 'custom',
        message: `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code}`,
      });
    }
  });
}

export const tlsClientSchema = z
  .object({
    ca_file: readableFile().optional(),
    cert_file: readableFile().optional(),
    key_file: readableFile().optional(),
    server_name: z.string().optional(),
    insecure_skip_verify: z.boolean().default(false),
  })
  .strict();

/** How an HTTP channel reaches its peer: the one schema the HTTP delivery helper takes. */
export const httpClientSchema = z
  .object({
    /** Whole request, connection to the last byte of the answer. */
    timeout: duration().default(10_000),
    /** Forward proxy (https targets are tunnelled with CONNECT). */
    proxy_url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
    tls: tlsClientSchema.prefault({}),
  })
  .strict();

export type HttpClientSettings = z.infer<typeof httpClientSchema>;

/** A label matcher in Alertmanager's syntax (`severity="critical"`), parsed at load time. */
export function matcher() {
  return z.string().transform((text, ctx): Matcher => {
    try {
      return parseMatcher(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/** How to reach a Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics). */
export const prometheusConnectionSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).default('http://localhost:9090'),
    timeout: duration().default(30_000),
    /** Larger answers fail as a bad query instead of filling the heap (an alert's own `query`). */
    max_response_bytes: z
      .number()
      .int()
      .min(1024)
      .default(64 * 1024 * 1024),
    /** Attempts after the first for errors that retrying can fix (network, 5xx, timeouts). */
    retries: z.number().int().min(0).max(10).default(3),
    headers: z.record(z.string(), z.string()).default({}),
    bearer_token: z.string().optional(),
    basic_auth: z
      .object({ username: z.string(), password: z.string().default('') })
      .strict()
      .optional(),
    tls: tlsClientSchema.prefault({}),
  })
  .strict() satisfies z.ZodType<PrometheusConnection>;
