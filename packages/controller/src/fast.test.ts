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
});
