import type { CpuStage, SystemSetup, TenantSetup, TpuStage } from '@swapless/contracts';
import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { analyzeTpu, createDefaultModel, DEFAULT_MODEL_NAME, defaultModel } from './model.js';
import { SystemErrorReasons } from './validate.js';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const close = (a: number, b: number) => expect(rel(a, b)).toBeLessThan(1e-9);
const tpu = (token: string, serviceMs: number, reloadMs = 0, serviceVarianceMs2 = 0): TpuStage => ({
  token,
  serviceMs,
  serviceVarianceMs2,
  reloadMs,
  source: 'emulated',
});
const cpu = (samplesMs: number[], mode: 'mg1' | 'mgc' = 'mg1'): CpuStage => ({
  mode,
  samplesMs,
  source: 'measured',
});
/** A tenant with only a TPU stage (k = n). */
const tpuOnly = (name: string, rate: number, stage: TpuStage): TenantSetup => ({
  name,
  rate,
  k: 10,
  n: 10,
  cores: 0,
  tpu: stage,
  cpu: null,
});
/** A tenant with only a CPU stage (k = 0). */
const cpuOnly = (name: string, rate: number, stage: CpuStage, cores = 1): TenantSetup => ({
  name,
  rate,
  k: 0,
  n: 10,
  cores,
  tpu: null,
  cpu: stage,
});

