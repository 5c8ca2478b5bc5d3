import type { SystemSetup, TenantChoice } from '@swapless/contracts';
import { defaultModel } from '@swapless/queueing';
import { describe, expect, it } from 'vitest';
import type { TenantCatalog } from './catalog.js';
import { hostContention } from './contention.js';
import { contentionOf, delayedPredictor } from './delays.js';
import { ServiceCorrection } from './feedback.js';
import { swaplessPolicy } from './policy.js';
import { type PlannedTenant, systemSetup } from './setup.js';
import { syntheticCatalog } from './synthetic.test-util.js';

/** One tenant with only a CPU stage: `samples` ms, `cores` threads, at `rate` req/s. */
function cpuOnly(rate: number, samples: number[], cores = 1, mode: 'mg1' | 'mgc' = 'mgc'): SystemSetup {
  return {
    cores: 4,
    tenants: [
      {
        name: 'a',
        rate,
        k: 0,
        n: 10,
        cores,
        tpu: null,
        cpu: { mode, samplesMs: samples, source: 'measured' },
      },
    ],
  };
}

describe('hostContention: threads sharing the host cores', () => {
  it('stretches nothing on a host with a core per thread and nothing else running', () => {
    const c = hostContention(cpuOnly(50, [10]), null, { cores: 2, busy: 0 });
    expect(c.cpu).toEqual([1]);
    expect(c.pool).toBe(1);
    expect(c.busyCores).toBeCloseTo(0.5, 9); // 50/s × 10 ms on one worker
  });

  it('on one core, stretches a thread by one plus the mean runnable others (the rest of the host)', () => {
    // E[max(1, K + 1)] = 1 + E[K] with K ~ Poisson(busy): exactly 1.5 for busy 0.5.
    const c = hostContention(cpuOnly(1, [10]), null, { cores: 1, busy: 0.5 });
    expect(c.cpu[0]).toBeCloseTo(1.5, 6);
  });

  it("counts an mg1 stage's own threads: on two cores, its two threads alone are not slowed", () => {
    expect(hostContention(cpuOnly(10, [5], 2, 'mg1'), null, { cores: 2, busy: 0 }).cpu[0]).toBeCloseTo(1, 9);
    // Two own threads plus K ~ Poisson(b) others on two cores: E[max(1, (2 + K)/2)] = 1 + b/2.
    const c = hostContention(cpuOnly(10, [5], 2, 'mg1'), null, { cores: 2, busy: 0.4 });
    expect(c.cpu[0]).toBeCloseTo(1.2, 6);
    // The same two threads as mgc workers are busy apart: less often together, less stretched.
    const apart = hostContention(cpuOnly(10, [5], 2, 'mgc'), null, { cores: 2, busy: 0.4 });
    expect(apart.cpu[0]!).toBeLessThan(c.cpu[0]!);
  });

  it("stretches the CPU stage more as the pool's load grows, and the pool with it (a fixed point)", () => {
    const sys = cpuOnly(20, [10]);
    const host = { cores: 2, busy: 0.3 };
    const at = (headMs: number) =>
      hostContention(
        { ...sys, tenants: [...sys.tenants, { ...sys.tenants[0]!, name: 'b', k: 10, cpu: null, cores: 0 }] },
        { workers: 1, headsMs: [null, headMs] },
        host,
      );
    const light = at(5);
    const heavy = at(40);
    expect(heavy.cpu[0]!).toBeGreaterThan(light.cpu[0]!);
    expect(heavy.pool).toBeGreaterThan(1);
    expect(heavy.cpu[1]).toBe(1); // no CPU stage
    // The busy cores count the stretched work: the pool's 20/s × 40 ms × its stretch, plus the stage's.
    expect(heavy.busyCores).toBeCloseTo(0.8 * heavy.pool + 0.2 * heavy.cpu[0]!, 6);
  });
});

