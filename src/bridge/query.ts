import type { Alert } from './payload';

/** What to graph for an alert: pure helpers over the alert's annotations, generatorURL and labels. */

export interface GraphQuery {
  expr: string;
  /** A static threshold stripped from `expr > 0.9`, drawn as a line. */
  threshold?: number;
}

/**
 * The `query` annotation, else the expression inside generatorURL (Prometheus' `g0.expr`). Only the
 * expression is taken from the URL: it is run against the configured Prometheus, never the URL's host.
 */
export function graphQueryFor(alert: Alert): GraphQuery | undefined {
  const annotated = alert.annotations.query?.trim();
  if (annotated) return { expr: annotated };
  const expr = exprFromGeneratorUrl(alert.generatorURL);
  return expr === undefined ? undefined : splitThreshold(expr);
}

export function exprFromGeneratorUrl(generatorURL: string): string | undefined {
  if (generatorURL === '') return undefined;
  let url: URL;
  try {
    url = new URL(generatorURL);
  } catch {
    return undefined;
  }
  for (const [key, value] of url.searchParams) {
    if (/^g\d+\.expr$/.test(key) && value.trim() !== '') return value.trim();
  }
  return undefined;
}

const COMPARISON = /^(==|!=|>=|<=|>|<)\s*(?:bool\s+)?([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*$/i;

/**
 * `rate(x[5m]) > 0.9` graphs best as `rate(x[5m])` with a line at 0.9: the filtered expression would
 * only show the points above the threshold. Only a top-level comparison with a number is split off.
 */
export function splitThreshold(expr: string): GraphQuery {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0 && /[<>=!]/.test(c)) {
      const match = COMPARISON.exec(expr.slice(i));
      const left = expr.slice(0, i).trim();
      if (match && left !== '' && !/\b(and|or|unless)\b/.test(left)) {
        return { expr: left, threshold: Number(match[2]) };
      }
      return { expr };
    }
  }
  return { expr };
}

/** `{instance="web-1", job="node"}`, with __name__ in front as Prometheus prints series. */
export function seriesName(labels: Record<string, string>): string {
  const { __name__: metric = '', ...rest } = labels;
  const pairs = Object.keys(rest)
    .sort()
    .map((k) => `${k}=${JSON.stringify(rest[k])}`);
  return pairs.length === 0 && metric !== '' ? metric : `${metric}{${pairs.join(', ')}}`;
}

/**
 * The series that belong to this alert: those whose every label, where the alert has it too, agrees.
 * A query over all instances then draws the alerting instance only; if none agree, all are kept.
 */
export function matchAlertSeries<T extends { labels: Record<string, string> }>(
  series: T[],
  alertLabels: Record<string, string>,
): T[] {
  const matching = series.filter((s) =>
    Object.entries(s.labels).every(
      ([k, v]) => k === '__name__' || alertLabels[k] === undefined || alertLabels[k] === v,
    ),
  );
  return matching.length > 0 ? matching : series;
}

/** An Alertmanager "new silence" link pre-filled with the alert's labels, or undefined. */
export function silenceUrl(externalURL: string, labels: Record<string, string>): string | undefined {
  const base = safeHttpUrl(externalURL);
  if (base === undefined) return undefined;
  const matchers = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ');
  return `${base.replace(/\/+$/, '')}/#/silences/new?filter=${encodeURIComponent(`{${matchers}}`)}`;
}

/** The URL if it is absolute http(s), else undefined: no javascript:, data: or file: links in a mail. */
export function safeHttpUrl(text: string | undefined): string | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  try {
    const url = new URL(text.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
