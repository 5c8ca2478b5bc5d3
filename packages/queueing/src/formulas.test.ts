import { describe, expect, it } from 'vitest';
import { bernoulliExtraMoments, erlangC, mg1WaitMs, mgcWaitMs, perMs, sampleMoments } from './formulas.js';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('closed forms with analytic moments', () => {
  it('M/M/1: Pollaczek–Khinchine with E[S²] = 2E[S]² gives Wq = ρ/(μ − λ)', () => {
    for (const [ratePerS, meanMs] of [
      [10, 20],
      [100, 9.5],
      [0.5, 1000],
    ] as const) {
      const lambda = perMs(ratePerS);
      const rho = lambda * meanMs;
      const mu = 1 / meanMs;
      const exact = rho / (mu - lambda);
      const w = mg1WaitMs(lambda, { meanMs, secondMomentMs2: 2 * meanMs * meanMs });
      expect(rel(w, exact)).toBeLessThan(1e-9);
    }
  });

  it('M/D/1: W = ρS / (2(1 − ρ))', () => {
    const lambda = perMs(120);
    const s = 7;
    const rho = lambda * s;
    expect(
      rel(mg1WaitMs(lambda, { meanMs: s, secondMomentMs2: s * s }), (rho * s) / (2 * (1 - rho))),
    ).toBeLessThan(1e-9);
  });

  it('Erlang-C matches the factorial formula and M/G/c is exact for M/M/c', () => {
    const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
    for (const [c, a] of [
      [1, 0.3],
      [2, 1.5],
      [4, 3.2],
      [8, 2],
    ] as const) {
      let sum = 0;
      for (let k = 0; k < c; k++) sum += a ** k / fact(k);
      const top = (a ** c / fact(c)) * (c / (c - a));
      const exactC = top / (sum + top);
      expect(rel(erlangC(c, a), exactC)).toBeLessThan(1e-9);
      const meanMs = 10;
      const lambda = a / meanMs;
      const wMMc = (exactC * meanMs) / (c - a);
      expect(rel(mgcWaitMs(lambda, { meanMs, secondMomentMs2: 2 * meanMs * meanMs }, c), wMMc)).toBeLessThan(
        1e-9,
      );
    }
  });

  it('M/M/2 against its textbook form Wq = ρ²/(μ(1 − ρ²))', () => {
    const meanMs = 4;
    const lambda = perMs(300);
    const rho = (lambda * meanMs) / 2;
    const exact = (rho * rho * meanMs) / (1 - rho * rho);
    expect(rel(mgcWaitMs(lambda, { meanMs, secondMomentMs2: 2 * meanMs * meanMs }, 2), exact)).toBeLessThan(
      1e-9,
    );
  });

  it('M/G/c at c = 1 is Pollaczek–Khinchine', () => {
    const m = { meanMs: 3, secondMomentMs2: 14 };
    expect(rel(mgcWaitMs(0.2, m, 1), mg1WaitMs(0.2, m))).toBeLessThan(1e-12);
  });

  it('saturation and idle limits: Infinity at ρ ≥ 1, 0 without arrivals', () => {
    expect(mg1WaitMs(0.25, { meanMs: 4, secondMomentMs2: 16 })).toBe(Infinity);
    expect(mgcWaitMs(0.5, { meanMs: 4, secondMomentMs2: 16 }, 2)).toBe(Infinity);
    expect(mg1WaitMs(0, { meanMs: 4, secondMomentMs2: 16 })).toBe(0);
    expect(mgcWaitMs(0, { meanMs: 4, secondMomentMs2: 16 }, 3)).toBe(0);
    expect(erlangC(3, 3)).toBe(1);
    expect(erlangC(3, 0)).toBe(0);
  });
});

describe('moments', () => {
  it('sampleMoments is the empirical (1/n) distribution', () => {
    const m = sampleMoments([1, 2, 3, 6]);
    expect(m.meanMs).toBe(3);
    expect(m.secondMomentMs2).toBe((1 + 4 + 9 + 36) / 4);
  });

  it('bernoulliExtraMoments: S = X + B·r by hand', () => {
    // X: mean 2, variance 0.5; r = 10; p = 0.3. E[S] = 2 + 3 = 5; E[S²] = 0.5 + 4 + 2·2·10·0.3 + 100·0.3 = 46.5.
    const m = bernoulliExtraMoments(2, 0.5, 10, 0.3);
    expect(m.meanMs).toBeCloseTo(5, 12);
    expect(m.secondMomentMs2).toBeCloseTo(46.5, 12);
  });
});
