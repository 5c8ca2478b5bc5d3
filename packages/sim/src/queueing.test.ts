// Statistical checks against closed-form queueing results. Seeds are fixed, so every run is identical; the
// tolerances are not hand-tuned but derived from the run itself: 10 independent replications give a standard
// error, and a check passes when theory lies within a 99.9 % Student-t interval (plus, where the empirical
// service distribution only approximates the theoretical one, the exact effect of that difference).
import { describe, expect, it } from 'vitest';
import { simulate } from './simulate.js';
import { cpu, exponentialSamples, moments, replicate, system, T_9_999, tenant, tpu } from './testing.js';

describe('single server', () => {
  it('Edge TPU only, deterministic service: M/D/1 mean wait ρS/(2(1−ρ))', () => {
    const S = 10;
    const rate = 60; // req/s → ρ = 0.6
    const rho = (rate / 1000) * S;
    const theory = (rho * S) / (2 * (1 - rho)); // 7.5 ms
    const sys = system([tenant('a', rate, { tpu: tpu({ serviceMs: S }) })]);
    const { mean, se, results } = replicate(
      sys,
      { requests: 100_000, warmupMs: 10_000 },
      10,
      (r) => r.tenants[0]!.tpuWaitMs,
    );
    expect(se / theory).toBeLessThan(0.02); // the check is tight enough to mean something
    expect(Math.abs(mean - theory)).toBeLessThan(T_9_999 * se);
    // Deterministic service: every call takes exactly S, response = wait + S, utilisation ≈ ρ.
    const r0 = results[0]!.tenants[0]!;
    expect(r0.tpuServiceMs).toBe(S);
    expect(r0.meanResponseMs).toBeCloseTo(r0.tpuWaitMs + S, 9);
    expect(r0.tpuUtilization).toBeGreaterThan(rho - 0.02);
    expect(r0.tpuUtilization).toBeLessThan(rho + 0.02);
  });

  it('Edge TPU with gamma noise: M/G/1 mean wait λE[S²]/(2(1−ρ)) with E[S²] = S² + variance', () => {
    const S = 10;
    const variance = 50;
    const rate = 60;
    const lambda = rate / 1000;
    const theory = (lambda * (S * S + variance)) / (2 * (1 - lambda * S));
    const sys = system([tenant('a', rate, { tpu: tpu({ serviceMs: S, serviceVarianceMs2: variance }) })]);
    const { mean, se, results } = replicate(
      sys,
      { requests: 100_000, warmupMs: 10_000 },
      10,
      (r) => r.tenants[0]!.tpuWaitMs,
    );
    expect(se / theory).toBeLessThan(0.03);
    expect(Math.abs(mean - theory)).toBeLessThan(T_9_999 * se);
    expect(Math.abs(results[0]!.tenants[0]!.tpuServiceMs - S)).toBeLessThan(0.05);
  });

  it('CPU stage with exponential samples: M/M/1 mean response 1/(μ−λ) and exponential quantiles', () => {
    const samples = exponentialSamples(8, 200_000);
    const { mean: es, m2 } = moments(samples);
    const rate = 62.5; // ρ ≈ 0.5
    const lambda = rate / 1000;
    const mm1 = 1 / (1 / es - lambda);
    // The exact M/G/1 value for the empirical distribution; its distance to M/M/1 is the sampling error of E[S²].
    const pk = es + (lambda * m2) / (2 * (1 - lambda * es));
    const sys = system([tenant('a', rate, { cpu: cpu(samples) })]);
    const { mean, se, results } = replicate(
      sys,
      { requests: 100_000, warmupMs: 10_000 },
      10,
      (r) => r.meanResponseMs,
    );
    expect(se / mm1).toBeLessThan(0.02);
    expect(Math.abs(mean - pk)).toBeLessThan(T_9_999 * se);
    expect(Math.abs(mean - mm1)).toBeLessThan(T_9_999 * se + Math.abs(pk - mm1));
    // Response of M/M/1 is exponential with rate μ−λ: p50 = ln 2/(μ−λ), p95 = ln 20/(μ−λ).
    const p50 = results.reduce((s, r) => s + r.tenants[0]!.p50Ms, 0) / results.length;
    const p95 = results.reduce((s, r) => s + r.tenants[0]!.p95Ms, 0) / results.length;
    expect(p50 / (Math.LN2 * mm1)).toBeCloseTo(1, 1);
    expect(p95 / (Math.log(20) * mm1)).toBeCloseTo(1, 1);
    const t = results[0]!.tenants[0]!;
    expect(t.tpuWaitMs).toBe(0);
    expect(t.tpuServiceMs).toBe(0);
    expect(t.swaps).toBe(0);
    expect(Math.abs(t.cpuUtilization - lambda * es)).toBeLessThan(0.02);
  });

  it('M/G/c with c = 2 exponential workers matches Erlang C (M/M/2)', () => {
    const samples = exponentialSamples(10, 200_000, 5);
    const { mean: es } = moments(samples);
    const rate = 150;
    const lambda = rate / 1000;
    const a = lambda * es; // offered load, erlangs
    const rho = a / 2;
    const erlangC = (a * a) / 2 / (1 - rho) / (1 + a + (a * a) / 2 / (1 - rho));
    const theory = es + erlangC / (2 / es - lambda);
    const sys = system([tenant('a', rate, { cpu: cpu(samples, 'mgc'), cores: 2 })]);
    const { mean, se, results } = replicate(
      sys,
      { requests: 100_000, warmupMs: 10_000 },
      10,
      (r) => r.meanResponseMs,
    );
    expect(se / theory).toBeLessThan(0.03);
    // The empirical distribution is not exactly exponential: allow its measured effect on M/G/1's formula.
    const { m2 } = moments(samples);
    const shapeError = Math.abs(m2 / (2 * es * es) - 1) * (theory - es);
    expect(Math.abs(mean - theory)).toBeLessThan(T_9_999 * se + shapeError);
    expect(Math.abs(results[0]!.tenants[0]!.cpuUtilization - rho)).toBeLessThan(0.02);
    // Two workers are not one server at twice the speed: the M/M/1 with μ' = 2μ would give a different mean.
    const fastMm1 = 1 / (2 / es - lambda);
    expect(Math.abs(mean - fastMm1)).toBeGreaterThan(10 * se);
  });
});

