/**
 * URLs as people may see them: credentials written into a URL (`http://user:pass@host`) never reach
 * a log line, a mail or a plugin's output. Every place that prints a configured URL goes through here.
 */

/** The URL with its userinfo replaced by `***`; text that is not a URL is returned unchanged. */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.username === '' && url.password === '') return text;
  url.username = '';
  url.password = '';
  return url.href.replace(/^([a-z][a-z0-9+.-]*:\/\/)/i, '$1***@');
}

/** Splits the userinfo off a URL: the bare URL to call and the credentials to send as basic auth. */
export function splitUserinfo(text: string): { url: string; auth?: { username: string; password: string } } {
  const url = new URL(text);
  if (url.username === '' && url.password === '') return { url: text };
  const auth = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  url.username = '';
  url.password = '';
  return { url: url.href, auth };
}
