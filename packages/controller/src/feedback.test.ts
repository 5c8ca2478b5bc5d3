import { defaultModel } from '@swapless/queueing';
import { describe, expect, it } from 'vitest';
import { addDelays, delayedPredictor } from './delays.js';
import { fastSearch } from './fast.js';
import { ServiceCorrection } from './feedback.js';
import { swaplessPolicy } from './policy.js';
import { systemSetup } from './setup.js';
import { syntheticCatalog } from './synthetic.test-util.js';

const cat = syntheticCatalog('c', { cuts: 4 });
const cut = cat.cuts[2]!;
const tpu = cut.tpu!;

describe('ServiceCorrection: reload and no-reload factors', () => {
  it('says which cuts have been measured: every stage of the cut, each with enough observations', () => {
    const c = new ServiceCorrection(new Map([['c', cat]]));
    const whole = cat.cuts.at(-1)!; // all on the Edge TPU: no CPU stage
    expect(c.measuredAt('c', cut.k)).toBe(false);
    for (let i = 0; i < 4; i++) c.observe({ tenant: 'c', stage: 'tpu', k: whole.k, ms: 2, reload: true });
    expect(c.measuredAt('c', whole.k)).toBe(false); // 4 < minCount 5
    c.observe({ tenant: 'c', stage: 'tpu', k: whole.k, ms: 2 });
    expect(c.measuredAt('c', whole.k)).toBe(false); // each kind counts on its own: 1 plain call, 4 reloading
    c.observe({ tenant: 'c', stage: 'tpu', k: whole.k, ms: 2, reload: true });
    expect(c.measuredAt('c', whole.k)).toBe(true); // 5 reloading calls: the call was measured
    // A split cut wants its CPU stage measured too; the tenant's factors from other cuts do not count.
    for (let i = 0; i < 5; i++) c.observe({ tenant: 'c', stage: 'tpu', k: cut.k, ms: 2 });
    expect(c.measuredAt('c', cut.k)).toBe(false);
    for (let i = 0; i < 5; i++) c.observe({ tenant: 'c', stage: 'cpu', k: cut.k, ms: 9, threads: 1 });
    expect(c.measuredAt('c', cut.k)).toBe(true);
    expect(c.measuredAt('c', cat.cuts[1]!.k)).toBe(false);
    expect(c.measuredAt('c', 999)).toBe(false);
    expect(c.measuredAt('nobody', cut.k)).toBe(false);
  });

  it('learns the two Edge TPU factors apart and rebuilds call and reload from them', () => {
    const c = new ServiceCorrection(new Map([['c', cat]]));
    // Plain calls 3× slower than the device model, reloading calls only 1.5× slower than call + reload.
    for (let i = 0; i < 40; i++) {
      c.observe({ tenant: 'c', stage: 'tpu', k: cut.k, ms: 3 * tpu.serviceMs });
      c.observe({
        tenant: 'c',
        stage: 'tpu',
        k: cut.k,
        ms: 1.5 * (tpu.serviceMs + tpu.reloadMs),
        reload: true,
      });
    }
    expect(c.factor('c', 'tpu', cut.k)).toBeCloseTo(3, 2);
    expect(c.factor('c', 'tpu-reload', cut.k)).toBeCloseTo(1.5, 2);
    const fixed = c.corrected('c').cuts[2]!.tpu!;
    expect(fixed.serviceMs).toBeCloseTo(3 * tpu.serviceMs, 6);
    // A reloading call of the corrected catalog costs what was measured for one.
    expect(fixed.serviceMs + fixed.reloadMs).toBeCloseTo(1.5 * (tpu.serviceMs + tpu.reloadMs), 6);
    expect(fixed.source).toBe('measured');
  });

  it('compares a call with the catalog of the device that ran it, and corrects every device catalog', () => {
    // The same tenant on a second device whose modelled calls take twice as long (another profile).
    const slower = {
      ...cat,
      device: 'pcie',
      cuts: cat.cuts.map((x) =>
        x.tpu === null ? x : { ...x, tpu: { ...x.tpu, serviceMs: 2 * x.tpu.serviceMs } },
      ),
    };
    const host = { ...cat, onDevice: { 'pci:0': slower, 'pci:1': slower } };
    const c = new ServiceCorrection(new Map([['c', host]]));
    // Calls on pci:0 take 1.5× its own modelled time (3× the first device's).
    for (let i = 0; i < 40; i++)
      c.observe({ tenant: 'c', stage: 'tpu', k: cut.k, ms: 3 * tpu.serviceMs, device: 'pci:0' });
    expect(c.factor('c', 'tpu', cut.k)).toBeCloseTo(1.5, 2);
    const fixed = c.corrected('c');
    expect(fixed.cuts[2]!.tpu!.serviceMs).toBeCloseTo(1.5 * tpu.serviceMs, 6);
    expect(fixed.onDevice!['pci:0']!.cuts[2]!.tpu!.serviceMs).toBeCloseTo(3 * tpu.serviceMs, 6);
    expect(fixed.onDevice!['pci:1']).toBe(fixed.onDevice!['pci:0']);
  });

  it('falls back to the other TPU kind, then 1, when one kind was never observed', () => {
    const c = new ServiceCorrection(new Map([['c', cat]]));
    for (let i = 0; i < 4; i++) c.observe({ tenant: 'c', stage: 'tpu', k: cut.k, ms: 2 * tpu.serviceMs });
    // Below minCount (5): not trusted yet.
    expect(c.factor('c', 'tpu', cut.k)).toBe(1);
    c.observe({ tenant: 'c', stage: 'tpu', k: cut.k, ms: 2 * tpu.serviceMs });
    expect(c.factor('c', 'tpu', cut.k)).toBeCloseTo(2, 2);
    expect(c.factor('c', 'tpu-reload', cut.k)).toBeCloseTo(2, 2);
    // Another cut of the same tenant: the tenant's stage factor.
    expect(c.factor('c', 'tpu', cat.cuts[1]!.k)).toBeCloseTo(2, 2);
    expect(c.factor('c', 'cpu', cut.k, 1)).toBe(1);
  });

  it('says when the host runs off its profile: a trusted tenant factor more than 15 % from 1', () => {
    const c = new ServiceCorrection(new Map([['c', cat]]));
    expect(c.offProfile()).toBe(false);
    // Lags are times, not factors: a large one says nothing about the profile.
    for (let i = 0; i < 10; i++)
      c.observe({ tenant: 'c', stage: 'tpu', k: cut.k, ms: 1.1 * tpu.serviceMs, lagMs: 50 });
    expect(c.offProfile()).toBe(false); // 10 % off
    expect(c.offProfile(0.05)).toBe(true);
    for (let i = 0; i < 4; i++) c.observe({ tenant: 'c', stage: 'cpu', k: cut.k, ms: 100, threads: 1 });
    expect(c.offProfile()).toBe(false); // 4 CPU observations: not trusted yet
    c.observe({ tenant: 'c', stage: 'cpu', k: cut.k, ms: 100, threads: 1 });
    expect(c.offProfile()).toBe(true);
  });

  it("predicts a tenant's stage it never ran no faster than the host runs the others' (the host's factor)", () => {
    const d = syntheticCatalog('d', { cuts: 4, seed: 2 });
    const c = new ServiceCorrection(
      new Map([
        ['c', cat],
        ['d', d],
      ]),
    );
    // The host is 1.5× slower on c's CPU stages than profiled; d has not run a CPU stage yet.
    const profiled = cut.cpu!.get(1)!.reduce((a, b) => a + b, 0) / cut.cpu!.get(1)!.length;
    for (let i = 0; i < 5; i++)
      c.observe({ tenant: 'c', stage: 'cpu', k: cut.k, ms: 1.5 * profiled, threads: 1 });
    expect(c.factor('d', 'cpu', d.cuts[1]!.k, 1)).toBeCloseTo(1.5, 2);
    expect(c.factor('d', 'tpu', d.cuts[1]!.k)).toBe(1); // nobody's Edge TPU call was measured
    // Forgetting c forgets its share of the host's factor.
    c.forget('c');
    expect(c.factor('d', 'cpu', d.cuts[1]!.k, 1)).toBe(1);
    // Once d's own stage is measured, its own factor wins.
    const dp = d.cuts[1]!.cpu!.get(1)!.reduce((a, b) => a + b, 0) / d.cuts[1]!.cpu!.get(1)!.length;
    for (let i = 0; i < 5; i++)
      c.observe({ tenant: 'd', stage: 'cpu', k: d.cuts[1]!.k, ms: 0.8 * dp, threads: 1 });
    expect(c.factor('d', 'cpu', d.cuts[1]!.k, 1)).toBeCloseTo(0.8, 2);
  });

  it('clamps to [0.25, 8] by default and one outlier moves a trusted factor by at most 4×', () => {
    const c = new ServiceCorrection(new Map([['c', cat]]));
    for (let i = 0; i < 400; i++) c.observe({ tenant: 'c', stage: 'tpu', k: cut.k, ms: tpu.serviceMs / 100 });
    expect(c.factor('c', 'tpu', cut.k)).toBe(0.25);
    const d = new ServiceCorrection(new Map([['c', cat]]));
    for (let i = 0; i < 30; i++) d.observe({ tenant: 'c', stage: 'tpu', k: cut.k, ms: 6 * tpu.serviceMs });
    expect(d.factor('c', 'tpu', cut.k)).toBeCloseTo(6, 2);
    // A 1000× stall: counted as 4× the current factor, so the factor moves by alpha·18, not alpha·994.
    d.observe({ tenant: 'c', stage: 'tpu', k: cut.k, ms: 6000 * tpu.serviceMs });
    expect(d.factor('c', 'tpu', cut.k)).toBeLessThan(8);
    expect(d.factor('c', 'tpu', cut.k)).toBeGreaterThan(6);
  });

  it('learns the emulation lag per cut and extrapolates it by the head share', () => {
    const c = new ServiceCorrection(new Map([['c', cat]]));
    for (let i = 0; i < 20; i++)
      c.observe({ tenant: 'c', stage: 'tpu', k: cut.k, ms: tpu.serviceMs, lagMs: 12 });
    expect(c.lagMs('c', cut.k)).toBeCloseTo(12, 6);
    const other = cat.cuts[1]!;
    expect(c.lagMs('c', other.k)).toBeCloseTo((12 * other.tpuMacsShare) / cut.tpuMacsShare, 1);
    const fixed = c.corrected('c');
    expect(fixed.cuts[2]!.delayMs).toBeCloseTo(12, 6);
    expect(fixed.cuts[0]!.delayMs).toBeUndefined(); // k = 0 has no head
    c.forget('c');
    expect(c.lagMs('c', cut.k)).toBe(0);
    expect(c.corrected('c')).toBe(cat);
  });

  it("adds the CPU stage's hand-back to every cut with a CPU stage, outside the CPU queue", () => {
    const c = new ServiceCorrection(new Map([['c', cat]]));
    const profiled = cut.cpu!.get(1)!;
    const mean = profiled.reduce((s, x) => s + x, 0) / profiled.length;
    for (let i = 0; i < 4; i++)
      c.observe({ tenant: 'c', stage: 'cpu', k: cut.k, threads: 1, ms: mean, returnMs: 2 });
    expect(c.cpuReturnMs('c')).toBe(0); // not trusted yet
    c.observe({ tenant: 'c', stage: 'cpu', k: cut.k, threads: 1, ms: mean, returnMs: 2 });
    expect(c.cpuReturnMs('c')).toBeCloseTo(2, 6);
    const fixed = c.corrected('c');
    for (const x of fixed.cuts) expect(x.delayMs).toBe(x.cpu === null ? undefined : 2);
    // The CPU samples are not stretched by it: it delays the request, the worker is free.
    expect(fixed.cuts[2]!.cpu!.get(1)).toEqual(profiled);
    const sys = systemSetup(
      [{ name: 'c', rate: 20, catalog: fixed }],
      [{ k: cut.k, cores: 1, mode: 'mg1' }],
      1,
    );
    const base = defaultModel.predict(sys).tenants[0]!.responseMs;
    expect(
      delayedPredictor(defaultModel, [{ name: 'c', catalog: fixed }]).predict(sys).tenants[0]!.responseMs,
    ).toBeCloseTo(base + 2, 6);
  });
});

