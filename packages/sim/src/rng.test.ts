import { describe, expect, it } from 'vitest';
import { Xoshiro128 } from './rng.js';

describe('Xoshiro128', () => {
  it('matches the reference xoshiro128** sequence for state (1, 2, 3, 4)', () => {
    // Worked by hand from Blackman & Vigna's reference C code.
    const g = Xoshiro128.fromState(1, 2, 3, 4);
    expect([g.nextUint32(), g.nextUint32(), g.nextUint32()]).toEqual([11520, 0, 5927040]);
  });

  it('is reproducible per (seed, stream) and different across seeds and streams', () => {
    const draw = (seed: number, stream: number) => {
      const g = new Xoshiro128(seed, stream);
      return Array.from({ length: 8 }, () => g.nextUint32());
    };
    expect(draw(1, 0)).toEqual(draw(1, 0));
    expect(draw(1, 0)).not.toEqual(draw(2, 0));
    expect(draw(1, 0)).not.toEqual(draw(1, 1));
    // Seeds beyond 32 bits count too.
    expect(draw(2 ** 40, 0)).not.toEqual(draw(0, 0));
  });

  it('uniforms are in [0, 1) with mean 1/2 and variance 1/12', () => {
    const g = new Xoshiro128(3);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = g.next();
      if (!(u >= 0 && u < 1)) outside++;
      s += u;
      s2 += u * u;
    }
    expect(outside).toBe(0);
    const mean = s / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(s2 / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
  });

  it.each([0.3, 1, 2.5, 40])('gamma(%d) has mean = shape and variance = shape', (shape) => {
    const g = new Xoshiro128(9, 4);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const x = g.gamma(shape);
      min = Math.min(min, x);
      s += x;
      s2 += x * x;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(Math.abs(mean - shape)).toBeLessThan(5 * Math.sqrt(shape / n));
    // Var of the sample variance of a gamma ≈ (μ4 − σ⁴)/n with μ4 = 3k² + 6k.
    expect(Math.abs(variance - shape)).toBeLessThan(
      5 * Math.sqrt((3 * shape * shape + 6 * shape - shape * shape) / n),
    );
  });

  it('exponential and normal have the right first two moments', () => {
    const g = new Xoshiro128(5, 2);
    const n = 200_000;
    let e = 0;
    let z = 0;
    let z2 = 0;
    for (let i = 0; i < n; i++) {
      e += g.exponential();
      const x = g.normal();
      z += x;
      z2 += x * x;
    }
    expect(Math.abs(e / n - 1)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(z / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(z2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });
});
