/**
 * Error → HTTP status, by the error's stable code (never its message). One table for the KServe routes; the
 * management adapter keeps its own (it adds 409 for duplicates).
 */
import { ErrorCodes, isSwapLessError } from '@swapless/core';

/** `details.reason` values that mean "no such model/tenant" (404) on an InvalidArgumentError. */
const NOT_FOUND_REASONS = new Set(['unknown-model', 'unknown-tenant']);

/** Seconds a client should wait after a 503 before retrying (sent as `Retry-After`). */
export const RETRY_AFTER_S = 1;

/**
 * The HTTP status of an error: 400 bad request (invalid argument, usage, config, cut), 404 unknown model or
 * tenant (`details.reason` `unknown-model` / `unknown-tenant`), 503 overloaded, shutting down or the Edge TPU delegate unavailable, the error's own
 * 4xx `statusCode` for framework errors (413 body too large, 415 bad media type, 400 bad JSON…), 500 otherwise.
 */
export function httpStatusOf(error: unknown): number {
  if (isSwapLessError(error)) {
    switch (error.code) {
      case ErrorCodes.INVALID_ARGUMENT: {
        const reason = (error.details as { reason?: unknown } | undefined)?.reason;
        return typeof reason === 'string' && NOT_FOUND_REASONS.has(reason) ? 404 : 400;
      }
      case ErrorCodes.USAGE:
      case ErrorCodes.INVALID_CONFIG:
      case ErrorCodes.INVALID_CUT:
        return 400;
      case ErrorCodes.OVERLOADED:
      case ErrorCodes.SHUTTING_DOWN:
      case ErrorCodes.DELEGATE_UNAVAILABLE:
        return 503;
      default:
        return 500;
    }
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  return 500;
}
