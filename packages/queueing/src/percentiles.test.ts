import type { SystemSetup, TenantSetup, TpuStage } from '@swapless/contracts';
import { describe, expect, it } from 'vitest';
import { defaultModel } from './model.js';
import { predictQuantiles, reloadChainScale, responseDistributions } from './percentiles.js';

const tpu = (serviceMs: number, extra: Partial<TpuStage> = {}): TpuStage => ({
  token: 'x',
  serviceMs,
  serviceVarianceMs2: 0,
  reloadMs: 0,
  source: 'emulated',
  ...extra,
});
const onTpu = (name: string, rate: number, stage: TpuStage): TenantSetup => ({
  name,
  rate,
  k: 10,
  n: 10,
  cores: 0,
  tpu: stage,
  cpu: null,
});
const onCpu = (name: string, rate: number, samplesMs: number[], cores = 1, mode: 'mg1' | 'mgc' = 'mg1') => ({
  name,
  rate,
  k: 0,
  n: 10,
  cores,
  tpu: null,
  cpu: { mode, samplesMs, source: 'measured' as const },
});
const sys = (...tenants: TenantSetup[]): SystemSetup => ({ tenants, cores: 4 });

describe('response-time distributions', () => {
  it('M/M/1 (gamma of shape 1 on the Edge TPU): the exact exponential sojourn, quantile −ln(1−p)/(μ−λ)', () => {
    const S = 10;
    const rate = 70; // ρ = 0.7
    const [d] = responseDistributions(sys(onTpu('a', rate, tpu(S, { serviceVarianceMs2: S * S }))));
    const mu = 1 / S;
    const lambda = rate / 1000;
    for (const p of [0.5, 0.9, 0.95, 0.99]) {
      const exact = -Math.log(1 - p) / (mu - lambda);
      expect(Math.abs(d!.quantileMs(p) - exact) / exact).toBeLessThan(0.02);
    }
    expect(d!.meanMs).toBeCloseTo(1 / (mu - lambda), 0);
  });

  it('M/D/1: no wait with probability 1 − ρ, and the Pollaczek–Khinchine mean', () => {
    const S = 10;
    const rate = 40; // ρ = 0.4
    const system = sys(onTpu('a', rate, tpu(S)));
    const [d] = responseDistributions(system);
    expect(d!.cdf(S * 1.01)).toBeGreaterThan(0.6 - 0.01);
    expect(d!.cdf(S * 1.01)).toBeLessThan(0.6 + 0.01);
    expect(d!.cdf(S * 0.99)).toBeLessThan(0.01);
    const mean = defaultModel.predict(system).tenants[0]!.responseMs;
    expect(Math.abs(d!.meanMs - mean) / mean).toBeLessThan(0.005);
    // The median is the service itself; the tail is longer.
    expect(d!.quantileMs(0.5)).toBeCloseTo(S, 1);
    expect(d!.quantileMs(0.99)).toBeGreaterThan(2 * S);
  });

  it('keeps the mean model’s mean with reloads, several tenants and CPU stages (M/G/1 and M/G/c)', () => {
    const samples = Array.from({ length: 40 }, (_, i) => 4 + (i % 7));
    const system = sys(
      onTpu('a', 30, tpu(5, { token: 'a', reloadMs: 3 })),
      onTpu('b', 20, tpu(8, { token: 'b', reloadMs: 4, serviceVarianceMs2: 2 })),
      onCpu('c', 100, samples),
      onCpu('d', 250, samples, 3, 'mgc'),
    );
    const model = defaultModel.predict(system);
    const ds = responseDistributions(system);
    ds.forEach((d, i) => {
      const m = model.tenants[i]!.responseMs;
      // M/G/c's distribution is approximated (exponential given a wait) but its mean is the model's.
      expect(Math.abs(d.meanMs - m) / m).toBeLessThan(0.01);
      expect(d.quantileMs(0.5)).toBeLessThanOrEqual(d.quantileMs(0.95));
      expect(d.quantileMs(0.95)).toBeLessThanOrEqual(d.quantileMs(0.99));
      expect(d.cdf(d.quantileMs(0.95))).toBeCloseTo(0.95, 2);
    });
  });

  it('stretches the Edge TPU wait by the reload chain only when calls of different tokens take turns', () => {
    const call = (w: number, token: string, m: number, r: number, p: number) => ({ w, token, m, v: 0, r, p });
    // One token (a co-compiled set, or one tenant): no reloads between its calls, the draws are independent.
    expect(reloadChainScale([call(0.7, 'x', 2, 3, 0), call(0.3, 'x', 3, 2, 0)], 0.24)).toBe(1);
    expect(reloadChainScale([call(1, 'a', 2, 3, 0)], 0.2)).toBe(1);
    // Two tokens at ρ ≈ 0.79: the runs of alternation slow the tail's decay by 8 % (Lundberg roots 0.114, 0.106).
    const k = reloadChainScale([call(0.76, 'a', 2.2, 3, 0.24), call(0.24, 'b', 2.96, 2.09, 0.76)], 0.2387);
    expect(k).toBeGreaterThan(1.07);
    expect(k).toBeLessThan(1.09);
    // The same mix at a tenth of the load: the wait's tail is short and barely changes.
    const light = reloadChainScale(
      [call(0.76, 'a', 2.2, 3, 0.24), call(0.24, 'b', 2.96, 2.09, 0.76)],
      0.02387,
    );
    expect(light).toBeGreaterThanOrEqual(1);
    expect(light).toBeLessThan(k);
  });

  it('says Infinity for an unstable tenant, and refuses bad levels and grids', () => {
    const system = sys(onTpu('a', 200, tpu(10)), onCpu('b', 1, [5]));
    const [a, b] = predictQuantiles(system, [0.95, 0.99]);
    expect(a!.quantilesMs).toEqual([Infinity, Infinity]);
    expect(b!.quantilesMs.every(Number.isFinite)).toBe(true);
    expect(() => predictQuantiles(system, [1])).toThrow(
      /Expected quantile levels in \(0, 1\) but received 1/,
    );
    expect(() => responseDistributions(system, { gridPoints: 1000 })).toThrow(/power of two/);
    expect(() => responseDistributions({ tenants: [], cores: -1 })).toThrow();
  });
});