describe('caching tokens', () => {
  const p = [0.75, 0.25];
  const rates = [30, 10];

  it('two separately compiled tenants swap on every change of tenant: E[swaps] = 2·p1·p2 per call', () => {
    const sys = system(
      rates.map((r, i) => tenant(`m${i}`, r, { tpu: tpu({ token: `tok${i}`, serviceMs: 1, reloadMs: 2 }) })),
    );
    const res = simulate(sys, { requests: 200_000, seed: 7, initialToken: 'tok0' });
    const n = res.completed;
    // Calls alternate in arrival order, an i.i.d. sequence of tenant labels: an indicator per call of "differs
    // from the previous one", with q = 2·p1·p2 and adjacent indicators correlated (Cov = p1p2 − q²).
    const q = 2 * p[0]! * p[1]!;
    const sd = Math.sqrt(n * (q * (1 - q) + 2 * (p[0]! * p[1]! - q * q)));
    expect(Math.abs(res.swaps - n * q)).toBeLessThan(5 * sd);
    // Per tenant, the observed switch probability is P(previous call is the other tenant) = 1 − λ_i/Λ.
    for (const [i, t] of res.tenants.entries()) {
      const expected = 1 - p[i]!;
      const sdi = Math.sqrt((expected * (1 - expected)) / t.completed);
      expect(Math.abs(t.switchFraction - expected)).toBeLessThan(5 * sdi);
      // Mean TPU service = S + P_switch · reload.
      expect(t.tpuServiceMs).toBeCloseTo(1 + 2 * t.switchFraction, 9);
    }
    expect(res.swaps).toBe(res.tenants[0]!.swaps + res.tenants[1]!.swaps);
  });

  it('co-compiled tenants share a token and never reload', () => {
    const sys = system(
      rates.map((r, i) => tenant(`m${i}`, r, { tpu: tpu({ token: 'shared', serviceMs: 1, reloadMs: 2 }) })),
    );
    const warm = simulate(sys, { requests: 100_000, seed: 7, initialToken: 'shared' });
    expect(warm.swaps).toBe(0);
    expect(warm.tenants.every((t) => t.tpuServiceMs === 1)).toBe(true);
    // From a cold device the very first call loads the shared unit, once.
    const cold = simulate(sys, { requests: 100_000, seed: 7 });
    expect(cold.swaps).toBe(1);
  });

  it('a CPU-only tenant does not touch the device token', () => {
    const sys = system([
      tenant('tpu', 20, { tpu: tpu({ token: 'a', reloadMs: 5 }) }),
      tenant('cpu', 20, { cpu: cpu([1, 2, 3]) }),
    ]);
    const res = simulate(sys, { requests: 50_000, seed: 3, initialToken: 'a' });
    expect(res.swaps).toBe(0);
    expect(res.tenants[1]!.switchFraction).toBe(0);
  });
});
