import type { TenantChoice } from '@swapless/contracts';
import { defaultModel, mgcWaitMs } from '@swapless/queueing';
import { describe, expect, it } from 'vitest';
import type { TenantCatalog } from './catalog.js';
import { delayedPredictor, emulationLags, emulationPoolWaitMs } from './delays.js';
import { profiledHeadMs, ServiceCorrection } from './feedback.js';
import { swaplessPolicy } from './policy.js';
import { type PlannedTenant, systemSetup } from './setup.js';
import { syntheticCatalog } from './synthetic.test-util.js';

const cat = syntheticCatalog('c', { cuts: 4 });
const whole = cat.cuts.find((c) => c.k === cat.n)!;
const mid = cat.cuts[2]!;
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

/** `catalog` with `emulationMs` on every head (as a pooled ServiceCorrection produces). */
function pooled(catalog: TenantCatalog, ms: (k: number) => number): TenantCatalog {
  return { ...catalog, cuts: catalog.cuts.map((c) => (c.tpu === null ? c : { ...c, emulationMs: ms(c.k) })) };
}

/** A correction with a pool of `workers` that observed 30 whole-model Edge TPU calls with `extra` fields. */
function pooledCorrection(
  workers: number,
  extra: { computeMs: number; lagMs?: number; returnMs?: number },
): ServiceCorrection {
  const c = new ServiceCorrection(new Map([['c', cat]]));
  c.setEmulation(workers);
  for (let i = 0; i < 30; i++)
    c.observe({ tenant: 'c', stage: 'tpu', k: whole.k, ms: whole.tpu!.serviceMs, ...extra });
  return c;
}

