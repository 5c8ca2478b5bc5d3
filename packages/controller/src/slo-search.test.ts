// The search side of the SLOs reuses work across admission control's steps: a rescaled screen shares the option
// terms of the full rates' screen, and a fast model lends the tables of the tenants whose rate is unchanged.
// Both must give exactly what a fresh screen or model gives.
import type { TenantChoice } from '@swapless/contracts';
import { isSwapLessError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { fastObjective, fastSearch, prepareFastModel } from './fast.js';
import type { PlannedTenant } from './setup.js';
import { SHED_RESERVE, SloScreen, sloPlan } from './slo.js';
import { syntheticCatalog } from './synthetic.test-util.js';

const cat = (name: string, seed: number, tpuMs: number, cpuMs: number, reloadMs: number) =>
  syntheticCatalog(name, { seed, tpuMs, cpuMs, reloadMs, cuts: 7 });

const tenants: PlannedTenant[] = [
  { name: 'cam', rate: 35, catalog: cat('cam', 5, 4, 25, 7), sloMs: 45 },
  { name: 'mic', rate: 20, catalog: cat('mic', 6, 9, 45, 3), sloMs: 100, sloPercentile: 'p95' },
  { name: 'log', rate: 30, catalog: cat('log', 7, 6, 40, 5) },
];
/** Configurations within 4 cores, spread over the options of the fast model's tables. */
const configs: TenantChoice[][] = (() => {
  const tables = prepareFastModel(tenants, 4).tables;
  const out: TenantChoice[][] = [];
  for (let s = 0; out.length < 8 && s < 64; s++) {
    const choices = tables.map((t, i) => t.choices[(s * (2 * i + 3)) % t.choices.length]!);
    if (choices.reduce((n, c) => n + c.cores, 0) <= 4) out.push(choices);
  }
  return out;
})();
const at = (shares: readonly number[]): PlannedTenant[] =>
  tenants.map((t, i) => ({ ...t, rate: t.rate * shares[i]! }));

describe('a rescaled SLO screen', () => {
  it('evaluates exactly as a fresh screen at the new rates (a tenant without an SLO, or one with, shed)', () => {
    expect(configs.length).toBeGreaterThan(4);
    const full = new SloScreen(tenants);
    // Terms at the full rates first, so that the rescaled screens inherit them.
    for (const choices of configs) full.evaluate(choices);
    for (const shares of [
      [1, 1, 0.5],
      [1, 1, 0],
      [0.7, 1, 0.3],
    ]) {
      const rescaled = full.rescaled(at(shares));
      const fresh = new SloScreen(at(shares));
      for (const choices of configs) expect(rescaled.evaluate(choices)).toEqual(fresh.evaluate(choices));
    }
  });

  it('keeps the margin of the screen it comes from', () => {
    const strict = new SloScreen(tenants, 0.5);
    expect(Array.from(strict.rescaled(at([1, 1, 0.5])).allowed)).toEqual(Array.from(strict.allowed));
  });

  it('refuses other tenants with a typed error', () => {
    const full = new SloScreen(tenants);
    for (const other of [
      tenants.slice(0, 2),
      tenants.map((t, i) => (i === 0 ? { ...t, sloMs: 50 } : t)),
      tenants.map((t, i) => (i === 2 ? { ...t, catalog: cat('log', 8, 6, 40, 5) } : t)),
    ]) {
      let caught: unknown;
      try {
        full.rescaled(other);
      } catch (e) {
        caught = e;
      }
      expect(isSwapLessError(caught, 'SWAPLESS_INVALID_ARGUMENT')).toBe(true);
    }
  });
});

describe('the violation within a bound', () => {
  it('is the violation while within the bound, and above the bound (at most the violation) past it', () => {
    const busy = new SloScreen(tenants.map((t) => ({ ...t, rate: t.rate * 2 })));
    let cut = 0;
    for (const choices of configs) {
      const { violation } = busy.evaluate(choices);
      expect(busy.violationWithin(choices, Infinity)).toBe(violation);
      expect(busy.violationWithin(choices, violation)).toBe(violation);
      if (!(violation > 0)) continue;
      for (const bound of [0, violation / 3, violation * 0.99]) {
        const v = busy.violationWithin(choices, bound);
        expect(v).toBeGreaterThan(bound);
        expect(v).toBeLessThanOrEqual(violation);
        if (v < violation) cut++;
      }
    }
    // The sum stops early for some: else the bound would save nothing.
    expect(cut).toBeGreaterThan(0);
  });
});

describe('a fast model prepared like another', () => {
  it('has the tables and objective of a fresh one, lending only the tables of unchanged rates', () => {
    const full = prepareFastModel(tenants, 4);
    const shed = at([1, 1, 0.4]);
    const lent = prepareFastModel(shed, 4, full);
    const fresh = prepareFastModel(shed, 4);
    expect(lent.tables[0]).toBe(full.tables[0]);
    expect(lent.tables[2]).not.toBe(full.tables[2]);
    expect(lent.totalRate).toBe(fresh.totalRate);
    lent.tables.forEach((t, i) => {
      expect(t.choices).toEqual(fresh.tables[i]!.choices);
      expect(Array.from(t.vec)).toEqual(Array.from(fresh.tables[i]!.vec));
    });
    for (const picks of [
      [0, 0, 0],
      [1, 2, 1],
      [lent.tables[0]!.choices.length - 1, 0, lent.tables[2]!.choices.length - 1],
    ])
      expect(fastObjective(lent, picks)).toBe(fastObjective(fresh, picks));
    // Other catalogs or cores: nothing is lent.
    const other = prepareFastModel(shed, 3, full);
    expect(other.tables[0]).not.toBe(full.tables[0]);
  });
});

describe('admission control', () => {
  it('sheds the tenant without an SLO to a fraction that passes, and keeps it when it is the one in effect', () => {
    // Loaded so that the SLOs need most of c's load shed.
    const busy = tenants.map((t) => ({ ...t, rate: t.rate * 2 }));
    const best = fastSearch(busy, 4).choices;
    const plan = sloPlan(busy, 4, best, { wide: false, budget: 600 });
    expect(plan.feasible).toBe(true);
    expect(plan.admit.slice(0, 2)).toEqual([1, 1]);
    expect(plan.admit[2]).toBeGreaterThan(0);
    expect(plan.admit[2]).toBeLessThan(1);
    const again = sloPlan(busy, 4, best, { wide: false, budget: 600, previousAdmit: plan.admit });
    expect(again.feasible).toBe(true);
    expect(again.admit[2]).toBeGreaterThanOrEqual(plan.admit[2]! - 1e-9);
    // What is admitted passes the screen at the admitted rates.
    const admitted = busy.map((t, i) => ({ ...t, rate: t.rate * again.admit[i]! }));
    expect(new SloScreen(admitted).evaluate(again.choices).violation).toBe(0);
  });

  it('keeps the shedding in effect without a search while it still fits, and searches when it does not', () => {
    const busy = tenants.map((t) => ({ ...t, rate: t.rate * 2 }));
    const best = fastSearch(busy, 4).choices;
    const options = { wide: false, budget: 600 } as const;
    const plan = sloPlan(busy, 4, best, options);
    expect(plan.admit[2]).toBeLessThan(1);
    const bare = (cs: readonly TenantChoice[]) => cs.map(({ admit: _, ...c }) => c);
    /** Admitting `share` of c at `now`'s rates, does `choices` pass the screen? */
    const passes = (now: PlannedTenant[], choices: TenantChoice[], share: number) =>
      new SloScreen(now.map((t, i) => (i === 2 ? { ...t, rate: t.rate * share } : t))).evaluate(choices)
        .violation === 0;
    // The next tick at the same rates: the plan in effect is the answer, for a few screen evaluations — at the
    // configuration's own limit, within an eighth of a step above the fraction in effect.
    const kept = sloPlan(busy, 4, best, { ...options, previous: plan.choices });
    expect(kept.evaluated).toBe(6);
    expect(bare(kept.choices)).toEqual(bare(plan.choices));
    expect(kept.admit[2]).toBeGreaterThanOrEqual(plan.admit[2]!);
    expect(kept.admit[2]).toBeLessThan(plan.admit[2]! + 1 / 64);
    expect(passes(busy, kept.choices, kept.admit[2]!)).toBe(true);
    expect(kept.reason).toMatch(/shed \d+ % of the requests of log/);
    const model = prepareFastModel(at([2, 2, 2 * kept.admit[2]!]), 4);
    const picks = plan.choices.map((c, i) =>
      model.tables[i]!.choices.findIndex((x) => x.k === c.k && x.cores === c.cores),
    );
    expect(kept.meanResponseMs).toBe(fastObjective(model, picks));
    /** The next tick's plan at other rates, with `plan` in effect. */
    const replan = (now: PlannedTenant[]) =>
      sloPlan(now, 4, fastSearch(now, 4).choices, { ...options, previous: plan.choices });
    // A little less of c's load: the configuration kept, a step or two more of c admitted (as far as it passes).
    const drift = busy.map((t, i) => (i === 2 ? { ...t, rate: t.rate * 0.97 } : t));
    const climbed = replan(drift);
    expect(climbed.evaluated).toBeLessThanOrEqual(9);
    expect(bare(climbed.choices)).toEqual(bare(plan.choices));
    expect(climbed.admit[2]).toBeGreaterThanOrEqual(plan.admit[2]! + 1 / 64);
    expect(passes(drift, climbed.choices, climbed.admit[2]!)).toBe(true);
    expect(passes(drift, climbed.choices, climbed.admit[2]! + 1 / 64)).toBe(false);
    // A little more of mic's load: the configuration kept a step or two lower, where it passes …
    const rise = busy.map((t, i) => (i === 1 ? { ...t, rate: t.rate * 1.02 } : t));
    const lower = replan(rise);
    expect(bare(lower.choices)).toEqual(bare(plan.choices));
    expect(lower.admit[2]).toBeLessThan(plan.admit[2]!);
    expect(passes(rise, lower.choices, lower.admit[2]!)).toBe(true);
    expect(passes(rise, lower.choices, lower.admit[2]! + 1 / 64)).toBe(false);
    // … after one search one step above it that found nothing passing, not all of admission control's.
    const searched = sloPlan(rise, 4, fastSearch(rise, 4).choices, options);
    expect(lower.evaluated).toBeLessThan(searched.evaluated);
    // Far more of c's load than now passes: searched again (and more is admitted).
    const lighter = busy.map((t, i) => (i === 2 ? { ...t, rate: t.rate * 0.85 } : t));
    const raised = replan(lighter);
    expect(raised.evaluated).toBeGreaterThan(3);
    expect(raised.admit[2]).toBeGreaterThan(plan.admit[2]!);
    // The fraction in effect no longer passes: searched again (and less is admitted).
    const heavier = busy.map((t, i) => (i === 0 ? { ...t, rate: t.rate * 1.15 } : t));
    const lowered = replan(heavier);
    expect(lowered.evaluated).toBeGreaterThan(3);
    expect(lowered.admit[2]).toBeLessThan(plan.admit[2]!);
    // A previous plan that shed nothing, or shed a tenant with an SLO, is not kept.
    const unshed = plan.choices.map(({ admit: _, ...c }) => c);
    expect(sloPlan(busy, 4, best, { ...options, previous: unshed }).evaluated).toBeGreaterThan(3);
    const odd = plan.choices.map((c, i) => (i === 0 ? { ...c, admit: 0.5 } : c));
    expect(sloPlan(busy, 4, best, { ...options, previous: odd }).evaluated).toBeGreaterThan(3);
  });
});

describe('a budgeted shedding decision (shedBudget)', () => {
  const busy = tenants.map((t) => ({ ...t, rate: t.rate * 2 }));
  const best = fastSearch(busy, 4).choices;
  const options = { wide: false, budget: 600 } as const;
  const unbudgeted = sloPlan(busy, 4, best, options);
  const tol = 1 / 64;
  /** Does the plan pass the screen at the rates it admits? */
  const safe = (plan: { admit: number[]; choices: TenantChoice[] }) =>
    new SloScreen(busy.map((t, i) => ({ ...t, rate: t.rate * plan.admit[i]! }))).evaluate(plan.choices)
      .violation === 0;

  it('evaluates at most its budget and the reserve of the searches it needs, and what it admits passes', () => {
    // The budgets below bind: the unbudgeted decision evaluates more.
    expect(unbudgeted.evaluated).toBeGreaterThan(1000);
    // The least a decision can evaluate: the search at full rates' reserve, then the search at the floor until a
    // configuration passes (not cut short: it makes the plan safe).
    const least = sloPlan(busy, 4, best, { ...options, shedBudget: 1 });
    expect(least.admit[2]).toBe(0);
    expect(safe(least)).toBe(true);
    for (const shedBudget of [40, 100, 200, 400]) {
      const plan = sloPlan(busy, 4, best, { ...options, shedBudget });
      expect(plan.evaluated).toBeLessThanOrEqual(shedBudget + 2 * SHED_RESERVE + least.evaluated);
      expect(plan.feasible).toBe(true);
      expect(plan.admit.slice(0, 2)).toEqual([1, 1]);
      expect(plan.admit[2]).toBeLessThan(1);
      expect(safe(plan)).toBe(true);
    }
    // No budget given: the decision as before (the unbudgeted one evaluates past any of these).
    expect(sloPlan(busy, 4, best, options)).toEqual(unbudgeted);
  });

  it('continues tick by tick from the shedding in effect until it admits what the unbudgeted decision does', () => {
    const shedBudget = 100;
    let plan = sloPlan(busy, 4, best, { ...options, shedBudget });
    // The first tick stops short: it sheds more than the unbudgeted decision.
    expect(plan.admit[2]).toBeLessThan(unbudgeted.admit[2]! - tol);
    let ticks = 1;
    while (plan.admit[2]! < unbudgeted.admit[2]! - tol && ticks < 10) {
      plan = sloPlan(busy, 4, best, {
        ...options,
        shedBudget,
        previous: plan.choices,
        previousAdmit: plan.admit,
      });
      ticks++;
      expect(plan.evaluated).toBeLessThanOrEqual(shedBudget + 2 * SHED_RESERVE);
      expect(safe(plan)).toBe(true);
    }
    expect(plan.admit[2]).toBeGreaterThanOrEqual(unbudgeted.admit[2]! - tol);
    expect(ticks).toBeGreaterThan(1);
    expect(ticks).toBeLessThanOrEqual(6);
    // Once there, it stays: the next ticks keep what it admits.
    for (let t = 0; t < 2; t++) {
      const next = sloPlan(busy, 4, best, {
        ...options,
        shedBudget,
        previous: plan.choices,
        previousAdmit: plan.admit,
      });
      expect(next.admit[2]).toBeGreaterThanOrEqual(plan.admit[2]! - 1e-9);
      expect(safe(next)).toBe(true);
      plan = next;
    }
  });
});