describe('default model: closed-form agreement (1e-9 relative)', () => {
  it('M/D/1 Edge TPU, single tenant: W = ρS/(2(1 − ρ))', () => {
    const p = defaultModel.predict({ cores: 0, tenants: [tpuOnly('a', 100, tpu('t', 4, 50))] });
    const rho = 0.1 * 4;
    const t = p.tenants[0]!;
    close(t.tpuWaitMs, (rho * 4) / (2 * (1 - rho)));
    close(t.responseMs, (rho * 4) / (2 * (1 - rho)) + 4);
    expect(t.switchProbability).toBe(0); // alone with its token: never reloads
    close(t.tpuUtilization, rho);
    expect(p.model).toBe(DEFAULT_MODEL_NAME);
    expect(p.stable).toBe(true);
    close(p.meanResponseMs, t.responseMs);
  });

  it('M/M/1 Edge TPU (exponential service: variance = mean²): Wq = ρ/(μ − λ)', () => {
    const s = 5;
    const p = defaultModel.predict({ cores: 0, tenants: [tpuOnly('a', 150, tpu('t', s, 0, s * s))] });
    const lambda = 0.15;
    const rho = lambda * s;
    close(p.tenants[0]!.tpuWaitMs, rho / (1 / s - lambda));
  });

  it('M/D/1 CPU stage (identical samples), mg1 and mgc at 1 core agree', () => {
    const system = (mode: 'mg1' | 'mgc'): SystemSetup => ({
      cores: 1,
      tenants: [cpuOnly('c', 80, cpu([6, 6, 6], mode))],
    });
    const rho = 0.08 * 6;
    for (const mode of ['mg1', 'mgc'] as const) {
      const t = defaultModel.predict(system(mode)).tenants[0]!;
      close(t.cpuWaitMs, (rho * 6) / (2 * (1 - rho)));
      close(t.cpuUtilization, rho);
      close(t.responseMs, (rho * 6) / (2 * (1 - rho)) + 6);
      expect(t.tpuWaitMs).toBe(0);
    }
  });

  it('CPU M/G/1 from samples: E[S²] is the empirical second moment', () => {
    const samples = [2, 4, 9];
    const m1 = 5;
    const m2 = (4 + 16 + 81) / 3;
    const lambda = 0.1;
    const t = defaultModel.predict({ cores: 2, tenants: [cpuOnly('c', 100, cpu(samples), 2)] }).tenants[0]!;
    close(t.cpuWaitMs, (lambda * m2) / (2 * (1 - lambda * m1)));
    close(t.cpuServiceMs, m1);
  });

  it('CPU M/G/c: Erlang-C scaled by (1 + C²)/2, c = cores', () => {
    // Samples 2 and 6: E[S] = 4, E[S²] = 20, C² = 20/16 − 1 = 0.25. λ = 0.3/ms, a = 1.2, c = 2.
    const t = defaultModel.predict({ cores: 2, tenants: [cpuOnly('c', 300, cpu([2, 6], 'mgc'), 2)] })
      .tenants[0]!;
    const a = 1.2;
    const erlangC = (a * a) / 2 / (1 - a / 2) / (1 + a + (a * a) / 2 / (1 - a / 2));
    close(t.cpuWaitMs, ((erlangC * 4) / (2 - a)) * ((1 + 0.25) / 2));
    close(t.cpuUtilization, 0.6);
  });

  it('multi-class Pollaczek–Khinchine for two classes sharing one token, by hand', () => {
    // λ1 = 0.05, S1 = 4 (var 1) → E[S1²] = 17; λ2 = 0.02, S2 = 10 (var 0) → E[S2²] = 100.
    // ρ = 0.2 + 0.2 = 0.4; Λ·E[S²] = 0.05·17 + 0.02·100 = 2.85; W = 2.85 / 1.2 = 2.375.
    const p = defaultModel.predict({
      cores: 0,
      tenants: [tpuOnly('a', 50, tpu('shared', 4, 30, 1)), tpuOnly('b', 20, tpu('shared', 10, 30))],
    });
    for (const t of p.tenants) {
      close(t.tpuWaitMs, 2.375);
      expect(t.switchProbability).toBe(0);
      close(t.tpuUtilization, 0.4);
    }
    close(p.tenants[0]!.responseMs, 2.375 + 4);
    close(p.tenants[1]!.responseMs, 2.375 + 10);
    close(p.meanResponseMs, (50 * 6.375 + 20 * 12.375) / 70);
  });

  it('the switch term by hand: two tokens, p_i = 1 − λ_i/Λ', () => {
    // λa = 0.03, Sa = 2, ra = 8; λb = 0.01, Sb = 5, rb = 20. Λ = 0.04, pa = 0.25, pb = 0.75.
    // E[Sa] = 2 + 2 = 4;  E[Sa²] = 4 + 2·2·8·0.25 + 64·0.25 = 28.
    // E[Sb] = 5 + 15 = 20; E[Sb²] = 25 + 2·5·20·0.75 + 400·0.75 = 475.
    // ρ = 0.03·4 + 0.01·20 = 0.32; Λ·E[S²] = 0.03·28 + 0.01·475 = 5.59; W = 5.59 / 1.36.
    const p = defaultModel.predict({
      cores: 0,
      tenants: [tpuOnly('a', 30, tpu('ta', 2, 8)), tpuOnly('b', 10, tpu('tb', 5, 20))],
    });
    const w = 5.59 / 1.36;
    const [a, b] = p.tenants;
    close(a!.switchProbability, 0.25);
    close(b!.switchProbability, 0.75);
    close(a!.tpuServiceMs, 4);
    close(b!.tpuServiceMs, 20);
    close(a!.tpuWaitMs, w);
    close(b!.responseMs, w + 20);
    close(a!.tpuUtilization, 0.32);
  });

  it('co-compiled tenants share a token: p uses the token group rate', () => {
    const tpuA = analyzeTpu({
      cores: 0,
      tenants: [
        tpuOnly('x', 30, tpu('xy', 1, 5)),
        tpuOnly('y', 10, tpu('xy', 1, 5)),
        tpuOnly('z', 60, tpu('z', 1, 5)),
      ],
    });
    close(tpuA.classes[0]!.switchProbability, 0.6);
    close(tpuA.classes[1]!.switchProbability, 0.6);
    close(tpuA.classes[2]!.switchProbability, 0.4);
  });

  it('full response adds TPU and CPU stages; CPU-only tenants do not load the Edge TPU', () => {
    const p = defaultModel.predict({
      cores: 3,
      tenants: [
        { name: 'a', rate: 50, k: 4, n: 10, cores: 2, tpu: tpu('t', 2), cpu: cpu([3, 5]) },
        cpuOnly('c', 1000, cpu([0.5]), 1),
      ],
    });
    const [a, c] = p.tenants;
    close(a!.tpuUtilization, 0.1);
    const wT = (0.05 * 4) / (2 * 0.9);
    const wC = (0.05 * 17) / (2 * (1 - 0.2));
    close(a!.responseMs, wT + 2 + wC + 4);
    expect(c!.tpuWaitMs).toBe(0);
    expect(c!.tpuServiceMs).toBe(0);
    close(p.meanResponseMs, (50 * a!.responseMs + 1000 * c!.responseMs) / 1050);
  });
});

