/**
 * Structured logs (pino): one JSON object per line on stderr by default, so stdout stays free for the plain-text
 * startup banner. Request logging is off on the hot path; errors are logged by the server's own hooks.
 */
import { type Logger, pino } from 'pino';
import type { LogLevel } from './config.js';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level: LogLevel;
  /** `stderr`, `stdout`, or a file path (appended, folders created). */
  destination: string;
}

/** Where a credential can sit in a log line (request objects as fastify and pino serialise them, raw headers). */
export const REDACTED_PATHS: string[] = [
  'authorization',
  ...['authorization', 'cookie'].flatMap((h) => [
    `headers.${h}`,
    `req.headers.${h}`,
    `request.headers.${h}`,
    `*.headers.${h}`,
  ]),
];

/** A pino logger at `level` writing to `destination`, with ISO timestamps. */
export function createLogger(options: LoggerOptions): Logger {
  const dest =
    options.destination === 'stdout'
      ? pino.destination({ dest: 1, sync: false })
      : options.destination === 'stderr'
        ? pino.destination({ dest: 2, sync: false })
        : pino.destination({ dest: options.destination, append: true, mkdir: true, sync: false });
  return pino(
    {
      level: options.level,
      name: 'swapless-server',
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { pid: process.pid },
      // Credentials never reach the log, whatever a hook or an error serialiser puts in a line.
      redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
    },
    dest,
  );
}

/**
 * Writes what the logger has buffered (asynchronous destinations) synchronously, for the moments right before
 * `process.exit()`, which would drop it.
 */
export function flushLogger(logger: Logger): void {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | { flushSync?: () => void }
    | undefined;
  try {
    if (typeof stream?.flushSync === 'function') stream.flushSync();
    else logger.flush();
  } catch {
    // A destination that is not open yet has nothing buffered.
  }
}
