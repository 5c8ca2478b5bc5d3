import { ErrorCodes } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { syntheticProfile } from './fixtures.test-util.js';
import { monotonicity, partTime, prefixTime, profiledCuts, profiledThreads, suffixTime } from './views.js';

// Suffix time at cut k: (n − k) ms at 1 thread, halved at 2 threads: strictly decreasing in k.
const n = 8;
const decreasing = syntheticProfile([0, 2, 4, 6, 8], n, [1, 2], (k, t) => (n - k) / t);

describe('suffixTime / prefixTime', () => {
  it('return the measurement of the profiled side and thread count', () => {
    expect(suffixTime(decreasing, 2, 1).median).toBe(6);
    expect(suffixTime(decreasing, 2, 2).median).toBe(3);
    expect(suffixTime(decreasing, 2, 2).samples).toHaveLength(5);
    expect(prefixTime(decreasing, 4, 2)).toBe(decreasing.cuts[2]!.prefix!.measurements[1]);
    expect(partTime(decreasing, 6, 'suffix', 1)).toBe(suffixTime(decreasing, 6, 1));
    expect(profiledCuts(decreasing)).toEqual([0, 2, 4, 6, 8]);
    expect(profiledThreads(decreasing)).toEqual([1, 2]);
  });

  it('an empty side costs zero, with `repetitions` zero samples', () => {
    const z = suffixTime(decreasing, n, 2);
    expect(z).toMatchObject({ threads: 2, median: 0, mean: 0, p90: 0 });
    expect(z.samples).toEqual([0, 0, 0, 0, 0]);
    expect(prefixTime(decreasing, 0, 1).median).toBe(0);
  });

  it('an unprofiled cut is InvalidCutError, an unprofiled thread count InvalidArgumentError', () => {
    expect(() => suffixTime(decreasing, 3, 1)).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_CUT,
        message:
          'Expected one of the profiled cut points (0, 2, 4, 6, 8) for a profile of 8 ops but received 3',
      }),
    );
    expect(() => prefixTime(decreasing, 2, 4)).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_ARGUMENT,
        message: 'Expected one of the profiled thread counts (1, 2) for threads but received 4',
      }),
    );
  });
});

describe('monotonicity', () => {
  it('finds nothing when the suffix time falls with k (and the prefix time grows)', () => {
    const r = monotonicity(decreasing);
    expect(r).toEqual({ part: 'suffix', monotone: true, pairs: 6, tolerance: 0.05, violations: [] });
    expect(monotonicity(decreasing, { part: 'prefix' }).monotone).toBe(true);
  });

  it('reports an increase beyond noise, per thread count, between consecutive cuts', () => {
    // At 1 thread the suffix of k = 2 (3 ms) is faster than that of k = 4 (4 ms); at 2 threads all is well.
    const bumpy = syntheticProfile([0, 2, 4, 6], n, [1, 2], (k, t) => (t === 1 && k === 2 ? 3 : (n - k) / t));
    const r = monotonicity(bumpy);
    expect(r.monotone).toBe(false);
    expect(r.pairs).toBe(6);
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]).toMatchObject({ threads: 1, from: 2, to: 4, fromMedian: 3, toMedian: 4 });
    expect(r.violations[0]!.excessMs).toBeCloseTo(1, 9);
    expect(r.violations[0]!.excessRatio).toBeCloseTo(1 / 3, 9);
    // The same profile read as prefixes is fine: prefixes grow with k.
    expect(monotonicity(bumpy, { part: 'prefix' }).monotone).toBe(true);
  });

  it('ignores increases within the tolerance or within overlapping spreads', () => {
    const small = syntheticProfile([0, 2, 4], n, [1], (k) => (k === 2 ? 3.9 : n - k));
    expect(monotonicity(small).monotone).toBe(true);
    expect(monotonicity(small, { tolerance: 0.01 }).monotone).toBe(false);
    // 20 % slower but samples spread ±2 ms: p10 of the later cut is below p90 of the earlier one.
    const noisy = syntheticProfile([0, 2, 4], n, [1], (k) => (k === 2 ? 3.3 : n - k), 1);
    expect(monotonicity(noisy).monotone).toBe(true);
  });

  it('refuses a bad part or tolerance', () => {
    expect(() => monotonicity(decreasing, { part: 'middle' as 'suffix' })).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }),
    );
    expect(() => monotonicity(decreasing, { tolerance: -1 })).toThrow(/options.tolerance/);
  });
});