describe('default model: instability, never NaN', () => {
  it('Edge TPU ρ ≥ 1: every TPU tenant Infinity with the reason; CPU-only tenants stay finite', () => {
    const p = defaultModel.predict({
      cores: 1,
      tenants: [tpuOnly('a', 300, tpu('t', 4)), cpuOnly('c', 10, cpu([1]))],
    });
    expect(p.stable).toBe(false);
    expect(p.meanResponseMs).toBe(Infinity);
    const [a, c] = p.tenants;
    expect(a!.responseMs).toBe(Infinity);
    expect(a!.unstable).toEqual({ stage: 'tpu', utilization: 1.2, reason: 'Edge TPU utilisation 1.200 ≥ 1' });
    expect(c!.unstable).toBeUndefined();
    expect(Number.isFinite(c!.responseMs)).toBe(true);
  });

  it('exactly ρ = 1 is unstable', () => {
    const p = defaultModel.predict({ cores: 0, tenants: [tpuOnly('a', 250, tpu('t', 4))] });
    expect(p.tenants[0]!.unstable?.stage).toBe('tpu');
  });

  it('CPU ρ ≥ 1 and a CPU stage with 0 cores are unstable at the CPU', () => {
    const p = defaultModel.predict({
      cores: 1,
      tenants: [cpuOnly('hot', 100, cpu([10]), 1), cpuOnly('starved', 0, cpu([1]), 0)],
    });
    expect(p.tenants[0]!.unstable?.stage).toBe('cpu');
    expect(p.tenants[0]!.unstable?.utilization).toBe(1);
    expect(p.tenants[1]!.unstable).toMatchObject({ stage: 'cpu', utilization: Infinity });
    expect(p.tenants[1]!.unstable?.reason).toMatch(/0 cores/);
    expect(p.meanResponseMs).toBe(Infinity);
    for (const t of p.tenants)
      for (const v of Object.values(t)) if (typeof v === 'number') expect(v).not.toBeNaN();
  });

  it('every rate 0: finite responses, the objective is the plain mean', () => {
    const p = defaultModel.predict({
      cores: 1,
      tenants: [tpuOnly('a', 0, tpu('t', 4, 9)), cpuOnly('c', 0, cpu([2]))],
    });
    expect(p.tenants.map((t) => t.responseMs)).toEqual([4, 2]);
    expect(p.meanResponseMs).toBe(3);
    expect(p.tenants[0]!.switchProbability).toBe(0);
  });

  it("raising one tenant's own rate can lower its response (fewer reloads): why monotonicity is checked at a fixed mix", () => {
    const sys = (rateB: number): SystemSetup => ({
      cores: 0,
      tenants: [tpuOnly('a', 1, tpu('ta', 1)), tpuOnly('b', rateB, tpu('tb', 1, 100))],
    });
    const before = defaultModel.predict(sys(1)).tenants[1]!.responseMs;
    const after = defaultModel.predict(sys(2)).tenants[1]!.responseMs;
    expect(after).toBeLessThan(before);
  });
});

