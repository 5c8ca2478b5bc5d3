// Test-only: the house-style check of a refused argument. Not exported by the package.
import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { expect } from 'vitest';

/** Expects `fn` to throw InvalidArgumentError (code, "Expected X for Y but received Z" form, and `message` if given). */
export function expectInvalid(fn: () => unknown, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidArgumentError);
  const err = caught as InvalidArgumentError;
  expect(err.code).toBe(ErrorCodes.INVALID_ARGUMENT);
  expect(err.message).toMatch(/^Expected .+ for .+ but received .+/);
  if (message) expect(err.message).toMatch(message);
}
