import { describe, expect, it } from 'vitest';
import {
  DeadlineExceededError,
  DelegateUnavailableError,
  ForbiddenError,
  InvalidArgumentError,
  InvalidConfigError,
  InvalidModelError,
  OverloadedError,
  ShuttingDownError,
  SwapLessIoError,
  UnauthorizedError,
  UnsupportedModelError,
} from './errors.js';
import { httpStatusOf, RETRY_AFTER_S, retryAfterOf } from './http-status.js';

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

  it('tells unknown (404) and conflicting (409) arguments apart by details.reason', () => {
    const arg = (reason: string) => new InvalidArgumentError('x', { details: { reason } });
    expect(httpStatusOf(arg('unknown-model'))).toBe(404);
    expect(httpStatusOf(arg('unknown-tenant'))).toBe(404);
    expect(httpStatusOf(arg('duplicate-tenant'))).toBe(409);
    expect(httpStatusOf(arg('core-budget'))).toBe(409);
    expect(httpStatusOf(arg('body-too-large'))).toBe(413);
    expect(httpStatusOf(arg('unsupported-encoding'))).toBe(415);
    expect(httpStatusOf(arg('something-else'))).toBe(400);
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
