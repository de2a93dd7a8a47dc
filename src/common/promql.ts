import { parser } from '@prometheus-io/lezer-promql';

/**
 * A PromQL string literal for a label value taken from an alert or a flag: JSON's escaping is a
 * subset of PromQL's (Go's), so quotes and backslashes cannot end the matcher early.
 */
export function promString(value: string): string {
  return JSON.stringify(value);
}

/**
 * `query` with `matcher` (e.g. `shard="2"`) added to every vector selector in it, so that each
 * series it reads is narrowed before any function or aggregation sees it. Throws an Error that
 * says where when `query` does not parse as PromQL, or says so when it selects no series.
 */
export function withMatcher(query: string, matcher: string): string {
  const tree = parser.parse(query);
  const inserts: Array<{ at: number; text: string }> = [];
  let error: number | undefined;
  tree.iterate({
    enter(node) {
      if (node.type.isError) error ??= node.from;
      if (node.name !== 'VectorSelector') return;
      const braces = node.node.getChild('LabelMatchers');
      if (!braces) {
        inserts.push({ at: node.to, text: `{${matcher}}` });
        return;
      }
      // `{}` and `{a="b",}` take the matcher without a comma of ours.
      const inside = query.slice(braces.from + 1, braces.to - 1).trim();
      const comma = inside === '' || inside.endsWith(',') ? '' : ',';
      inserts.push({ at: braces.to - 1, text: `${comma}${matcher}` });
    },
  });
  if (error !== undefined) throw new Error(`not valid PromQL (at character ${error + 1})`);
  if (inserts.length === 0) throw new Error('no series selector to add the matcher to');
  let out = query;
  for (const { at, text } of inserts.sort((a, b) => b.at - a.at))
    out = out.slice(0, at) + text + out.slice(at);
  return out;
}