describe('corrected predictions', () => {
  it('move toward what was measured: factors and delays both reach the prediction', () => {
    const tenants = [{ name: 'c', rate: 20, catalog: cat }];
    const choice = [{ k: cut.k, cores: 1, mode: 'mg1' as const }];
    const before = defaultModel.predict(systemSetup(tenants, choice, 2)).meanResponseMs;
    const c = new ServiceCorrection(new Map([['c', cat]]));
    const cpuMean = cut.cpu!.get(1)!.reduce((s, x) => s + x, 0) / 3;
    // What the host "measures": TPU 2×, CPU 1.5×, 4 ms of emulation lag per call.
    for (let i = 0; i < 60; i++) {
      c.observe({ tenant: 'c', stage: 'tpu', k: cut.k, ms: 2 * tpu.serviceMs, lagMs: 4 });
      c.observe({ tenant: 'c', stage: 'cpu', k: cut.k, threads: 1, ms: 1.5 * cpuMean });
    }
    const corrected = [{ name: 'c', rate: 20, catalog: c.corrected('c') }];
    const raw = defaultModel.predict(systemSetup(corrected, choice, 2)).meanResponseMs;
    const after = delayedPredictor(defaultModel, corrected).predict(systemSetup(corrected, choice, 2));
    expect(raw).toBeGreaterThan(before + tpu.serviceMs + 0.4 * cpuMean);
    expect(after.meanResponseMs).toBeCloseTo(raw + 4, 6);
    expect(after.tenants[0]!.responseMs).toBeCloseTo(raw + 4, 6);
  });

  it('adds delays λ-weighted to the mean and leaves an unstable prediction unstable', () => {
    const tenants = [
      { name: 'a', rate: 30, catalog: syntheticCatalog('a', { cuts: 3 }) },
      { name: 'b', rate: 10, catalog: syntheticCatalog('b', { cuts: 3, seed: 2 }) },
    ];
    const choices = [
      { k: 15, cores: 1, mode: 'mg1' as const },
      { k: 15, cores: 1, mode: 'mg1' as const },
    ];
    const sys = systemSetup(tenants, choices, 2);
    const p = defaultModel.predict(sys);
    const q = addDelays(p, sys, [4, 8]);
    expect(q.meanResponseMs - p.meanResponseMs).toBeCloseTo((30 * 4 + 10 * 8) / 40, 9);
    expect(addDelays(p, sys, [0, 0])).toBe(p);
    const unstable = { ...p, meanResponseMs: Infinity, stable: false };
    expect(addDelays(unstable, sys, [1, 1]).meanResponseMs).toBe(Infinity);
  });

  it('steers the fast search away from a cut whose emulation lag makes it slow', () => {
    const base = syntheticCatalog('s', { cuts: 6, tpuMs: 2, cpuMs: 30 });
    const tenants = [{ name: 's', rate: 10, catalog: base }];
    const chosen = fastSearch(tenants, 2).choices[0]!;
    expect(chosen.k).toBeGreaterThan(0);
    // The same catalog with 200 ms of lag at every cut that has a head: only k = 0 escapes it.
    const lagged = { ...base, cuts: base.cuts.map((c) => (c.tpu === null ? c : { ...c, delayMs: 200 })) };
    const r = fastSearch([{ ...tenants[0]!, catalog: lagged }], 2);
    expect(r.choices[0]!.k).toBe(0);
    // The fast search's objective is the delayed predictor's.
    const p = delayedPredictor(defaultModel, [{ name: 's', catalog: lagged }]).predict(
      systemSetup([{ ...tenants[0]!, catalog: lagged }], r.choices, 2),
    );
    expect(r.meanResponseMs).toBeCloseTo(p.meanResponseMs, 6);
  });
});

