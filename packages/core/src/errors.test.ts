import { describe, expect, it } from 'vitest';
import { describeValue, expected } from './describe.js';
import {
  ConflictError,
  codedError,
  ErrorCodes,
  InternalError,
  InvalidArgumentError,
  InvalidModelError,
  isSwapLessError,
  NativeLoadError,
  NotFoundError,
  OverloadedError,
  SwapLessError,
} from './errors.js';

describe('errors', () => {
  it('keep their stable code, class name and cause', () => {
    const cause = new Error('root');
    const err = new InvalidModelError('bad', { cause, details: { offset: 4 } });
    expect(err).toBeInstanceOf(SwapLessError);
    expect(err.code).toBe('SWAPLESS_INVALID_MODEL');
    expect(err.name).toBe('InvalidModelError');
    expect(err.cause).toBe(cause);
    expect(err.toJSON()).toEqual({
      name: 'InvalidModelError',
      code: 'SWAPLESS_INVALID_MODEL',
      message: 'bad',
      details: { offset: 4 },
    });
  });

  it('recognise SwapLess errors by code, not by class identity', () => {
    const err = new NativeLoadError('no', ['a', 'b']);
    expect(isSwapLessError(err, ErrorCodes.NATIVE_LOAD)).toBe(true);
    expect(isSwapLessError(err, ErrorCodes.INVALID_MODEL)).toBe(false);
    expect(isSwapLessError({ code: 'ENOENT' })).toBe(false);
    expect(err.details.causes).toEqual(['a', 'b']);
  });

  it('skip the stack trace of an expected refusal when asked, and only then', () => {
    const cheap = new OverloadedError('queue full', { stack: false, details: { tenant: 'a' } });
    expect(cheap.stack).toBe('OverloadedError: queue full');
    expect(cheap.details).toEqual({ tenant: 'a' });
    expect(new OverloadedError('queue full').stack).toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBeGreaterThan(0);
  });

  it('declare coded classes with codedError: own name and code, instanceof their class and SwapLessError only', () => {
    class NoSuchWidgetError extends codedError(ErrorCodes.NOT_FOUND) {}
    const err = new NoSuchWidgetError('gone', { details: { reason: 'unknown-widget' } });
    expect(err).toBeInstanceOf(NoSuchWidgetError);
    expect(err).toBeInstanceOf(SwapLessError);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(NotFoundError);
    expect(err.name).toBe('NoSuchWidgetError');
    expect(err.code).toBe('SWAPLESS_NOT_FOUND');
    expect(err.details).toEqual({ reason: 'unknown-widget' });
    expect(NoSuchWidgetError.code).toBe('SWAPLESS_NOT_FOUND');
    // The classes built on it: code and name as before, not one another.
    const notFound = new NotFoundError('x');
    expect([notFound.name, notFound.code]).toEqual(['NotFoundError', 'SWAPLESS_NOT_FOUND']);
    expect(notFound).not.toBeInstanceOf(InvalidArgumentError);
    const conflict = new ConflictError('x');
    expect([conflict.name, conflict.code]).toEqual(['ConflictError', 'SWAPLESS_CONFLICT']);
    const internal = new InternalError('x', { cause: new Error('bug') });
    expect([internal.name, internal.code]).toEqual(['InternalError', 'SWAPLESS_INTERNAL']);
    expect(isSwapLessError(internal, ErrorCodes.INTERNAL)).toBe(true);
    expect(new InvalidArgumentError('x')).not.toBeInstanceOf(InvalidModelError);
  });

  it('every code is unique and prefixed', () => {
    const codes = Object.values(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^SWAPLESS_[A-Z_]+$/);
  });
});

describe('expected()', () => {
  it('formats the house-style message without dumping large values', () => {
    expect(expected('a positive integer', '--threads', -1)).toBe(
      'Expected a positive integer for --threads but received -1',
    );
    expect(describeValue(new Uint8Array(1000))).toBe('a Uint8Array of 1000 bytes');
    expect(describeValue('x'.repeat(100))).toBe('a string of 100 characters');
  });
});
