import { z } from 'zod';
import { promString, withMatcher } from '../common/promql';
import { duration, listenAddress, prometheusConnectionSchema } from './types';

const positiveInt = () => z.number().int().min(1);

/**
 * The detector settings' fields without defaults: `detector.defaults` adds the defaults, a rule
 * takes each field as optional (zod's partial() would keep the defaults and so override the
 * user's `detector.defaults` with the built-in ones).
 */
const zscoreFields = {
  enabled: z.boolean(),
  /** Sliding window the mean/stddev (or median/MAD) come from. */
  window: duration(),
  /** Median and MAD over every point instead of mean/stddev over time buckets. */
  robust: z.boolean(),
  /** Time buckets of the mean/stddev window (the window slides one bucket at a time). */
  buckets: positiveInt().max(10_000),
  threshold: z.number().positive(),
  /** Points in the window before it scores. */
  min_points: positiveInt(),
};

const seasonalFields = {
  enabled: z.boolean(),
  period: duration(),
  seasons: positiveInt().max(100),
  /** Width of a phase bucket; points inside one are averaged. */
  resolution: duration(),
  /** Past seasons needed at a phase before the seasonal detector scores (z-score decides alone until then). */
  min_seasons: positiveInt(),
  threshold: z.number().positive(),
  /** How fast the baseline follows a series whose level moved (half-life). */
  level_half_life: duration(),
};

const rangeFields = {
  enabled: z.boolean(),
  /** The lowest and highest values of this long a past are the seen range. */
  window: duration(),
  /** Time buckets of the window (it slides one bucket at a time). */
  buckets: positiveInt().max(10_000),
  /** Beyond the seen range by this fraction of its width = at the threshold. */
  threshold: z.number().positive(),
  /** History the window must hold before it scores. */
  min_history: duration(),
};

const noveltyFields = {
  enabled: z.boolean(),
  /** Levels the seen range is divided into. */
  levels: positiveInt().max(1024),
  /** Longest run of recent levels compared. */
  order: positiveInt().max(32),
  /** Size of each of the two "seen" sets in bits (a power of two; the state is bits / 4 bytes). */
  bits: positiveInt()
    .max(1 << 24)
    .refine((n) => Number.isInteger(Math.log2(n)) && n >= 64, 'expected a power of two, at least 64'),
  /** Points after which the older set is forgotten. */
  rotate_points: positiveInt(),
  /** Share of unseen runs (0..1) that is at the threshold; above 1 it never decides alone. */
  threshold: z.number().positive(),
};

const shiftFields = {
  enabled: z.boolean(),
  /** Seasonal scores up to this size are noise: only the excess accumulates. */
  allowance: z.number().min(0),
  /** Larger seasonal scores count as this much. */
  cap: z.number().positive(),
  /** Accumulated excess at the threshold. */
  threshold: z.number().positive(),
};

const shiftSchema = z
  .object({
    enabled: shiftFields.enabled.default(true),
    allowance: shiftFields.allowance.default(4),
    cap: shiftFields.cap.default(10),
    threshold: shiftFields.threshold.default(50),
  })
  .strict();

const rangeSchema = z
  .object({
    enabled: rangeFields.enabled.default(true),
    window: rangeFields.window.default(14 * 86_400_000),
    buckets: rangeFields.buckets.default(28),
    threshold: rangeFields.threshold.default(0.01),
    min_history: rangeFields.min_history.default(86_400_000),
  })
  .strict();

const noveltySchema = z
  .object({
    enabled: noveltyFields.enabled.default(true),
    levels: noveltyFields.levels.default(16),
    order: noveltyFields.order.default(6),
    bits: noveltyFields.bits.default(2048),
    rotate_points: noveltyFields.rotate_points.default(4000),
    threshold: noveltyFields.threshold.default(0.8),
  })
  .strict();

const zscoreSchema = z
  .object({
    enabled: zscoreFields.enabled.default(true),
    window: zscoreFields.window.default(7 * 86_400_000),
    robust: zscoreFields.robust.default(false),
    buckets: zscoreFields.buckets.default(12),
    threshold: zscoreFields.threshold.default(32),
    min_points: zscoreFields.min_points.default(12),
  })
  .strict();

const seasonalSchema = z
  .object({
    enabled: seasonalFields.enabled.default(true),
    period: seasonalFields.period.default(86_400_000),
    seasons: seasonalFields.seasons.default(4),
    resolution: seasonalFields.resolution.default(30 * 60_000),
    min_seasons: seasonalFields.min_seasons.default(2),
    threshold: seasonalFields.threshold.default(48),
    level_half_life: seasonalFields.level_half_life.default(3_600_000),
  })
  .strict();

