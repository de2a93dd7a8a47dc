/**
 * Label matchers in Alertmanager's syntax: `severity="critical"`, `alertname=~"Disk.*"`,
 * `team!="db"`, `env!~"dev|test"`. As in Alertmanager, a regular expression must match the whole
 * value, and a label an alert does not have matches as the empty string.
 */

export type MatchType = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  type: MatchType;
  value: string;
  matches(labels: Readonly<Record<string, string>>): boolean;
}

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses one matcher; throws an Error whose message says what is wrong with it. */
export function parseMatcher(text: string): Matcher {
  const found = /^\s*([^\s=!~"]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s.exec(text);
  if (found === null)
    throw new Error(`expected a matcher such as severity="critical", got ${JSON.stringify(text)}`);
  const [, name, type, rawValue] = found as unknown as [string, string, MatchType, string];
  if (!LABEL_NAME.test(name)) throw new Error(`invalid label name ${JSON.stringify(name)}`);
  const value = unquote(rawValue);
  if (type === '=' || type === '!=') {
    const equal = type === '=';
    return { name, type, value, matches: (labels) => ((labels[name] ?? '') === value) === equal };
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(`^(?:${value})$`, 's');
  } catch (err) {
    throw new Error(`invalid regular expression ${JSON.stringify(value)}: ${(err as Error).message}`);
  }
  const wanted = type === '=~';
  return { name, type, value, matches: (labels) => pattern.test(labels[name] ?? '') === wanted };
}

/** A value in double quotes with Go-style escapes, or bare (Alertmanager accepts both). */
function unquote(raw: string): string {
  if (!raw.startsWith('"')) {
    if (/["\s,{}]/.test(raw)) throw new Error(`put the value ${JSON.stringify(raw)} in double quotes`);
    return raw;
  }
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value === 'string') return value;
  } catch {
    // Reported below.
  }
  throw new Error(`invalid quoted value ${raw}`);
}

/** True when every matcher matches (no matchers: everything does). */
export function matchesAll(matchers: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((m) => m.matches(labels));
}
