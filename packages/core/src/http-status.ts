/**
 * Error → HTTP status, by the error's stable code (never its message): the one table every HTTP adapter and the
 * server use, so a code means the same status on every route.
 */
import { ErrorCodes, isSwapLessError } from './errors.js';

/** `details.reason` values of an InvalidArgumentError that mean "no such thing" (404). */
const NOT_FOUND_REASONS: ReadonlySet<string> = new Set(['unknown-model', 'unknown-tenant']);
/** `details.reason` values that mean "conflicts with the current state" (409): name taken, no cores left. */
const CONFLICT_REASONS: ReadonlySet<string> = new Set(['duplicate-tenant', 'core-budget']);
/** `details.reason` values of a request body refused as such: too large once decoded (413), an encoding not spoken (415). */
const BODY_REASON_STATUS: Readonly<Record<string, number>> = Object.freeze({
  'body-too-large': 413,
  'unsupported-encoding': 415,
});

/** Stable code → HTTP status (codes not listed: 500). */
export const HTTP_STATUS_BY_CODE: Readonly<Record<string, number>> = Object.freeze({
  [ErrorCodes.INVALID_ARGUMENT]: 400,
  [ErrorCodes.USAGE]: 400,
  [ErrorCodes.INVALID_CONFIG]: 400,
  [ErrorCodes.INVALID_CUT]: 400,
  [ErrorCodes.INVALID_MODEL]: 400,
  [ErrorCodes.UNSUPPORTED_MODEL]: 400,
  [ErrorCodes.MODEL_REJECTED]: 400,
  [ErrorCodes.FORBIDDEN_PATH]: 400,
  [ErrorCodes.UNAUTHORIZED]: 401,
  [ErrorCodes.FORBIDDEN]: 403,
  [ErrorCodes.OVERLOADED]: 503,
  [ErrorCodes.SHUTTING_DOWN]: 503,
  [ErrorCodes.DELEGATE_UNAVAILABLE]: 503,
  [ErrorCodes.DEADLINE_EXCEEDED]: 504,
});

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
 * The HTTP status of an error: {@link HTTP_STATUS_BY_CODE} for SwapLess errors, where an InvalidArgumentError whose
 * `details.reason` says the thing is unknown (`unknown-model`, `unknown-tenant`) is 404 and one that conflicts with
 * the current state (`duplicate-tenant`, `core-budget`) is 409, a body too large once decoded (`body-too-large`) 413
 * and a body in an unsupported encoding (`unsupported-encoding`) 415; a framework error's own 4xx/5xx `statusCode` (413
 * body too large, 415 media type, 400 bad JSON…); else 500.
 */
export function httpStatusOf(error: unknown): number {
  if (isSwapLessError(error)) {
    if (error.code === ErrorCodes.INVALID_ARGUMENT) {
      const reason = (error.details as { reason?: unknown } | undefined)?.reason;
      if (typeof reason === 'string' && NOT_FOUND_REASONS.has(reason)) return 404;
      if (typeof reason === 'string' && CONFLICT_REASONS.has(reason)) return 409;
      if (typeof reason === 'string' && BODY_REASON_STATUS[reason] !== undefined)
        return BODY_REASON_STATUS[reason];
    }
    return HTTP_STATUS_BY_CODE[error.code] ?? 500;
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 600) return status;
  return 500;
}
