import { defaultModel } from '@swapless/queueing';
import { describe, expect, it } from 'vitest';
import {
  fastObjective,
  fastSearch,
  fastSearchApplicable,
  prepareFastModel,
  topConfigurations,
} from './fast.js';
import { searchConfiguration } from './search.js';
import { type PlannedTenant, systemSetup } from './setup.js';
import { rand, syntheticCatalog } from './synthetic.test-util.js';

function instance(seed: number, m: number): PlannedTenant[] {
  const r = rand(seed);
  return Array.from({ length: m }, (_, i) => ({
    name: `t${i}`,
    rate: 2 + 25 * r(),
    catalog: syntheticCatalog(`s${seed}t${i}`, {
      cuts: 4 + Math.floor(r() * 4),
      tpuMs: 2 + 8 * r(),
      cpuMs: 10 + 60 * r(),
      reloadMs: 1 + 10 * r(),
      seed: seed * 10 + i,
    }),
  }));
}

describe('fast search (default model)', () => {
  it('evaluates every configuration exactly as the default model does', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const ts = instance(seed, 3);
      const model = prepareFastModel(ts, 4);
      let checked = 0;
      const walk = (i: number, picks: number[]): void => {
        if (i === ts.length) {
          const used = picks.reduce((s, o, j) => s + model.tables[j]!.choices[o]!.cores, 0);
          if (used > 4) return;
          const choices = picks.map((o, j) => model.tables[j]!.choices[o]!);
          const want = defaultModel.predict(systemSetup(ts, choices, 4)).meanResponseMs;
          const got = fastObjective(model, picks);
          if (Number.isFinite(want)) expect(got).toBeCloseTo(want, 9);
          else expect(got).toBe(Infinity);
          checked++;
          return;
        }
        for (let o = 0; o < model.tables[i]!.choices.length; o += 3) walk(i + 1, [...picks, o]);
      };
      walk(0, []);
      expect(checked).toBeGreaterThan(10);
    }
  });

  it('branch and bound finds the same optimum as the generic exhaustive search', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const ts = instance(seed, 2 + (seed % 2));
      const exact = searchConfiguration(ts, 4, defaultModel, { exhaustiveLimit: Infinity });
      const fast = fastSearch(ts, 4, { exactLimit: Infinity });
      expect(fast.method).toBe('branch-and-bound');
      expect(fast.meanResponseMs).toBeCloseTo(exact.prediction.meanResponseMs, 9);
    }
  });

  it('coordinate descent stays within 5 % of the optimum and respects the core budget', () => {
    let worst = 1;
    for (let seed = 20; seed < 40; seed++) {
      const ts = instance(seed, 3);
      const exact = fastSearch(ts, 4, { exactLimit: Infinity });
      const cd = fastSearch(ts, 4, { exactLimit: 0 });
      expect(cd.method).toBe('coordinate-descent');
      expect(cd.choices.reduce((s, c) => s + c.cores, 0)).toBeLessThanOrEqual(4);
      worst = Math.max(worst, cd.meanResponseMs / exact.meanResponseMs);
    }
    expect(worst).toBeLessThan(1.05);
  });

  it('handles caching tokens shared between tenants exactly (token groups)', () => {
    const ts = instance(3, 2);
    const shared = { ...ts[1]!, catalog: { ...ts[1]!.catalog, cuts: ts[0]!.catalog.cuts } };
    const pair = [ts[0]!, shared];
    const model = prepareFastModel(pair, 4);
    expect(model.sharedTokens).toBe(true);
    const t0 = model.tables[0]!;
    const t1 = model.tables[1]!;
    let collisions = 0;
    for (let a = 0; a < t0.choices.length; a++) {
      for (let b = 0; b < t1.choices.length; b++) {
        if (t0.cores[a]! + t1.cores[b]! > 4) continue;
        const choices = [t0.choices[a]!, t1.choices[b]!];
        if (t0.tok[a]! >= 0 && t0.tok[a] === t1.tok[b]) collisions++;
        const want = defaultModel.predict(systemSetup(pair, choices, 4)).meanResponseMs;
        const got = fastObjective(model, [a, b]);
        if (Number.isFinite(want)) expect(got).toBeCloseTo(want, 9);
        else expect(got).toBe(Infinity);
      }
    }
    expect(collisions).toBeGreaterThan(0);
    const exact = searchConfiguration(pair, 4, defaultModel, { exhaustiveLimit: Infinity });
    expect(fastSearch(pair, 4, { exactLimit: Infinity }).meanResponseMs).toBeCloseTo(
      exact.prediction.meanResponseMs,
      9,
    );
    expect(fastSearchApplicable([{ ...ts[0]!, rate: 0 }])).toBe(false);
    expect(() => fastSearch([{ ...ts[0]!, rate: 0 }], 4)).toThrow(/positive total rate/);
  });

  it('coordinate descent reports true values when every tenant leaves the Edge TPU (no rounding residue)', () => {
    for (let seed = 50; seed < 70; seed++) {
      const ts = instance(seed, 2 + (seed % 3)).map((t) => ({ ...t, rate: t.rate * 3 }));
      const cd = fastSearch(ts, 4, { exactLimit: 0 });
      const want = defaultModel.predict(systemSetup(ts, cd.choices, 4)).meanResponseMs;
      if (Number.isFinite(want)) expect(cd.meanResponseMs).toBeCloseTo(want, 9);
      const exact = fastSearch(ts, 4, { exactLimit: Infinity });
      expect(cd.meanResponseMs).toBeGreaterThanOrEqual(exact.meanResponseMs - 1e-9);
    }
  });

  it('lists the best configurations in order', () => {
    const ts = instance(7, 2);
    const top = topConfigurations(prepareFastModel(ts, 4), 5)!;
    expect(top).toHaveLength(5);
    for (let i = 1; i < top.length; i++)
      expect(top[i]!.meanResponseMs).toBeGreaterThanOrEqual(top[i - 1]!.meanResponseMs);
    expect(top[0]!.meanResponseMs).toBeCloseTo(fastSearch(ts, 4, { exactLimit: Infinity }).meanResponseMs, 9);
  });

  /** Instances where tenants share caching tokens: tenant i > 0 reuses the head of tenant 0 at some cuts. */
  function sharedInstance(seed: number, m: number): PlannedTenant[] {
    const ts = instance(seed, m);
    const r = rand(seed + 999);
    const base = ts[0]!.catalog.cuts;
    return ts.map((t, i) => {
      if (i === 0) return t;
      const cuts = t.catalog.cuts.map((c, j) =>
        c.tpu !== null && base[j]?.tpu && r() < 0.5 ? { ...c, tpu: base[j]!.tpu } : c,
      );
      return { ...t, catalog: { ...t.catalog, cuts } };
    });
  }

  it('the pruned option space keeps the optimum (exhaustive over it = generic exhaustive over all), shared tokens too', () => {
    let shared = 0;
    for (let seed = 100; seed < 124; seed++) {
      const m = 2 + (seed % 3);
      const cores = 2 + (seed % 3);
      const ts = seed % 2 === 0 ? sharedInstance(seed, m) : instance(seed, m);
      const model = prepareFastModel(ts, cores);
      if (model.sharedTokens) shared++;
      const want = searchConfiguration(ts, cores, defaultModel, { exhaustiveLimit: Infinity }).prediction
        .meanResponseMs;
      const top = topConfigurations(model, 1, Infinity)!;
      const bb = fastSearch(ts, cores, { exactLimit: Infinity });
      expect(bb.method).toBe('branch-and-bound');
      if (!Number.isFinite(want)) {
        expect(bb.meanResponseMs).toBe(Infinity);
        continue;
      }
      expect(top[0]!.meanResponseMs).toBeCloseTo(want, 9);
      // Branch and bound (with its bound also under shared tokens) finds the same optimum.
      expect(bb.meanResponseMs).toBeCloseTo(want, 9);
      const check = defaultModel.predict(systemSetup(ts, bb.choices, cores)).meanResponseMs;
      expect(check).toBeCloseTo(want, 9);
    }
    expect(shared).toBeGreaterThan(5);
  });

  it('coordinate descent (single, pair and triple moves) is near-optimal on 4 tenants, shared tokens too', () => {
    let optimal = 0;
    let worst = 1;
    const runs = 30;
    for (let seed = 200; seed < 200 + runs; seed++) {
      const ts = seed % 2 === 0 ? sharedInstance(seed, 4) : instance(seed, 4);
      const cores = 3 + (seed % 3);
      const exact = fastSearch(ts, cores, { exactLimit: Infinity });
      const cd = fastSearch(ts, cores, { exactLimit: 0 });
      expect(cd.method).toBe('coordinate-descent');
      expect(cd.choices.reduce((s, c) => s + c.cores, 0)).toBeLessThanOrEqual(cores);
      if (!Number.isFinite(exact.meanResponseMs)) continue;
      // The reported value is the model's value of the reported choices, and never below the optimum.
      const check = defaultModel.predict(systemSetup(ts, cd.choices, cores)).meanResponseMs;
      expect(cd.meanResponseMs).toBeCloseTo(check, 9);
      expect(cd.meanResponseMs).toBeGreaterThanOrEqual(exact.meanResponseMs - 1e-9);
      const ratio = cd.meanResponseMs / exact.meanResponseMs;
      if (ratio <= 1 + 1e-9) optimal++;
      worst = Math.max(worst, ratio);
    }
    expect(optimal).toBeGreaterThanOrEqual(runs - 3);
    expect(worst).toBeLessThan(1.05);
  });

  it('a warm start at the optimum returns it, and a warm decision stays optimal after a small rate change', () => {
    for (let seed = 300; seed < 310; seed++) {
      const ts = instance(seed, 4);
      const exact = fastSearch(ts, 4, { exactLimit: Infinity });
      if (!Number.isFinite(exact.meanResponseMs)) continue;
      const warm = fastSearch(ts, 4, { exactLimit: 0, starts: [exact.choices] });
      expect(warm.meanResponseMs).toBeCloseTo(exact.meanResponseMs, 9);
      const drifted = ts.map((t, i) => ({ ...t, rate: t.rate * (1 + (i % 2 === 0 ? 0.03 : -0.03)) }));
      const exact2 = fastSearch(drifted, 4, { exactLimit: Infinity });
      const warm2 = fastSearch(drifted, 4, { exactLimit: 0, starts: [exact.choices] });
      expect(warm2.meanResponseMs / exact2.meanResponseMs).toBeLessThan(1.01);
    }
  });
});