describe('delayedPredictor on a shared host', () => {
  const make = (name: string, seed: number): TenantCatalog => {
    const c = syntheticCatalog(name, { cuts: 6, seed, tpuMs: 2, cpuMs: 20, reloadMs: 0.5 });
    return { ...c, cuts: c.cuts.map((x) => (x.tpu === null ? x : { ...x, emulationMs: 8 })) };
  };
  const a = make('a', 4);
  const b = make('b', 5);
  const catalogs = new Map([
    ['a', a],
    ['b', b],
  ]);
  const tenants: PlannedTenant[] = [
    { name: 'a', rate: 15, catalog: a },
    { name: 'b', rate: 15, catalog: b },
  ];
  const choices: TenantChoice[] = [
    { k: a.cuts[2]!.k, cores: 1, mode: 'mg1' },
    { k: b.n, cores: 0, mode: 'mg1' },
  ];
  const sys = systemSetup(tenants, choices, 1);

  it('predicts the stretched CPU stage and pool, and nothing more on a host with cores to spare', () => {
    const alone = delayedPredictor(defaultModel, catalogs, { emulationWorkers: 1 }).predict(sys);
    const spare = delayedPredictor(defaultModel, catalogs, {
      emulationWorkers: 1,
      host: { cores: 16, busy: 0 },
    }).predict(sys);
    expect(spare.meanResponseMs).toBeCloseTo(alone.meanResponseMs, 6);
    const host = { cores: 2, busy: 0.8 };
    const shared = delayedPredictor(defaultModel, catalogs, { emulationWorkers: 1, host }).predict(sys);
    const c = contentionOf(sys, catalogs, 1, host);
    expect(c.cpu[0]!).toBeGreaterThan(1.05);
    expect(shared.tenants[0]!.cpuServiceMs).toBeCloseTo(alone.tenants[0]!.cpuServiceMs * c.cpu[0]!, 1);
    expect(shared.tenants[1]!.responseMs).toBeGreaterThan(alone.tenants[1]!.responseMs);
    // Without a pool the host share does not apply (the fast path has no hook for it).
    const noPool = delayedPredictor(defaultModel, catalogs, { host }).predict(sys);
    expect(noPool.meanResponseMs).toBe(defaultModel.predict(sys).meanResponseMs);
  });

  it('lets the correction learn with the stretch divided out, and the policy plan with the host share', () => {
    const profiled = a.cuts[2]!.cpu!.get(1)!;
    const mean = profiled.reduce((s, x) => s + x, 0) / profiled.length;
    const c = new ServiceCorrection(catalogs);
    c.setEmulation(1);
    c.setContention(new Map([['a', { cpu: 1.6, emulation: 1.25 }]]));
    for (let i = 0; i < 20; i++) {
      c.observe({ tenant: 'a', stage: 'cpu', k: a.cuts[2]!.k, threads: 1, ms: 1.6 * mean });
      c.observe({ tenant: 'a', stage: 'tpu', k: a.cuts[2]!.k, ms: a.cuts[2]!.tpu!.serviceMs, computeMs: 10 });
    }
    expect(c.factor('a', 'cpu', a.cuts[2]!.k, 1)).toBeCloseTo(1, 2);
    // 10 ms measured at stretch 1.25: the pool's own compute is 8 ms.
    expect(c.emulationMs('a', a.cuts[2]!.k)).toBeCloseTo(8, 1);
    c.forget('a');
    c.observe({ tenant: 'a', stage: 'cpu', k: a.cuts[2]!.k, threads: 1, ms: 1.6 * mean, count: 10 });
    expect(c.factor('a', 'cpu', a.cuts[2]!.k, 1)).toBeCloseTo(1.6, 2);

    c.setHost({ cores: 2, busy: 0.8 });
    expect(c.host).toEqual({ cores: 2, busy: 0.8 });
    const d = swaplessPolicy({ correction: c }).initial({ tenants, cores: 1, nowMs: 0 });
    const corrected = new Map([...catalogs.keys()].map((n) => [n, c.corrected(n)] as const));
    const planned = tenants.map((t) => ({ ...t, catalog: c.corrected(t.name) }));
    const predict = (host: { cores: number; busy: number } | null) =>
      delayedPredictor(defaultModel, corrected, { emulationWorkers: 1, host }).predict(
        systemSetup(planned, d.tenants, 1),
      ).meanResponseMs;
    expect(d.predictedMs).toBeCloseTo(predict(c.host), 6);
    expect(d.predictedMs).toBeGreaterThan(predict(null));
    c.setHost({ cores: 0, busy: 1 });
    expect(c.host).toBeNull();
  });
});
