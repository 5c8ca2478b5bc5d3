import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  DeadlineExceededError,
  DelegateUnavailableError,
  ErrorCodes,
  ForbiddenError,
  InternalError,
  InvalidArgumentError,
  InvalidConfigError,
  InvalidModelError,
  NotFoundError,
  OverloadedError,
  ShuttingDownError,
  SwapLessIoError,
  UnauthorizedError,
  UnsupportedModelError,
} from './errors.js';
import { HTTP_STATUS_BY_CODE, httpStatusOf, RETRY_AFTER_S, retryAfterOf } from './http-status.js';

describe('httpStatusOf', () => {
  it('maps stable codes, not messages', () => {
    expect(httpStatusOf(new InvalidArgumentError('x'))).toBe(400);
    expect(httpStatusOf(new InvalidConfigError('x', ['a: b']))).toBe(400);
    expect(httpStatusOf(new InvalidModelError('x'))).toBe(400);
    expect(httpStatusOf(new UnsupportedModelError('x'))).toBe(400);
    expect(httpStatusOf(new OverloadedError('x'))).toBe(503);
    expect(httpStatusOf(new ShuttingDownError('x'))).toBe(503);
    expect(httpStatusOf(new DelegateUnavailableError('x'))).toBe(503);
    expect(httpStatusOf(new UnauthorizedError('x'))).toBe(401);
    expect(httpStatusOf(new ForbiddenError('x'))).toBe(403);
    expect(httpStatusOf(new DeadlineExceededError('x'))).toBe(504);
    expect(httpStatusOf(new SwapLessIoError('not found'))).toBe(500);
  });

  it('has one status for every code, 404 for not-found and 409 for conflict', () => {
    expect(Object.keys(HTTP_STATUS_BY_CODE).sort()).toEqual(Object.values(ErrorCodes).sort());
    expect(HTTP_STATUS_BY_CODE[ErrorCodes.NOT_FOUND]).toBe(404);
    expect(HTTP_STATUS_BY_CODE[ErrorCodes.CONFLICT]).toBe(409);
    expect(HTTP_STATUS_BY_CODE[ErrorCodes.INTERNAL]).toBe(500);
    expect(httpStatusOf(new NotFoundError('x', { details: { reason: 'unknown-tenant' } }))).toBe(404);
    expect(httpStatusOf(new ConflictError('x', { details: { reason: 'core-budget' } }))).toBe(409);
    expect(httpStatusOf(new InternalError('x'))).toBe(500);
    expect(httpStatusOf({ code: 'SWAPLESS_FROM_A_NEWER_VERSION', message: 'x' })).toBe(500);
  });

  it('derives the status from the code alone, not from details.reason', () => {
    const arg = (reason: string) => new InvalidArgumentError('x', { details: { reason } });
    // The reasons that once meant 404/409 on an InvalidArgumentError are only detail now.
    for (const reason of [
      'unknown-model',
      'unknown-tenant',
      'duplicate-tenant',
      'core-budget',
      'something-else',
    ])
      expect(httpStatusOf(arg(reason))).toBe(400);
    expect(httpStatusOf(new NotFoundError('x', { details: { reason: 'duplicate-tenant' } }))).toBe(404);
    // A body the HTTP decoding layer refused keeps its transport status.
    expect(httpStatusOf(arg('body-too-large'))).toBe(413);
    expect(httpStatusOf(arg('unsupported-encoding'))).toBe(415);
    expect(httpStatusOf(new InvalidArgumentError('x', { details: { reason: 'toString' } }))).toBe(400);
  });

  it("keeps a framework error's own status and hides everything else behind 500", () => {
    expect(httpStatusOf(Object.assign(new Error('too large'), { statusCode: 413 }))).toBe(413);
    expect(httpStatusOf(Object.assign(new Error('odd'), { statusCode: 99 }))).toBe(500);
    expect(httpStatusOf(new Error('boom'))).toBe(500);
    expect(httpStatusOf(null)).toBe(500);
    expect(httpStatusOf('text')).toBe(500);
  });
});

describe('retryAfterOf', () => {
  it("uses the error's own details.retryAfterS in whole seconds, at least 1, else the default", () => {
    const after = (retryAfterS: unknown) => new OverloadedError('x', { details: { retryAfterS } });
    expect(retryAfterOf(after(2.2))).toBe(3);
    expect(retryAfterOf(after(0.01))).toBe(1);
    expect(retryAfterOf(after(1e9))).toBe(3600);
    expect(retryAfterOf(after('5'))).toBe(RETRY_AFTER_S);
    expect(retryAfterOf(after(Number.NaN))).toBe(RETRY_AFTER_S);
    expect(retryAfterOf(new OverloadedError('x'))).toBe(RETRY_AFTER_S);
    expect(retryAfterOf(new Error('x'))).toBe(RETRY_AFTER_S);
  });
});