describe('default model: input validation', () => {
  const valid = (): SystemSetup => ({
    cores: 2,
    tenants: [{ name: 'a', rate: 10, k: 3, n: 8, cores: 2, tpu: tpu('t', 2), cpu: cpu([1, 2]) }],
  });
  const fail = (mutate: (s: { cores: number; tenants: Record<string, unknown>[] }) => void) => {
    const s = structuredClone(valid()) as unknown as { cores: number; tenants: Record<string, unknown>[] };
    mutate(s);
    try {
      defaultModel.predict(s as unknown as SystemSetup);
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
      return e as InvalidArgumentError;
    }
    throw new Error('expected a throw');
  };

  it('negative, NaN and infinite rates, in house style', () => {
    expect(fail((s) => (s.tenants[0]!.rate = -1)).message).toBe(
      'Expected a finite rate ≥ 0 (requests/s) for system.tenants[0].rate but received -1',
    );
    expect(fail((s) => (s.tenants[0]!.rate = Number.NaN)).message).toMatch(/received NaN$/);
    expect(fail((s) => (s.tenants[0]!.rate = Infinity)).message).toMatch(/received Infinity$/);
  });

  it('empty or non-finite samples, bad modes, bad stages', () => {
    expect(fail((s) => ((s.tenants[0]!.cpu as CpuStage).samplesMs = [])).message).toBe(
      'Expected a non-empty array of service times (ms) for system.tenants[0].cpu.samplesMs but received an array of length 0',
    );
    expect(
      fail((s) => ((s.tenants[0]!.cpu as { samplesMs: number[] }).samplesMs = [1, Number.NaN])).message,
    ).toMatch(/samplesMs\[1\] but received NaN/);
    expect(fail((s) => ((s.tenants[0]!.cpu as { mode: string }).mode = 'x')).message).toMatch(/cpu\.mode/);
    expect(fail((s) => ((s.tenants[0]!.tpu as { reloadMs: number }).reloadMs = -3)).message).toMatch(
      /reloadMs/,
    );
    expect(fail((s) => (s.tenants[0]!.tpu = null)).message).toMatch(/Edge TPU stage \(k > 0\)/);
    expect(fail((s) => (s.tenants[0]!.k = 8)).message).toMatch(/null \(k = n/);
  });

  it('cores: negative or fractional per tenant, and more in total than the system has', () => {
    expect(fail((s) => (s.tenants[0]!.cores = -1)).message).toMatch(/tenants\[0\]\.cores but received -1/);
    expect(fail((s) => (s.tenants[0]!.cores = 0.5)).message).toMatch(/received 0.5/);
    const e = fail((s) => (s.cores = 1));
    expect(e.message).toBe(
      'Expected at most 1 CPU cores in total (system.cores) for system.tenants[].cores but received 2',
    );
    expect(e.details.reason).toBe(SystemErrorReasons.CORES_EXCEEDED);
  });

  it('lists every problem at once', () => {
    const e = fail((s) => {
      s.tenants[0]!.rate = -1;
      s.tenants[0]!.name = '';
    });
    expect(e.details.problems).toHaveLength(2);
    expect(e.message).toMatch(/^Expected a valid SystemSetup for system but received one with 2 problems:/);
    expect(e.details.reason).toBe(SystemErrorReasons.INVALID_SYSTEM);
  });

  it('non-objects and empty tenant lists', () => {
    for (const bad of [null, 'x', 3, { cores: 1 }, { cores: 1, tenants: [] }]) {
      expect(() => defaultModel.predict(bad as unknown as SystemSetup)).toThrow(InvalidArgumentError);
    }
  });

  it('createDefaultModel gives an equivalent, frozen model', () => {
    const m = createDefaultModel();
    expect(Object.isFrozen(m)).toBe(true);
    expect(m.predict(valid())).toEqual(defaultModel.predict(valid()));
  });
});
