/**
 * Error → HTTP, in one place for the routes the server owns (`/`, unknown URLs) and for anything an adapter
 * lets through: the status comes from the error's stable `code` (never its message), the body is the KServe
 * error shape `{ "error": "<message>" }` plus the code, and nothing a client sends can crash the process.
 */
import { ErrorCodes, isSwapLessError } from '@swapless/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** `details.reason` values of an InvalidArgumentError that mean "no such thing" (404). */
const NOT_FOUND = new Set(['unknown-model', 'unknown-tenant']);
/** `details.reason` values that mean "conflicts with the current state" (409): name taken, no cores left. */
const CONFLICT = new Set(['duplicate-tenant', 'core-budget']);

/** Stable code → HTTP status (codes not listed: 500). */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = Object.freeze({
  [ErrorCodes.INVALID_ARGUMENT]: 400,
  [ErrorCodes.USAGE]: 400,
  [ErrorCodes.INVALID_CONFIG]: 400,
  [ErrorCodes.INVALID_CUT]: 400,
  [ErrorCodes.INVALID_MODEL]: 400,
  [ErrorCodes.UNSUPPORTED_MODEL]: 400,
  [ErrorCodes.OVERLOADED]: 503,
  [ErrorCodes.SHUTTING_DOWN]: 503,
  [ErrorCodes.DELEGATE_UNAVAILABLE]: 503,
});

/** Seconds a client should wait after a 503 (sent as `Retry-After`). */
export const RETRY_AFTER_S = 1;

/**
 * The HTTP status of an error: by stable code ({@link STATUS_BY_CODE}; an InvalidArgumentError whose
 * `details.reason` says the thing is unknown → 404, already exists or no cores are left → 409), a framework
 * error's own 4xx `statusCode` (413 body too large, 415 media type, 400 bad JSON…), else 500.
 */
export function statusOf(error: unknown): number {
  if (isSwapLessError(error)) {
    if (error.code === ErrorCodes.INVALID_ARGUMENT) {
      const reason = (error.details as { reason?: unknown } | undefined)?.reason;
      if (typeof reason === 'string' && NOT_FOUND.has(reason)) return 404;
      if (typeof reason === 'string' && CONFLICT.has(reason)) return 409;
    }
    return STATUS_BY_CODE[error.code] ?? 500;
  }
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 600) return status;
  return 500;
}

/** The JSON body of an error response. */
export function errorBody(error: unknown, status: number): { error: string; code: string } {
  if (isSwapLessError(error)) return { error: error.message, code: error.code };
  const e = error as Partial<FastifyError> | null;
  // A 5xx that is not ours is a bug: its message may leak internals, so say only what happened.
  if (status >= 500)
    return { error: 'Internal server error (see the server log)', code: 'SWAPLESS_INTERNAL' };
  return { error: e?.message ?? String(error), code: typeof e?.code === 'string' ? e.code : 'SWAPLESS_HTTP' };
}

/**
 * Installs the server-wide error handling on `app`: an error handler (status by code, KServe error body,
 * `Retry-After` on 503) and an `onError` hook that logs 5xx at error level and 4xx at debug — request
 * logging is off, so this is where failures reach the log, including those of adapters with their own
 * handlers. Also a 404 handler in the same shape.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.addHook('onError', async (request: FastifyRequest, _reply: FastifyReply, error: FastifyError) => {
    const status = statusOf(error);
    if (status >= 500)
      request.log.error({ err: error, url: request.url, method: request.method }, error.message);
    else
      request.log.debug({ code: (error as { code?: string }).code, url: request.url, status }, error.message);
  });
  app.setErrorHandler((error, _request, reply) => {
    const status = statusOf(error);
    if (status === 503) void reply.header('Retry-After', String(RETRY_AFTER_S));
    return reply.code(status).send(errorBody(error, status));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: `Expected a known route but received ${request.method} ${request.url.split('?')[0]} (see GET / for the list)`,
      code: 'SWAPLESS_NOT_FOUND',
    }),
  );
}
