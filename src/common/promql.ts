/**
 * A PromQL string literal for a label value taken from an alert or a flag: JSON's escaping is a
 * subset of PromQL's (Go's), so quotes and backslashes cannot end the matcher early.
 */
export function promString(value: string): string {
  return JSON.stringify(value);
}
