/**
 * Error → HTTP status, by the error's stable code (never its message): the one table every HTTP adapter and the
 * server use, so a code means the same status on every route.
 */
import { type ErrorCode, ErrorCodes, isSwapLessError } from './errors.js';

/**
 * `details.reason` values of a request body the HTTP decoding layer refused as such: too large once decoded (413), an
 * encoding it does not speak (415). These stay reasons of an InvalidArgumentError rather than codes: they are
 * transport framing, raised only by `decodingHook` (the same refusals fastify itself answers with its own
 * `statusCode`), not a kind of failure any package below the HTTP adapters can have.
 */
const BODY_REASON_STATUS: Readonly<Record<string, number>> = Object.freeze({
  'body-too-large': 413,
  'unsupported-encoding': 415,
});

/** Every code's status, typed over {@link ErrorCode} so a new code cannot be added without choosing one. */
const STATUS: Readonly<Record<ErrorCode, number>> = {
  [ErrorCodes.INVALID_ARGUMENT]: 400,
  [ErrorCodes.USAGE]: 400,
  [ErrorCodes.INVALID_CONFIG]: 400,
  [ErrorCodes.INVALID_CUT]: 400,
  [ErrorCodes.INVALID_MODEL]: 400,
  [ErrorCodes.UNSUPPORTED_MODEL]: 400,
  [ErrorCodes.MODEL_REJECTED]: 400,
  [ErrorCodes.FORBIDDEN_PATH]: 400,
  [ErrorCodes.HTTP]: 400,
  [ErrorCodes.METHOD_NOT_ALLOWED]: 405,
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.NOT_FOUND]: 404,
  [ErrorCodes.CONFLICT]: 409,
  [ErrorCodes.INTERNAL]: 500,
  [ErrorCodes.NATIVE_LOAD]: 500,
  [ErrorCodes.TFLITE_RUNTIME]: 500,
  [ErrorCodes.INTERPRETER_BUSY]: 500,
  [ErrorCodes.INTERPRETER_DISPOSED]: 500,
  [ErrorCodes.IO]: 500,
  [ErrorCodes.COMPILER_FAILED]: 500,
  [ErrorCodes.COMPILER_TIMEOUT]: 500,
  [ErrorCodes.OVERLOADED]: 503,
  [ErrorCodes.SHED_FOR_SLO]: 503,
  [ErrorCodes.SHUTTING_DOWN]: 503,
  [ErrorCodes.DELEGATE_UNAVAILABLE]: 503,
  [ErrorCodes.DEADLINE_EXCEEDED]: 504,
};

/** Stable code → HTTP status, one entry per code in {@link ErrorCodes} (a code not listed, from elsewhere: 500). */
export const HTTP_STATUS_BY_CODE: Readonly<Record<string, number>> = Object.freeze({ ...STATUS });

/** Seconds a client should wait after a 503 before retrying (sent as `Retry-After`) unless the error says. */
export const RETRY_AFTER_S = 1;

/** Longest `Retry-After` an error may ask for, s. */
const MAX_RETRY_AFTER_S = 3600;

/**
 * The `Retry-After` of a 503, in whole seconds: the error's own `details.retryAfterS` when it gives one (an
 * admission refused by deadline knows how long the queue needs to drain), else {@link RETRY_AFTER_S}; at least 1.
 */
export function retryAfterOf(error: unknown): number {
  const s = isSwapLessError(error) ? (error.details as { retryAfterS?: unknown }).retryAfterS : undefined;
  if (typeof s !== 'number' || !Number.isFinite(s)) return RETRY_AFTER_S;
  return Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil(s)));
}

/**
 * The HTTP status of an error: {@link HTTP_STATUS_BY_CODE} by the stable code alone for SwapLess errors (404
 * `SWAPLESS_NOT_FOUND`, 409 `SWAPLESS_CONFLICT`, …; `details.reason` never changes it, except that a body the
 * decoding layer refused is 413 `body-too-large` / 415 `unsupported-encoding`, transport framing); a
 * framework error's own 4xx/5xx `statusCode` (413 body too large, 415 media type, 400 bad JSON…); else 500.
 */
export function httpStatusOf(error: unknown): number {
  if (isSwapLessError(error)) {
    if (error.code === ErrorCodes.INVALID_ARGUMENT) {
      const reason = (error.details as { reason?: unknown } | undefined)?.reason;
      const body = typeof reason === 'string' && Object.hasOwn(BODY_REASON_STATUS, reason);
      if (body) return BODY_REASON_STATUS[reason as string] as number;
    }
    return HTTP_STATUS_BY_CODE[error.code] ?? 500;
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 600) return status;
  return 500;
}
