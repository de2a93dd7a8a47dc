import type { z } from 'zod';
import { formatPath } from './key-path';

/**
 * A validation problem as one line for people: `bridge.channels[0].smtp.port: expected a whole
 * number 1-65535, got "abc"`. zod's own wording ("Invalid option: expected one of "a"|"b"") is
 * rewritten; messages a schema wrote itself are kept. Parse with `{ reportInput: true }` so the
 * line can say what was found.
 */
export function describeIssue(issue: z.core.$ZodIssue, prefix: ReadonlyArray<PropertyKey> = []): string {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') return `${formatPath([...path, issue.keys[0]])}: unknown key`;
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const first = issue.errors.flat()[0];
    if (first) return describeIssue({ ...first, path: [...issue.path, ...first.path] }, prefix);
  }
  return `${formatPath(path)}: ${reasonOf(issue)}`;
}

/** zod's default messages start so; a schema's own do not. */
const ZOD_WORDING = /^(Invalid|Too (small|big)|Unrecognized|Expected)/;

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of keys',
  record: 'a mapping of keys',
};

function reasonOf(issue: z.core.$ZodIssue): string {
  const message = issue.message.replace(/[\r\n]+/g, ' ');
  if (!ZOD_WORDING.test(message)) return message;
  const got = 'input' in issue ? `, got ${shown(issue.input)}` : '';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined)
        return `missing: expected ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}${got}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${shown(issue.values[0])}${got}`
        : `expected one of ${issue.values.map(shown).join(', ')}${got}`;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const side = issue.code === 'too_small' ? 'at least' : 'at most';
      const exclusive =
        issue.inclusive === false ? (issue.code === 'too_small' ? 'more than' : 'less than') : side;
      if (issue.origin === 'array' || issue.origin === 'set')
        return `expected ${exclusive} ${String(bound)} item${Number(bound) === 1 ? '' : 's'}${got}`;
      if (issue.origin === 'string') return `expected ${exclusive} ${String(bound)} characters${got}`;
      return `expected ${exclusive} ${String(bound)}${got}`;
    }
    case 'invalid_format':
      return issue.format === 'regex' && 'pattern' in issue
        ? `expected text matching ${String(issue.pattern)}${got}`
        : `expected ${issue.format === 'url' ? 'a URL' : `a valid ${issue.format}`}${got}`;
    default:
      return message;
  }
}

/** A value as the line shows it: strings quoted, long ones cut, lists and mappings named. */
function shown(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
