/**
 * An error meant for a person: its message is one line that says what is wrong and where,
 * printed without a stack trace. The exit code follows the convention of Prometheus tools:
 * 2 for bad usage or configuration.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** The one-line text of anything thrown, for logs and metrics; never a stack trace. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0];
  return String(err).split('\n')[0];
}