describe('swapless policy with a shared correction', () => {
  it('plans with what its owner fed, does not feed it itself, and re-plans on demand', () => {
    const catalog = syntheticCatalog('p', { cuts: 6 });
    const shared = new ServiceCorrection(new Map([['p', catalog]]));
    const policy = swaplessPolicy({ correction: shared });
    const first = policy.initial({ tenants: [{ name: 'p', catalog, rate: 10 }], cores: 2, nowMs: 0 });
    const obs = { stages: [{ tenant: 'p', stage: 'tpu' as const, k: first.tenants[0]!.k, ms: 1e6 }] };
    policy.onTick(obs, 1000);
    expect(shared.factor('p', 'tpu', first.tenants[0]!.k)).toBe(1);
    // The owner learns the TPU is 8× slower than modelled: a re-plan moves work off the TPU.
    for (const c of catalog.cuts)
      if (c.tpu !== null)
        for (let i = 0; i < 10; i++)
          shared.observe({ tenant: 'p', stage: 'tpu', k: c.k, ms: 8 * c.tpu.serviceMs });
    const again = policy.replan!(2000, 'divergence');
    expect(again).not.toBeNull();
    expect(again!.reason).toMatch(/^divergence: re-planned/);
    expect(again!.predictedMs).toBeGreaterThan(first.predictedMs);
    // All on the TPU at first; 8× slower TPU calls make the CPU the better place.
    expect(first.tenants[0]!.k).toBe(catalog.n);
    expect(again!.tenants[0]!.k).toBeLessThan(catalog.n);
  });
});

describe('swapless policy replan with nothing stable', () => {
  it('keeps the configuration in effect rather than moving between unstable ones', () => {
    const catalog = syntheticCatalog('u', { cuts: 6 });
    const policy = swaplessPolicy();
    const first = policy.initial({ tenants: [{ name: 'u', catalog, rate: 10 }], cores: 2, nowMs: 0 });
    // 10,000 req/s: no configuration of this catalog is stable.
    const arrivals = { u: Array.from({ length: 10_000 }, (_, i) => i / 10) };
    policy.onTick({ arrivals }, 1000);
    const d = policy.replan!(1000, 'divergence');
    expect(d!.tenants).toEqual(first.tenants);
    expect(d!.reason).toMatch(/no stable configuration: configuration kept$/);
  });
});
