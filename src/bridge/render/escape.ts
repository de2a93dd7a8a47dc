/**
 * Escaping for each markup a channel writes: every label and annotation value reaches a template
 * through one of these, so no value can add markup, links or mentions.
 */

export type Markup = 'html' | 'mrkdwn' | 'teams' | 'json' | 'text';

const HTML: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
  '`': '&#x60;',
  '=': '&#x3D;',
};

export const ESCAPERS: Record<Markup, (text: string) => string> = {
  html: (text) => text.replace(/[&<>"'`=]/g, (c) => HTML[c]),
  // Slack's three: with them escaped no value can open a link, a mention (<!channel>) or a command.
  mrkdwn: (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
  // Adaptive Card TextBlocks are Markdown: a backslash makes emphasis and link brackets literal.
  teams: (text) => text.replace(/[\\*_[\]`~]/g, (c) => `\\${c}`),
  // Inside a JSON string literal: quotes, backslashes and control characters escaped.
  json: (text) => JSON.stringify(text).slice(1, -1),
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  text: (text) => text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ''),
};

/** A copy of a view with every string in it escaped for `markup`; numbers and booleans as they are. */
export function escapeDeep<T>(value: T, escape: (text: string) => string): T {
  if (typeof value === 'string') return escape(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => escapeDeep(item, escape)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = escapeDeep(item, escape);
    return out as T;
  }
  return value;
}
