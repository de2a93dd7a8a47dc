/** XML-escapes text for SVG: label values are untrusted. Control characters XML cannot carry are dropped. */
export function xml(text: string): string {
  return (
    text
      .replace(/[&<>'"]/g, (c) => `&#${c.charCodeAt(0)};`)
      // eslint-disable-next-line no-control-regex -- XML 1.0 cannot carry these characters
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
  );
}
