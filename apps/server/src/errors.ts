/**
 * Error → HTTP, in one place for the routes the server owns (`/`, unknown URLs) and for anything an adapter
 * lets through: the status comes from the error's stable `code` (never its message), the body is the KServe
 * error shape `{ "error": "<message>" }` plus the code, and nothing a client sends can crash the process.
 */
import {
  allowedMethods,
  ErrorCodes,
  HTTP_STATUS_BY_CODE,
  httpStatusOf,
  isSwapLessError,
  JSON_CONTENT_TYPE,
  methodNotAllowedMessage,
  RETRY_AFTER_S,
  retryAfterOf,
} from '@swapless/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RejectionLog } from './rejections.js';

export { RETRY_AFTER_S };

/** Stable code → HTTP status: the project-wide table of `@swapless/core`. */
export const STATUS_BY_CODE = HTTP_STATUS_BY_CODE;

/** The HTTP status of an error (`@swapless/core`'s {@link httpStatusOf}: by its stable code alone). */
export const statusOf: (error: unknown) => number = httpStatusOf;

/** The JSON body of an error response. */
export function errorBody(error: unknown, status: number): { error: string; code: string } {
  if (isSwapLessError(error)) return { error: error.message, code: error.code };
  const e = error as Partial<FastifyError> | null;
  // A 5xx that is not ours is a bug: its message may leak internals, so say only what happened.
  if (status >= 500)
    return { error: 'Internal server error (see the server log)', code: ErrorCodes.INTERNAL };
  return { error: e?.message ?? String(error), code: typeof e?.code === 'string' ? e.code : ErrorCodes.HTTP };
}

/**
 * Installs the server-wide error handling on `app`: an error handler (status by code, KServe error body with
 * `Content-Type: application/json`, `Retry-After` on 503) and an `onError` hook that logs 5xx at error level and
 * 4xx at debug — request logging is off, so this is where failures reach the log, including those of adapters
 * with their own handlers. Expected refusals (503, 504) go to `rejections` when given (one warn line per class per
 * second, no stack), else at debug. Also a not-found handler in the same shape: 405 with `Allow` for a path that
 * exists with other methods, else 404.
 */
export function installErrorHandling(app: FastifyInstance, rejections?: RejectionLog): void {
  app.addHook('onError', async (request: FastifyRequest, _reply: FastifyReply, error: FastifyError) => {
    const status = statusOf(error);
    if (status === 503 || status === 504) {
      const code = typeof error.code === 'string' ? error.code : ErrorCodes.HTTP;
      if (rejections !== undefined) rejections.record(status, code, error.message);
      else request.log.debug({ code, url: request.url, status }, error.message);
    } else if (status >= 500)
      request.log.error({ err: error, url: request.url, method: request.method }, error.message);
    else
      request.log.debug({ code: (error as { code?: string }).code, url: request.url, status }, error.message);
  });
  app.setErrorHandler((error, _request, reply) => {
    const status = statusOf(error);
    if (status === 503) void reply.header('Retry-After', String(retryAfterOf(error)));
    return sendJsonError(reply, status, errorBody(error, status));
  });
  app.setNotFoundHandler((request, reply) => {
    // A known path with another method: 405 naming the methods it has.
    const allowed = allowedMethods(request.server, request.url);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendJsonError(reply, 405, {
        error: methodNotAllowedMessage(request.method, request.url, allowed),
        code: ErrorCodes.METHOD_NOT_ALLOWED,
      });
    }
    return sendJsonError(reply, 404, {
      error: `Expected a known route but received ${request.method} ${request.url.split('?')[0]} (see GET / for the list)`,
      code: ErrorCodes.NOT_FOUND,
    });
  });
}

/** An error body with exactly `application/json` (as bytes: fastify appends a charset to a JSON string body). */
function sendJsonError(reply: FastifyReply, status: number, body: object): FastifyReply {
  return reply
    .code(status)
    .header('content-type', JSON_CONTENT_TYPE)
    .send(Buffer.from(JSON.stringify(body)));
}
