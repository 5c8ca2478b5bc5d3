import { Xoshiro128 } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { ExactRecorder, quantileSorted, SKETCH_RELATIVE_ACCURACY, SketchRecorder } from './quantiles.js';

describe('quantiles', () => {
  it('exact quantiles interpolate between order statistics (type 7)', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.95)).toBeCloseTo(3.85, 12);
    expect(quantileSorted([7], 0.99)).toBe(7);
    expect(quantileSorted([], 0.5)).toBeNaN();
    const r = new ExactRecorder();
    for (const v of [5, 1, 4, 2, 3]) r.add(v);
    expect(r.quantile(0.5)).toBe(3);
    r.add(6);
    expect(r.quantile(0.5)).toBe(3.5);
  });

  it('the sketch answers within its relative accuracy of the exact nearest-rank quantile', () => {
    const g = new Xoshiro128(2);
    const exact = new ExactRecorder();
    const sketch = new SketchRecorder();
    for (let i = 0; i < 100_000; i++) {
      // A wide, skewed range: log-normal response times from ~0.01 ms to ~10 s.
      const v = Math.exp(3 * g.normal());
      exact.add(v);
      sketch.add(v);
    }
    const sorted = Array.from({ length: 100_000 }, (_, i) => i); // ranks
    for (const q of [0.01, 0.5, 0.9, 0.95, 0.99, 0.999]) {
      // Nearest-rank value from the exact recorder: the type-7 quantile at an integer rank.
      const rank = Math.round(q * (sorted.length - 1));
      const truth = exact.quantile(rank / (sorted.length - 1));
      expect(Math.abs(sketch.quantile(q) / truth - 1)).toBeLessThanOrEqual(SKETCH_RELATIVE_ACCURACY + 1e-12);
    }
    expect(sketch.count).toBe(100_000);
  });
});