/** Everything a rule can set; `detector.defaults` holds the values rules inherit. */
const settingsShape = {
  step: duration().default(60_000),
  direction: z.enum(['both', 'high', 'low']).default('both'),
  /**
   * `all`: both detectors must agree (once the seasonal one has history); `any`: either;
   * `last`: the seasonal one decides once it has history, the z-score one until then.
   */
  combine: z.enum(['all', 'any', 'last']).default('any'),
  /** Consecutive anomalous points before vigil_anomaly turns 1. */
  for_points: positiveInt().default(1),
  /** Consecutive normal points before it turns back to 0. */
  clear_points: positiveInt().default(5),
  /** Smallest spread, in the series' unit: deviations on a flat series are measured against it. */
  floor: z.number().min(0).default(0),
  /** Smallest spread as a fraction of the baseline. */
  relative_floor: z.number().min(0).default(0.01),
  /**
   * An alert starts only at a point stronger than every point of this past period: one alert per
   * incident, not one per wave of it (0 = off).
   */
  refractory: duration().default(18 * 3_600_000),
  /**
   * The series' domain (a ratio: 0..1), when it has one: the exported band is clipped to it, so a
   * band around a busy-ratio near 0 does not reach below 0. No default: most series have no bounds.
   */
  min: z.number().optional(),
  max: z.number().optional(),
  zscore: zscoreSchema.prefault({}),
  seasonal: seasonalSchema.prefault({}),
  range: rangeSchema.prefault({}),
  novelty: noveltySchema.prefault({}),
  shift: shiftSchema.prefault({}),
};

/** `min` below `max` where both are set. */
const ordered = (s: { min?: number; max?: number }): boolean =>
  s.min === undefined || s.max === undefined || s.min < s.max;
const orderedMessage = { message: 'expected max above min', path: ['max'] };

export const ruleSettingsSchema = z.object(settingsShape).strict().refine(ordered, orderedMessage);
export type RuleSettings = z.infer<typeof ruleSettingsSchema>;

/** A rule overrides any of the defaults; unset keys come from `detector.defaults`. */
const ruleSchema = z
  .object({
    name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'expected a name of letters, digits and _'),
    query: z.string().min(1, 'expected a PromQL expression'),
    step: duration().optional(),
    direction: z.enum(['both', 'high', 'low']).optional(),
    combine: z.enum(['all', 'any', 'last']).optional(),
    for_points: positiveInt().optional(),
    refractory: duration().optional(),
    clear_points: positiveInt().optional(),
    floor: z.number().min(0).optional(),
    relative_floor: z.number().min(0).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    zscore: z.object(zscoreFields).partial().strict().optional(),
    seasonal: z.object(seasonalFields).partial().strict().optional(),
    range: z.object(rangeFields).partial().strict().optional(),
    novelty: z.object(noveltyFields).partial().strict().optional(),
    shift: z.object(shiftFields).partial().strict().optional(),
  })
  .strict()
  .refine(ordered, orderedMessage);

export type RuleOverrides = z.infer<typeof ruleSchema>;

/**
 * A recording rule of prometheus/rules/recording.yml, or the expression it records where it has
 * no samples (not loaded, or before it was): history older than the recording rule still feeds
 * the models. The recorded side loses its metric name so both sides are one series.
 */
/**
 * Host load follows the clock: for the shipped host rules the seasonal detector keeps the
 * sensitivity of a clean daily cycle (a 3 am burst on an idle night), where the default threshold
 * is set for series of unknown shape.
 */
const DAILY_CYCLE = { threshold: 16 };

const recordedOr = (record: string, expr: string): string => `max without () (${record}) or (${expr})`;

/**
 * Shipped rules on node_exporter's metric names (and the exporter's, which uses the same),
 * used when the config has no `detector.rules`. Host load follows the clock, so these let the
 * seasonal detector decide once it has two days of history (`combine: last`): a 3 am burst
 * counts even when the week has seen higher values by day. Aggregations keep job and instance,
 * so anomaly alerts name the host.
 */
