import pino from 'pino';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * One JSON line per event on stderr, so stdout stays free for commands whose output is data
 * (`vigil backtest --json`, `vigil check`).
 */
export const rootLogger: Logger = pino(
  {
    level: process.env.VIGIL_LOG_LEVEL ?? 'info',
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  },
  pino.destination({ fd: 2, sync: true }),
);

export function setLogLevel(level: LogLevel): void {
  rootLogger.level = level;
}

export function componentLogger(component: string): Logger {
  return rootLogger.child({ component });
}
