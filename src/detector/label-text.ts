import { formatLabels } from '../common/exposition';
import { seriesLabels } from './sharding';

/**
 * A series' output labels as exposition text, `name="value",...,rule="<rule>"` (without the
 * braces): its source labels (sorted, `__name__` left out) and the rule's. A source label that
 * clashes with ours is kept as exported_<name>. The engine keys its series by this text, so each
 * series holds one string, the one every line of /metrics writes.
 */
export function outputLabelText(labels: Record<string, string>, rule: string): string {
  const out: Record<string, string> = {};
  for (const name in labels) {
    out[name === 'rule' || name === 'detector' ? `exported_${name}` : name] = labels[name];
  }
  out.rule = rule;
  return formatLabels(out).slice(1, -1);
}

/**
 * `outputLabelText(seriesLabels(JSON.parse(metricText)), rule)` for a `metric` object of a
 * query_range answer, read without building the object when the text is plain (no escapes,
 * labels in order, as Prometheus writes them): it runs for every series of every answer. Such a
 * value holds no `"`, `\` nor newline, so it needs no escaping in the exposition either.
 */
export function labelTextOf(metricText: string, rule: string): string {
  if (metricText.includes('\\') || metricText.charCodeAt(0) !== 0x7b) return slowLabelText(metricText, rule);
  if (metricText === '{}') return outputLabelText({}, rule);
  let text = '';
  let previous = '';
  let at = 1;
  for (;;) {
    if (metricText.charCodeAt(at) !== 0x22) return slowLabelText(metricText, rule);
    const nameEnd = metricText.indexOf('"', at + 1);
    const name = metricText.slice(at + 1, nameEnd);
    if (metricText.charCodeAt(nameEnd + 1) !== 0x3a || metricText.charCodeAt(nameEnd + 2) !== 0x22) {
      return slowLabelText(metricText, rule);
    }
    const valueEnd = metricText.indexOf('"', nameEnd + 3);
    // exported_rule beside rule would be one label once renamed: the slow path keeps the rule's.
    if (valueEnd < 0 || name <= previous || name.startsWith('exported_')) {
      return slowLabelText(metricText, rule);
    }
    if (name !== '__name__') {
      const outputName = name === 'rule' || name === 'detector' ? `exported_${name}` : name;
      text += `${outputName}="${metricText.slice(nameEnd + 3, valueEnd)}",`;
    }
    previous = name;
    const next = metricText.charCodeAt(valueEnd + 1);
    if (next === 0x7d && valueEnd + 2 === metricText.length) return `${text}${ruleLabel(rule)}`;
    if (next !== 0x2c) return slowLabelText(metricText, rule);
    at = valueEnd + 2;
  }
}

const ruleLabels = new Map<string, string>();

/** `rule="<rule>"`, formatted once per rule. */
function ruleLabel(rule: string): string {
  let text = ruleLabels.get(rule);
  if (text === undefined) {
    text = outputLabelText({}, rule);
    ruleLabels.set(rule, text);
  }
  return text;
}

function slowLabelText(metricText: string, rule: string): string {
  return outputLabelText(seriesLabels(JSON.parse(metricText) as Record<string, string>), rule);
}

/**
 * A copy of `text` in one piece of its own. A string built by joins or slices holds its parts (and
 * a slice the whole text it was cut from, such as an answer's `metric` object) for as long as it
 * lives: a series' label text lives as long as the series.
 */
export function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