describe('ServiceCorrection with an emulation pool', () => {
  it('prices each head at its profiled CPU time (whole model minus suffix) until the pool is measured', () => {
    const c = new ServiceCorrection(new Map([['c', cat]]));
    expect(c.emulationMs('c', whole.k)).toBeNull(); // no pool declared
    expect(c.corrected('c')).toBe(cat);
    c.setEmulation(1);
    const wholeCpu = mean(cat.cuts[0]!.cpu!.get(1)!);
    expect(profiledHeadMs(cat, whole)).toBeCloseTo(wholeCpu, 6);
    expect(c.emulationMs('c', whole.k)).toBeCloseTo(wholeCpu, 1);
    expect(c.emulationMs('c', mid.k)).toBeCloseTo(wholeCpu - mean(mid.cpu!.get(1)!), 1);
    const fixed = c.corrected('c');
    expect(fixed.cuts[0]!.emulationMs).toBeUndefined(); // k = 0 has no head
    expect(fixed.cuts.find((x) => x.k === whole.k)!.emulationMs).toBeCloseTo(wholeCpu, 1);
    c.setEmulation(null);
    expect(c.corrected('c')).toBe(cat);
  });

  it('learns the pool compute as a factor and replaces the constant lag delay by it', () => {
    const head = profiledHeadMs(cat, whole)!;
    const c = pooledCorrection(2, { computeMs: 3 * head, lagMs: 40 });
    expect(c.factor('c', 'emulation', whole.k)).toBeCloseTo(3, 2);
    // Another cut: the tenant's factor applies to its own profiled head.
    expect(c.emulationMs('c', mid.k)).toBeCloseTo(3 * profiledHeadMs(cat, mid)!, 0);
    const fixed = c.corrected('c').cuts.find((x) => x.k === whole.k)!;
    expect(fixed.emulationMs).toBeCloseTo(3 * head, 0);
    // The lag is the pool's queue now, predicted from emulationMs: not added again as a constant.
    expect(fixed.delayMs).toBeUndefined();
  });

  it('learns the spread of the pool compute (variance / mean²) and carries it on every head', () => {
    const head = profiledHeadMs(cat, whole)!;
    const c = new ServiceCorrection(new Map([['c', cat]]));
    c.setEmulation(1);
    expect(c.emulationCv2('c')).toBe(0);
    // Computes of 0.5 and 1.5 × the profiled head, alternating: mean 1, second moment 1.25, cv² 0.25.
    for (let i = 0; i < 400; i++)
      c.observe({
        tenant: 'c',
        stage: 'tpu',
        k: whole.k,
        ms: whole.tpu!.serviceMs,
        computeMs: (i % 2 ? 1.5 : 0.5) * head,
      });
    expect(c.emulationCv2('c')).toBeCloseTo(0.25, 1);
    const fixed = c.corrected('c').cuts.find((x) => x.k === whole.k)!;
    expect(fixed.emulationCv2).toBeCloseTo(0.25, 1);
    // Steady computes: no spread, and no field.
    const steady = pooledCorrection(1, { computeMs: 2 * head });
    expect(steady.emulationCv2('c')).toBe(0);
    expect(steady.corrected('c').cuts.find((x) => x.k === whole.k)!.emulationCv2).toBeUndefined();
    c.setEmulation(null);
    expect(c.emulationCv2('c')).toBe(0);
  });

  it("learns how much longer than the modelled pool wait a tenant's heads wait, and carries it on its heads", () => {
    const c = new ServiceCorrection(new Map([['c', cat]]));
    c.setEmulation(1);
    const call = { tenant: 'c', stage: 'tpu' as const, k: whole.k, ms: whole.tpu!.serviceMs, computeMs: 10 };
    // No modelled wait to compare with: nothing learned.
    for (let i = 0; i < 10; i++) c.observe({ ...call, poolWaitMs: 15 });
    expect(c.poolWaitFactor('c')).toBe(1);
    c.setContention(new Map([['c', { cpu: 1, emulation: 1, poolWaitMs: 10 }]]));
    for (let i = 0; i < 40; i++) c.observe({ ...call, poolWaitMs: 15 });
    expect(c.poolWaitFactor('c')).toBeCloseTo(1.5, 6);
    expect(c.corrected('c').cuts.find((x) => x.k === whole.k)!.emulationWaitFactor).toBeCloseTo(1.5, 6);
    // A modelled wait of almost nothing is not compared with (the ratio would say little).
    const d = new ServiceCorrection(new Map([['c', cat]]));
    d.setEmulation(1);
    d.setContention(new Map([['c', { cpu: 1, emulation: 1, poolWaitMs: 0.1 }]]));
    for (let i = 0; i < 40; i++) d.observe({ ...call, poolWaitMs: 15 });
    expect(d.poolWaitFactor('c')).toBe(1);
    c.setEmulation(null);
    expect(c.poolWaitFactor('c')).toBe(1);
  });

  it("keeps the outputs' way back to the main thread as a delay of every head", () => {
    const c = pooledCorrection(1, { computeMs: 10, returnMs: 3 });
    expect(c.emulationReturnMs('c')).toBeCloseTo(3, 6);
    const fixed = c.corrected('c');
    for (const cut of fixed.cuts) expect(cut.delayMs).toBe(cut.tpu === null ? undefined : 3);
    // Without a pool there is nothing to return from.
    c.setEmulation(null);
    expect(c.emulationReturnMs('c')).toBe(0);
  });
});

