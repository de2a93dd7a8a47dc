import type { MetricFamily, MetricType, Sample } from '../common/exposition';

/** A family as read from a file: `help` is undefined when the file has no HELP line for it. */
export interface ParsedFamily extends Omit<MetricFamily, 'help'> {
  help?: string;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

class LineError extends Error {}

/** While reading: whether a TYPE line has been seen for the family. */
type ReadingFamily = ParsedFamily & { typed?: boolean };

/** The sample suffixes that belong to a histogram's or summary's family. */
function familyOf(sampleName: string, families: Map<string, ParsedFamily>): ParsedFamily | undefined {
  const exact = families.get(sampleName);
  if (exact) return exact;
  const suffix = /_(bucket|sum|count)$/.exec(sampleName);
  if (!suffix) return undefined;
  const base = families.get(sampleName.slice(0, suffix.index));
  if (base?.type === 'histogram') return base;
  if (base?.type === 'summary' && suffix[1] !== 'bucket') return base;
  return undefined;
}

function unescape(text: string, quoted: boolean): string {
  return text.replace(quoted ? /\\(["\\n])/g : /\\([\\n])/g, (_, ch: string) => (ch === 'n' ? '\n' : ch));
}

function parseValue(text: string): number {
  if (/^[+]?Inf$/i.test(text)) return Infinity;
  if (/^-Inf$/i.test(text)) return -Infinity;
  if (/^NaN$/i.test(text)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text))
    throw new LineError(`invalid value ${JSON.stringify(text)}`);
  return Number(text);
}

/** `{a="1",b="x\"y"}` from `start` (the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, start: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  const pattern = /\s*([^=\s,}]+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|(?=\}))/y;
  let i = start + 1;
  for (;;) {
    while (line[i] === ' ') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    pattern.lastIndex = i;
    const match = pattern.exec(line);
    if (!match) throw new LineError('invalid label set');
    const [, name, value] = match;
    if (!LABEL_NAME.test(name)) throw new LineError(`invalid label name ${JSON.stringify(name)}`);
    if (name in labels) throw new LineError(`label ${name} given twice`);
    labels[name] = unescape(value, true);
    i = pattern.lastIndex;
  }
}

function parseSample(line: string): { name: string; sample: Sample; timestamp: boolean } {
  const name = /^[^\s{]+/.exec(line)?.[0] ?? '';
  if (!METRIC_NAME.test(name)) throw new LineError(`invalid metric name ${JSON.stringify(name)}`);
  let rest = line.slice(name.length);
  let labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    const parsed = parseLabels(rest, 0);
    labels = parsed.labels;
    rest = rest.slice(parsed.end);
  }
  const fields = rest.trim().split(/\s+/);
  if (fields.length < 1 || fields.length > 2 || fields[0] === '') throw new LineError('expected a value');
  if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) throw new LineError('invalid timestamp');
  return { name, sample: { name, labels, value: parseValue(fields[0]) }, timestamp: fields.length === 2 };
}

/** Handles a `# HELP` or `# TYPE` line; other comments are ignored. */
function parseComment(line: string, families: Map<string, ReadingFamily>, withSamples: Set<string>): void {
  const match = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
  if (!match) return;
  const [, keyword, name, text = ''] = match;
  if (!METRIC_NAME.test(name)) throw new LineError(`invalid metric name ${JSON.stringify(name)}`);
  let family = families.get(name);
  if (keyword === 'TYPE') {
    const type = text.trim() as MetricType;
    if (!TYPES.has(type)) throw new LineError(`unknown type ${JSON.stringify(text)}`);
    if (withSamples.has(name)) throw new LineError(`TYPE for ${name} after its samples`);
    if (family?.typed) throw new LineError(`second TYPE line for ${name}`);
    family ??= { name, type, samples: [] };
    family.type = type;
    family.typed = true;
  } else {
    if (family?.help !== undefined) throw new LineError(`second HELP line for ${name}`);
    family ??= { name, type: 'untyped', samples: [] };
    family.help = unescape(text, false);
  }
  families.set(name, family);
}

/**
 * The Prometheus text format (0.0.4), as node_exporter's textfile collector reads it: any
 * problem, and client-side timestamps (which node_exporter refuses), fail the whole text with the
 * line number.
 */
export function parseTextFormat(text: string): ParsedFamily[] {
  const families = new Map<string, ReadingFamily>();
  const withSamples = new Set<string>();
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.trim();
    try {
      if (line === '') return;
      if (line.startsWith('#')) return parseComment(line, families, withSamples);
      const { name, sample, timestamp } = parseSample(line);
      if (timestamp) throw new LineError('client-side timestamps are not supported');
      let family = familyOf(name, families);
      if (!family) {
        family = { name, type: 'untyped', samples: [] };
        families.set(name, family);
      }
      if (family.type === 'histogram' && name.endsWith('_bucket') && sample.labels.le === undefined) {
        throw new LineError(`${name} without an le label`);
      }
      withSamples.add(family.name);
      if (name === family.name) delete sample.name;
      family.samples.push(sample);
    } catch (err) {
      if (err instanceof LineError) throw new Error(`line ${index + 1}: ${err.message}`);
      throw err;
    }
  });
  return [...families.values()]
    .filter((family) => family.samples.length > 0)
    .map(({ name, help, type, samples }) => ({ name, help, type, samples }));
}
