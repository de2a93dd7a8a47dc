/**
 * Polls `probe` until it returns a value other than undefined/false, or fails with the last
 * error after `timeoutMs`. For waiting on servers and pipelines, never for asserting speed.
 * The default deadline is a minute: on a loaded 2-core CI machine a server's start-up or a
 * pipeline's first round can take several times what it takes alone, and a wait costs only as
 * long as the condition takes.
 */
export const WAIT_TIMEOUT_MS = 60_000;

export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = WAIT_TIMEOUT_MS, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await probe();
      if (result !== undefined && result !== false) return result;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