describe('emulationLags: the pool as an M/G/c queue', () => {
  const a = pooled(syntheticCatalog('a', { cuts: 4, seed: 2 }), () => 20);
  const b = pooled(syntheticCatalog('b', { cuts: 4, seed: 3 }), () => 10);
  const catalogs = new Map([
    ['a', a],
    ['b', b],
  ]);
  const tenants = (ra: number, rb: number): PlannedTenant[] => [
    { name: 'a', rate: ra, catalog: a },
    { name: 'b', rate: rb, catalog: b },
  ];
  const onTpu: TenantChoice[] = [
    { k: a.n, cores: 0, mode: 'mg1' },
    { k: b.n, cores: 0, mode: 'mg1' },
  ];

  it('is the M/G/1 wait plus the head compute minus the device time, and grows with the load', () => {
    const sys = systemSetup(tenants(10, 20), onTpu, 2);
    const lags = emulationLags(sys, catalogs, 1)!;
    const lam = 30 / 1000;
    const m1 = (10 * 20 + 20 * 10) / 30;
    const m2 = (10 * 400 + 20 * 100) / 30;
    const wait = (lam * m2) / (2 * (1 - lam * m1));
    expect(wait).toBeCloseTo(mgcWaitMs(lam, { meanMs: m1, secondMomentMs2: m2 }, 1), 9);
    expect(lags[0]).toBeCloseTo(wait + 20 - a.cuts.at(-1)!.tpu!.serviceMs, 6);
    expect(lags[1]).toBeCloseTo(Math.max(0, wait + 10 - b.cuts.at(-1)!.tpu!.serviceMs), 6);
    // With the device's whole stage (its wait and an expected reload overlap the pool's compute), less lag.
    const device = [a.cuts.at(-1)!.tpu!.serviceMs + 6, b.cuts.at(-1)!.tpu!.serviceMs + 3];
    const overlapped = emulationLags(sys, catalogs, 1, device)!;
    expect(overlapped[0]).toBeCloseTo(Math.max(0, lags[0]! - 6), 6);
    expect(overlapped[1]).toBeCloseTo(Math.max(0, wait + 10 - device[1]!), 6);
    const busier = emulationLags(systemSetup(tenants(20, 40), onTpu, 2), catalogs, 1)!;
    expect(busier[0]!).toBeGreaterThan(lags[0]!);
    // A second worker shortens the queue.
    expect(emulationLags(sys, catalogs, 2)![0]!).toBeLessThan(lags[0]!);
  });

  it('counts the long waits of a head shorter than the device stage (E[max(0, W + h − x)], not max(0, E[W] + h − x))', () => {
    const sys = systemSetup(tenants(10, 20), onTpu, 2);
    const lam = 30 / 1000;
    const m1 = (10 * 20 + 20 * 10) / 30;
    const wait = mgcWaitMs(lam, { meanMs: m1, secondMomentMs2: (10 * 400 + 20 * 100) / 30 }, 1);
    // The device's stage outlasts b's head by wait + 5 ms: on average it would not lag at all.
    const device = [a.cuts.at(-1)!.tpu!.serviceMs, 10 + wait + 5];
    const lags = emulationLags(sys, catalogs, 1, device)!;
    const queued = lam * m1; // M/G/1: the probability of waiting is the utilisation
    const m = wait / queued; // the mean of a wait that is not 0
    expect(lags[1]).toBeCloseTo(queued * m * Math.exp(-(wait + 5) / m), 6);
    expect(lags[1]!).toBeGreaterThan(0);
    // A Monte Carlo check of the same expectation under the model's wait (0, or exponential with mean m).
    let sum = 0;
    let seed = 7;
    const u = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const w = u() < queued ? -m * Math.log(u()) : 0;
      sum += Math.max(0, w - wait - 5);
    }
    expect(lags[1]!).toBeCloseTo(sum / n, 1);
  });

  it("grows the pool's wait with the spread of its computes (E[S²] = E[S]²·(1 + cv²))", () => {
    const sys = systemSetup(tenants(10, 20), onTpu, 2);
    const spread = new Map([
      ['a', { ...a, cuts: a.cuts.map((c) => (c.tpu === null ? c : { ...c, emulationCv2: 1 })) }],
      ['b', b],
    ]);
    const lam = 30 / 1000;
    const m1 = (10 * 20 + 20 * 10) / 30;
    const m2 = (10 * 400 * 2 + 20 * 100) / 30;
    const wait = mgcWaitMs(lam, { meanMs: m1, secondMomentMs2: m2 }, 1);
    expect(emulationLags(sys, spread, 1)![0]).toBeCloseTo(wait + 20 - a.cuts.at(-1)!.tpu!.serviceMs, 6);
    expect(emulationLags(sys, spread, 1)![0]!).toBeGreaterThan(emulationLags(sys, catalogs, 1)![0]!);
  });

  it("scales a tenant's share of the pool's wait by its learned factor, the others' unchanged", () => {
    const sys = systemSetup(tenants(10, 20), onTpu, 2);
    const slow = new Map([
      ['a', a],
      ['b', { ...b, cuts: b.cuts.map((c) => (c.tpu === null ? c : { ...c, emulationWaitFactor: 2 })) }],
    ]);
    const wait = emulationPoolWaitMs(sys, catalogs, 1)!;
    expect(emulationPoolWaitMs(sys, slow, 1)).toBeCloseTo(wait, 9); // the pool's own wait is the model's
    const base = emulationLags(sys, catalogs, 1)!;
    const lags = emulationLags(sys, slow, 1)!;
    expect(lags[0]).toBeCloseTo(base[0]!, 9);
    expect(lags[1]).toBeCloseTo(Math.max(0, 2 * wait + 10 - b.cuts.at(-1)!.tpu!.serviceMs), 6);
  });

  it('is infinite when the pool is overloaded, and the prediction unstable', () => {
    const sys = systemSetup(tenants(40, 40), onTpu, 2); // 40·20 + 40·10 ms per s = 1.2 workers
    expect(emulationLags(sys, catalogs, 1)).toEqual([Infinity, Infinity]);
    const p = delayedPredictor(defaultModel, catalogs, { emulationWorkers: 1 }).predict(sys);
    expect(p.stable).toBe(false);
    expect(p.meanResponseMs).toBe(Infinity);
    // Two workers carry it.
    expect(delayedPredictor(defaultModel, catalogs, { emulationWorkers: 2 }).predict(sys).stable).toBe(true);
  });

  it('only counts tenants whose cut has a head, and is null when nobody uses the pool', () => {
    const cpuOnly: TenantChoice[] = [
      { k: 0, cores: 1, mode: 'mg1' },
      { k: 0, cores: 1, mode: 'mg1' },
    ];
    expect(emulationLags(systemSetup(tenants(10, 20), cpuOnly, 2), catalogs, 1)).toBeNull();
    const mixed: TenantChoice[] = [{ k: a.n, cores: 0, mode: 'mg1' }, cpuOnly[1]!];
    const lags = emulationLags(systemSetup(tenants(10, 20), mixed, 2), catalogs, 1)!;
    const wait = ((10 / 1000) * 400) / (2 * (1 - (10 / 1000) * 20));
    expect(lags[0]).toBeCloseTo(wait + 20 - a.cuts.at(-1)!.tpu!.serviceMs, 6);
    expect(lags[1]).toBe(0);
  });
});

