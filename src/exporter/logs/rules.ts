import type { MetricFamily, Sample } from '../../common/exposition';
import { formatPath } from '../../common/key-path';
import { DEFAULT_BUCKETS, type LogGroupConfig, type LogRuleConfig } from '../../config/logs';

interface Series {
  labelValues: string[];
  value: number;
  /** Histograms only: observations per bucket (not cumulative), then sum in `value`. */
  buckets?: Float64Array;
  count?: number;
}

/** One metric fed by log rules, with a bounded number of label sets. */
export class LogMetric {
  readonly series = new Map<string, Series>();
  /** Matches that would have made a label set past the cap. */
  dropped = 0;
  readonly labelNames: string[];
  readonly buckets: number[];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: LogRuleConfig['type'],
    labelNames: string[],
    buckets: number[] | undefined,
    private readonly maxSeries: number,
  ) {
    this.labelNames = labelNames;
    this.buckets = buckets ?? DEFAULT_BUCKETS;
  }

  update(labelValues: string[], value: number): void {
    const key = labelValues.join('\u0000');
    let series = this.series.get(key);
    if (!series) {
      if (this.series.size >= this.maxSeries) {
        this.dropped++;
        return;
      }
      series = { labelValues, value: 0 };
      if (this.type === 'histogram') {
        series.buckets = new Float64Array(this.buckets.length);
        series.count = 0;
      }
      this.series.set(key, series);
    }
    if (this.type === 'counter') series.value += value;
    else if (this.type === 'gauge') series.value = value;
    else {
      series.value += value;
      series.count!++;
      const bucket = this.buckets.findIndex((bound) => value <= bound);
      if (bucket >= 0) series.buckets![bucket]++;
    }
  }

  family(): MetricFamily {
    const samples: Sample[] = [];
    for (const series of this.series.values()) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = series.labelValues[i]));
      if (this.type !== 'histogram') {
        samples.push({ labels, value: series.value });
        continue;
      }
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += series.buckets![i];
        samples.push({
          name: `${this.name}_bucket`,
          labels: { ...labels, le: String(bound) },
          value: cumulative,
        });
      });
      samples.push({ name: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: series.count! });
      samples.push({ name: `${this.name}_sum`, labels, value: series.value });
      samples.push({ name: `${this.name}_count`, labels, value: series.count! });
    }
    return { name: this.name, help: this.help, type: this.type, samples };
  }
}

/** One configured rule, compiled: its key path names it in the self-metrics. */
export class LogRule {
  matches = 0;
  /** Matches whose value group was not a number (or a negative one for a counter). */
  parseErrors = 0;

  constructor(
    readonly id: string,
    private readonly regex: RegExp,
    readonly metric: LogMetric,
    private readonly valueGroup: string | undefined,
    /** For each of the metric's labels: the named group that gives its value, or its constant. */
    private readonly labelSources: ReadonlyArray<{ group: string } | { constant: string }>,
  ) {}

  apply(line: string): void {
    const match = this.regex.exec(line);
    if (!match) return;
    this.matches++;
    const groups = match.groups ?? {};
    let value = 1;
    if (this.valueGroup !== undefined) {
      value = Number(groups[this.valueGroup]);
      if (
        groups[this.valueGroup] === undefined ||
        !Number.isFinite(value) ||
        (value < 0 && this.metric.type === 'counter')
      ) {
        this.parseErrors++;
        return;
      }
    }
    const labelValues = this.labelSources.map((source) =>
      'constant' in source ? source.constant : (groups[source.group] ?? ''),
    );
    this.metric.update(labelValues, value);
  }
}

/** The rules of one `exporter.logs[]` entry, applied to each line of its files. */
export class RuleSet {
  constructor(readonly rules: readonly LogRule[]) {}

  apply(line: string): void {
    for (const rule of this.rules) rule.apply(line);
  }
}

/**
 * Compiles every group's rules; rules that name the same metric feed one LogMetric (the config
 * schema has checked that they agree on its type, label groups, constant label names and buckets).
 */
export function compileRules(
  groups: readonly LogGroupConfig[],
  maxSeriesPerMetric: number,
  keyPath: ReadonlyArray<string | number> = ['exporter', 'logs'],
): { ruleSets: RuleSet[]; metrics: LogMetric[] } {
  const metrics = new Map<string, LogMetric>();
  const ruleSets = groups.map((group, g) => {
    const rules = group.rules.map((rule, r) => {
      const id = formatPath([...keyPath, g, 'rules', r]);
      const constNames = Object.keys(rule.const_labels);
      let metric = metrics.get(rule.metric);
      if (!metric) {
        metric = new LogMetric(
          rule.metric,
          rule.help ?? `Lines of log files matched by ${id}.`,
          rule.type,
          [...rule.labels, ...constNames],
          rule.buckets,
          maxSeriesPerMetric,
        );
        metrics.set(rule.metric, metric);
      }
      const labelSources = metric.labelNames.map((name) =>
        name in rule.const_labels ? { constant: rule.const_labels[name] } : { group: name },
      );
      return new LogRule(id, new RegExp(rule.regex), metric, rule.value, labelSources);
    });
    return new RuleSet(rules);
  });
  return { ruleSets, metrics: [...metrics.values()] };
}