export const DEFAULT_RULES: Array<z.input<typeof ruleSchema>> = [
  {
    name: 'cpu_busy',
    combine: 'last',
    seasonal: DAILY_CYCLE,
    query: recordedOr(
      'instance:node_cpu_busy:ratio',
      '1 - avg without (cpu, mode) (rate(node_cpu_seconds_total{mode="idle"}[5m]))',
    ),
    floor: 0.02,
    min: 0,
    max: 1,
  },
  {
    name: 'memory_used',
    query: recordedOr(
      'instance:node_memory_used:ratio',
      '1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes',
    ),
    direction: 'high',
    floor: 0.01,
    min: 0,
    max: 1,
  },
  {
    name: 'disk_io_busy',
    combine: 'last',
    seasonal: DAILY_CYCLE,
    query: recordedOr(
      'instance_device:node_disk_io_time_seconds:rate5m',
      'rate(node_disk_io_time_seconds_total[5m])',
    ),
    floor: 0.02,
    min: 0,
    max: 1,
  },
  {
    name: 'filesystem_growth',
    // Bytes per second the used space grows by; a log storm or a runaway dump shows here first.
    query: '-deriv(node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs"}[30m])',
    direction: 'high',
    floor: 1_048_576,
  },
  {
    name: 'network_receive',
    combine: 'last',
    seasonal: DAILY_CYCLE,
    query: recordedOr(
      'instance:node_network_receive_bytes_excluding_lo:rate5m',
      'sum without (device) (rate(node_network_receive_bytes_total{device!="lo"}[5m]))',
    ),
    floor: 10_000,
  },
  {
    name: 'network_transmit',
    combine: 'last',
    seasonal: DAILY_CYCLE,
    query: recordedOr(
      'instance:node_network_transmit_bytes_excluding_lo:rate5m',
      'sum without (device) (rate(node_network_transmit_bytes_total{device!="lo"}[5m]))',
    ),
    floor: 10_000,
  },
];

/** This replica's part of the series: those whose label hash modulo `count` is `index`. */
export interface Shard {
  index: number;
  count: number;
}

/** `i/N` with 0 <= i < N (`detector.shard`, `vigil detector --shard`). */
export const shardSchema = z
  .string()
  .regex(/^\d+\/[1-9]\d*$/, 'expected i/N such as 0/3')
  .refine((s) => Number(s.split('/')[0]) < Number(s.split('/')[1]), 'expected i < N')
  .transform((s): Shard => {
    const [index, count] = s.split('/').map(Number);
    return { index, count };
  });

/** A rule's query as a replica sharding by query sends it: only the series of its shard. */
export function shardQuery(query: string, label: string, shard: Shard): string {
  return withMatcher(query, `${label}=${promString(String(shard.index))}`);
}

/** `detector:` section. */
export const detectorSchema = z
  .object({
    listen: listenAddress().default(':9111'),
    prometheus: prometheusConnectionSchema.prefault({}),
    /** Newest point evaluated is `now - lag`, so the last scrape has landed in Prometheus. */
    lag: duration().default(30_000),
    /**
     * Each fetch reaches back this far before the last point, for a series whose latest steps had
     * no value yet (its samples came late). Steps a model has seen are skipped, and a range query
     * carries a series' last sample forward for 5 minutes, so a longer overlap mostly re-reads
     * samples that are thrown away: at a 15 s step, 5 minutes made 20 of every 21 samples fetched.
     */
    overlap: duration().default(60_000),
    /** Series not returned by their rule for this long are dropped (their outputs disappear). */
    stale_after: duration().default(15 * 60_000),
    /** At most this much history per request (a query_range never returns more than 11,000 points per series). */
    backfill_chunk: duration().default(86_400_000),
    /** At most about this many samples per request (series × steps), which bounds the memory of an answer. */
    max_samples_per_query: z.number().int().min(1000).default(1_000_000),
    /** Optional file the per-series state is saved to, so a restart does not refetch the history. */
    state_file: z.string().min(1).optional(),
    /** How often the state file is written (and once more at shutdown). */
    snapshot_interval: duration().default(5 * 60_000),
    shard: shardSchema.prefault('0/1'),
    /**
     * Shard by query: the label (written by a hashmod relabelling in Prometheus) whose value is
     * the shard index; `<label>="<i>"` is added to every selector of every rule's query.
     */
    shard_label: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a label name')
      .optional(),
    defaults: ruleSettingsSchema.prefault({}),
    rules: z.array(ruleSchema).prefault(DEFAULT_RULES),
  })
  .strict()
  .superRefine((detector, ctx) => {
    const seen = new Set<string>();
    detector.rules.forEach((rule, i) => {
      if (detector.shard_label !== undefined) {
        try {
          shardQuery(rule.query, detector.shard_label, detector.shard);
        } catch (err) {
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'query'],
            message: `cannot add the shard_label matcher: ${(err as Error).message}`,
          });
        }
      }
      if (seen.has(rule.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `duplicate rule name "${rule.name}"`,
        });
      }
      seen.add(rule.name);
    });
  });

export type DetectorConfig = z.infer<typeof detectorSchema>;
