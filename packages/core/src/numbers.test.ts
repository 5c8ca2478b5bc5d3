import { describe, expect, it } from 'vitest';
import { ErrorCodes, InvalidArgumentError } from './errors.js';
import { positiveInt, quantile } from './numbers.js';

describe('quantile', () => {
  it('interpolates between order statistics by default (type 7, as R and NumPy)', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.95)).toBeCloseTo(3.85, 12);
    expect(quantile([10, 20], 0.25)).toBe(12.5);
    expect(quantile(Float64Array.from([7]), 0.99)).toBe(7);
    expect(quantile([1, 2, 3], 0)).toBe(1);
    expect(quantile([1, 2, 3], 1)).toBe(3);
  });

  it('nearest-rank returns the smallest sample with at least q·n samples at or below it', () => {
    const xs = [10, 20, 30, 40];
    expect(quantile(xs, 0.5, 'nearest-rank')).toBe(20);
    expect(quantile(xs, 0.51, 'nearest-rank')).toBe(30);
    expect(quantile(xs, 0.99, 'nearest-rank')).toBe(40);
    expect(quantile(xs, 0, 'nearest-rank')).toBe(10);
    expect(quantile(xs, 1, 'nearest-rank')).toBe(40);
  });

  it('is NaN for no values, whichever the method', () => {
    expect(quantile([], 0.5)).toBeNaN();
    expect(quantile(new Float64Array(0), 0.5, 'nearest-rank')).toBeNaN();
  });
});

describe('positiveInt', () => {
  it('returns integers at or above the minimum', () => {
    expect(positiveInt(3, 'the cores')).toBe(3);
    expect(positiveInt(0, 'the history limit', 0)).toBe(0);
  });

  it.each([0, -1, 1.5, Number.NaN, '2', null])('refuses %s with SWAPLESS_INVALID_ARGUMENT', (bad) => {
    expect(() => positiveInt(bad, 'the cores')).toThrow(InvalidArgumentError);
    expect(() => positiveInt(bad, 'the cores')).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_ARGUMENT,
        message: expect.stringMatching(/^Expected an integer ≥ 1 for the cores but received /),
      }),
    );
  });

  it('names the minimum it was given', () => {
    expect(() => positiveInt(9, 'the tick', 10)).toThrow(
      'Expected an integer ≥ 10 for the tick but received 9',
    );
  });
});
