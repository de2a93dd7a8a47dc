import { z } from 'zod';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** The log collector's own metrics; a rule may not feed one of them. */
export const LOG_SELF_METRIC_PREFIX = 'vigil_log_';
/** Prometheus' default histogram buckets (client_golang's DefBuckets). */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The named groups of a regular expression. Matching the empty string against `(?:re)|` always
 * succeeds through the empty branch, and the result lists every named group of `re`, so the names
 * come from the regex engine itself rather than from parsing its source.
 */
export function namedGroups(source: string): string[] {
  return Object.keys(new RegExp(`(?:${source})|`).exec('')?.groups ?? {});
}

function compiles(source: string): string | undefined {
  try {
    new RegExp(source);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

const ruleSchema = z
  .object({
    regex: z.string().min(1),
    metric: z.string(),
    type: z.enum(['counter', 'gauge', 'histogram']),
    /** The named group whose number the metric takes: added (counter), set (gauge), observed (histogram). */
    value: z.string().optional(),
    /** Named groups that become labels; none by default, so a captured number never becomes a label. */
    labels: z.array(z.string()).default([]),
    const_labels: z.record(z.string(), z.string()).default({}),
    help: z.string().optional(),
    buckets: z.array(z.number()).min(1).optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const issue = (path: Array<string | number>, message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    const error = compiles(rule.regex);
    if (error) return issue(['regex'], `invalid regular expression: ${error}`);
    const groups = namedGroups(rule.regex);
    if (!METRIC_NAME.test(rule.metric))
      issue(['metric'], `invalid metric name ${JSON.stringify(rule.metric)}`);
    else if (rule.metric.startsWith(LOG_SELF_METRIC_PREFIX))
      issue(['metric'], `names starting with ${LOG_SELF_METRIC_PREFIX} are the log collector's own`);
    else if (rule.type === 'counter' && !rule.metric.endsWith('_total'))
      issue(['metric'], 'a counter name ends in _total');
    else if (rule.type !== 'counter' && /_(total|bucket|count|sum)$/.test(rule.metric))
      issue(['metric'], `a ${rule.type} name does not end in _total, _bucket, _count or _sum`);
    if (rule.value !== undefined && !groups.includes(rule.value))
      issue(['value'], `no group named ${JSON.stringify(rule.value)} in regex`);
    if (rule.value === undefined && rule.type !== 'counter')
      issue(['value'], `a ${rule.type} needs the named group of its number`);
    if (rule.buckets && rule.type !== 'histogram') issue(['buckets'], 'only a histogram has buckets');
    rule.buckets?.forEach((bound, i) => {
      if (!Number.isFinite(bound) || (i > 0 && bound <= rule.buckets![i - 1]))
        issue(['buckets', i], 'bucket bounds are finite and increasing');
    });
    const reserved = rule.type === 'histogram' ? ['le'] : [];
    const checkLabel = (name: string, path: Array<string | number>) => {
      if (!LABEL_NAME.test(name) || name.startsWith('__') || reserved.includes(name))
        issue(path, `invalid label name ${JSON.stringify(name)}`);
    };
    rule.labels.forEach((name, i) => {
      if (!groups.includes(name)) issue(['labels', i], `no group named ${JSON.stringify(name)} in regex`);
      else checkLabel(name, ['labels', i]);
    });
    for (const name of Object.keys(rule.const_labels)) {
      checkLabel(name, ['const_labels', name]);
      if (rule.labels.includes(name)) issue(['const_labels', name], `${name} is also in labels`);
    }
  });

export type LogRuleConfig = z.infer<typeof ruleSchema>;

const groupSchema = z
  .object({
    /** Paths and globs; files that start to match later are picked up while running. */
    files: z.array(z.string().min(1)).min(1),
    rules: z.array(ruleSchema).min(1),
    /** Read files found at start from their beginning instead of their end. */
    from_beginning: z.boolean().default(false),
    /** A longer line is counted in vigil_log_lines_too_long_total and skipped. */
    max_line_bytes: z
      .number()
      .int()
      .min(16)
      .default(64 * 1024),
  })
  .strict();

export type LogGroupConfig = z.infer<typeof groupSchema>;

/** The shape of a metric, which every rule that feeds it must agree on. */
function shape(rule: LogRuleConfig): string {
  return JSON.stringify([
    rule.type,
    [...rule.labels].sort(),
    Object.keys(rule.const_labels).sort(),
    rule.buckets,
  ]);
}

/** `exporter.logs`: which files to follow and the rules that turn their lines into metrics. */
export const logsSchema = z
  .array(groupSchema)
  .default([])
  .superRefine((groups, ctx) => {
    const seen = new Map<string, string>();
    groups.forEach((group, g) =>
      group.rules.forEach((rule, r) => {
        const first = seen.get(rule.metric);
        if (first === undefined) seen.set(rule.metric, shape(rule));
        else if (first !== shape(rule))
          ctx.addIssue({
            code: 'custom',
            path: [g, 'rules', r, 'metric'],
            message: `${rule.metric} is fed by another rule with a different type, labels or buckets`,
          });
      }),
    );
  });
