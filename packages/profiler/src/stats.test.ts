import { ErrorCodes } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { summarize } from './stats.js';

describe('summarize', () => {
  it('computes median, mean, sample std, extremes and type-7 percentiles, keeping sample order', () => {
    const m = summarize(2, [5, 1, 4, 2, 3]);
    expect(m.threads).toBe(2);
    expect(m.samples).toEqual([5, 1, 4, 2, 3]);
    expect(m.median).toBe(3);
    expect(m.mean).toBe(3);
    expect(m.std).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(m.min).toBe(1);
    expect(m.max).toBe(5);
    expect(m.p10).toBeCloseTo(1.4, 12);
    expect(m.p90).toBeCloseTo(4.6, 12);
  });

  it('takes the mean of the two middle samples for an even count and std 0 for one sample', () => {
    expect(summarize(1, [4, 1, 3, 2]).median).toBe(2.5);
    const one = summarize(1, [7]);
    expect([one.median, one.std, one.p10, one.p90]).toEqual([7, 0, 7, 7]);
  });

  it('refuses empty, NaN, infinite and negative samples with SWAPLESS_INVALID_ARGUMENT', () => {
    for (const bad of [[], [1, Number.NaN], [Number.POSITIVE_INFINITY], [-1]]) {
      expect(() => summarize(1, bad)).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }));
    }
  });
});