describe('the swapless policy with an emulation pool', () => {
  it('moves heads off a congested pool that the fast search alone does not see', () => {
    // Heads cost the host what the profile says (30 ms for the whole model), the device is cheap: without the pool
    // in the model both models go whole to the Edge TPU; with it, the pool would queue at 72 % of one worker.
    const make = (name: string, seed: number) =>
      syntheticCatalog(name, { cuts: 6, seed, tpuMs: 2, cpuMs: 30, reloadMs: 0.5 });
    const ts: PlannedTenant[] = [
      { name: 'a', rate: 12, catalog: make('a', 4) },
      { name: 'b', rate: 12, catalog: make('b', 5) },
    ];
    const ctx = { tenants: ts, cores: 2, nowMs: 0 };
    const blind = swaplessPolicy({ correction: false }).initial(ctx);
    const withPool = new ServiceCorrection(new Map(ts.map((t) => [t.name, t.catalog])));
    withPool.setEmulation(1);
    const seeing = swaplessPolicy({ correction: withPool });
    const d = seeing.initial(ctx);
    const full = delayedPredictor(
      defaultModel,
      ts.map((t) => ({ name: t.name, catalog: withPool.corrected(t.name) })),
      { emulationWorkers: 1 },
    );
    const predict = (choices: readonly TenantChoice[]) =>
      full.predict(
        systemSetup(
          ts.map((t) => ({ ...t, catalog: withPool.corrected(t.name) })),
          choices,
          2,
        ),
      ).meanResponseMs;
    // Under the pool-aware model the blind choice is worse than the one the policy makes.
    expect(blind.tenants.map((c) => c.k)).toEqual([ts[0]!.catalog.n, ts[1]!.catalog.n]);
    expect(predict(d.tenants)).toBeLessThan(predict(blind.tenants));
    expect(d.predictedMs).toBeCloseTo(predict(d.tenants), 6);
    expect(Number.isFinite(d.predictedMs)).toBe(true);
  });
});
