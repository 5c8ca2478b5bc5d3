import type { SystemSetup, TenantChoice } from '@swapless/contracts';
import { isSwapLessError } from '@swapless/core';
import { defaultModel, responseDistributions } from '@swapless/queueing';
import { simulate } from '@swapless/sim';
import { describe, expect, it } from 'vitest';
import { fastSearch } from './fast.js';
import { planWorkload, simulatedSystem } from './plan.js';
import { createPolicy } from './policy.js';
import { type PlannedTenant, systemSetup, tenantChoices } from './setup.js';
import { runPolicyInSim } from './simrun.js';
import { fractionWithin, SloScreen, sloLevel, sloMissProbabilities, sloPlan } from './slo.js';
import { syntheticCatalog } from './synthetic.test-util.js';

const cat = (name: string, seed: number, tpuMs: number, cpuMs: number, reloadMs: number) =>
  syntheticCatalog(name, { seed, tpuMs, cpuMs, reloadMs, cuts: 7 });

/** Simulated fraction of tenant i's responses above `ms` (200,000 requests, fixed seed). */
function simulatedMiss(tenants: readonly PlannedTenant[], choices: readonly TenantChoice[], cores: number) {
  const r = simulate(systemSetup(tenants, choices, cores), {
    requests: 200_000,
    seed: 3,
    quantiles: 'exact',
  });
  return r.tenants.map((t, i) =>
    tenants[i]!.sloMs === undefined ? null : 1 - fractionWithin(t.cdfMs, tenants[i]!.sloMs!),
  );
}

describe('SLO percentiles', () => {
  it('default to p99 and refuse anything but p95 and p99 with a typed error', () => {
    expect(sloLevel(undefined)).toBe(0.99);
    expect(sloLevel('p95')).toBe(0.95);
    let caught: unknown;
    try {
      sloLevel('p90' as 'p95');
    } catch (e) {
      caught = e;
    }
    expect(isSwapLessError(caught, 'SWAPLESS_INVALID_ARGUMENT')).toBe(true);
  });
});

describe('the saddlepoint screen', () => {
  const tenants: PlannedTenant[] = [
    { name: 'a', rate: 40, catalog: cat('a', 1, 5, 30, 6), sloMs: 40 },
    { name: 'b', rate: 25, catalog: cat('b', 2, 8, 50, 4), sloMs: 90, sloPercentile: 'p95' },
    { name: 'c', rate: 15, catalog: cat('c', 3, 6, 40, 5) },
  ];
  const configs: TenantChoice[][] = [
    [
      { k: 30, cores: 0, mode: 'mg1' },
      { k: 15, cores: 1, mode: 'mg1' },
      { k: 10, cores: 1, mode: 'mg1' },
    ],
    [
      { k: 20, cores: 1, mode: 'mg1' },
      { k: 25, cores: 1, mode: 'mg1' },
      { k: 30, cores: 0, mode: 'mg1' },
    ],
    [
      { k: 10, cores: 2, mode: 'mgc' },
      { k: 30, cores: 0, mode: 'mg1' },
      { k: 20, cores: 2, mode: 'mg1' },
    ],
  ];

  it('approximates the predicted and the simulated miss probability at the p95 and p99', () => {
    for (const choices of configs) {
      const exact = responseDistributions(systemSetup(tenants, choices, 4));
      for (const i of [0, 1]) {
        const level = sloLevel(tenants[i]!.sloPercentile);
        // The SLO set at the exact quantile: the screen's miss probability there is close to 1 − level.
        const at = tenants.map((t, j) => (j === i ? { ...t, sloMs: exact[i]!.quantileMs(level) } : t));
        const miss = sloMissProbabilities(systemSetup(at, choices, 4))[i]!;
        expect(Math.abs(miss / (1 - level) - 1)).toBeLessThan(0.25);
        const sim = simulatedMiss(at, choices, 4)[i]!;
        expect(Math.abs(miss / sim - 1)).toBeLessThan(0.35);
      }
      expect(sloMissProbabilities(systemSetup(tenants, choices, 4))[2]).toBeNull();
    }
  });

  it('follows the exact model past a narrow CPU stage behind a rare wait (the waits split at their atoms)', () => {
    // A CPU-only tenant on 4 single-thread workers: its stage is 106–109 ms, and 1.4 % of its requests wait
    // (Erlang C), exponentially. Just past the largest sample only the waiting requests miss; one saddlepoint
    // over the whole mixture said 10⁻³⁰⁰ here (no miss at all) where the model says 1.1 %.
    const system: SystemSetup = {
      cores: 4,
      tenants: [
        {
          name: 'r',
          rate: 8.4,
          k: 0,
          n: 75,
          cores: 4,
          sloMs: 110,
          sloPercentile: 'p99',
          tpu: null,
          cpu: { mode: 'mgc', samplesMs: [106.9, 106.5, 108.7, 107.2, 106.0], source: 'measured' },
        },
      ],
    };
    const exact = responseDistributions(system)[0]!;
    for (const sloMs of [109.5, 110, 112, 115, 125]) {
      const at = { ...system, tenants: [{ ...system.tenants[0]!, sloMs }] };
      const miss = sloMissProbabilities(at)[0]!;
      expect(Math.abs(miss / (1 - exact.cdf(sloMs)) - 1)).toBeLessThan(0.5);
    }
    expect(Math.abs(sloMissProbabilities(system)[0]! / (1 - exact.cdf(110)) - 1)).toBeLessThan(0.1);
  });

  it('says most responses miss an SLO below a wide, skewed response (an Edge TPU near saturation)', () => {
    const both: PlannedTenant[] = [
      { name: 'a', rate: 60, catalog: cat('a', 4, 6, 30, 8), sloMs: 19 },
      { name: 'b', rate: 30, catalog: cat('b', 5, 9, 45, 6) },
    ];
    const choices: TenantChoice[] = [
      { k: 30, cores: 0, mode: 'mg1' },
      { k: 25, cores: 2, mode: 'mg1' },
    ];
    const exact = 1 - responseDistributions(systemSetup(both, choices, 3))[0]!.cdf(19);
    expect(exact).toBeGreaterThan(0.7);
    expect(sloMissProbabilities(systemSetup(both, choices, 3))[0]!).toBeGreaterThan(exact);
  });

  it('gives the same answer through a screen of catalogs as through a system', () => {
    const screen = new SloScreen(tenants);
    for (const choices of configs)
      expect(screen.evaluate(choices).miss).toEqual(sloMissProbabilities(systemSetup(tenants, choices, 4)));
  });
});

/** The exhaustive SLO-feasible optimum by the bound (small spaces only). */
function exhaustive(tenants: readonly PlannedTenant[], cores: number): number {
  const screen = new SloScreen(tenants);
  const opts = tenants.map((t) => tenantChoices(t.catalog, cores));
  let best = Infinity;
  const walk = (i: number, left: number, cur: TenantChoice[]): void => {
    if (i === tenants.length) {
      if (screen.evaluate(cur).violation > 0) return;
      const m = defaultModel.predict(systemSetup(tenants, cur, cores)).meanResponseMs;
      if (m < best) best = m;
      return;
    }
    for (const c of opts[i]!) if (c.cores <= left) walk(i + 1, left - c.cores, [...cur, c]);
  };
  walk(0, cores, []);
  return best;
}

describe('the SLO-constrained plan', () => {
  const base: PlannedTenant[] = [
    { name: 'a', rate: 60, catalog: cat('a', 4, 6, 30, 8) },
    { name: 'b', rate: 30, catalog: cat('b', 5, 9, 45, 6) },
  ];

  it('keeps the mean-optimal configuration when it meets the SLOs', () => {
    const loose = base.map((t) => ({ ...t, sloMs: 500 }));
    const best = fastSearch(loose, 3);
    const plan = sloPlan(loose, 3, best.choices, { bestMeanMs: best.meanResponseMs });
    expect(plan).toMatchObject({
      feasible: true,
      reason: '',
      admit: [1, 1],
      meanResponseMs: best.meanResponseMs,
    });
    expect(plan.choices).toEqual(best.choices);
  });

  it('trades mean for the SLO, close to the exhaustive optimum, and the simulator meets the SLO', () => {
    const free = fastSearch(base, 3);
    const p99 = responseDistributions(systemSetup(base, free.choices, 3))[1]!.quantileMs(0.99);
    // An SLO on b well below its mean-optimal p99: the optimum breaks it, and meeting it takes both tenants moving.
    const tenants = base.map((t, i) => (i === 1 ? { ...t, sloMs: Math.round(p99 * 0.6) } : t));
    const plan = sloPlan(tenants, 3, free.choices, { bestMeanMs: free.meanResponseMs });
    expect(plan.feasible).toBe(true);
    expect(plan.admit).toEqual([1, 1]);
    expect(plan.reason).toMatch(/^configuration changed for the SLOs \(b p99 ≤ \d+ ms\)$/);
    expect(plan.choices).not.toEqual(free.choices);
    expect(plan.meanResponseMs).toBeGreaterThanOrEqual(free.meanResponseMs);
    expect(plan.meanResponseMs).toBeLessThanOrEqual(exhaustive(tenants, 3) * 1.02);
    expect(simulatedMiss(tenants, plan.choices, 3)[1]!).toBeLessThanOrEqual(0.01);
  });

  const shedding: PlannedTenant[] = [
    { name: 'a', rate: 60, catalog: cat('a', 4, 6, 30, 8), sloMs: 19 },
    { name: 'b', rate: 30, catalog: cat('b', 5, 9, 45, 6) },
  ];

  it('sheds load from the tenant without an SLO first, says which and how much, and then meets the SLO', () => {
    const free = fastSearch(shedding, 3);
    const plan = sloPlan(shedding, 3, free.choices);
    expect(plan.feasible).toBe(true);
    expect(plan.admit[0]).toBe(1);
    expect(plan.admit[1]).toBeGreaterThan(0.5);
    expect(plan.admit[1]).toBeLessThan(1);
    expect(plan.choices[1]!.admit).toBe(plan.admit[1]);
    expect(plan.choices[0]!.admit).toBeUndefined();
    expect(plan.reason).toBe(
      `SLOs (a p99 ≤ 19 ms) not met by any configuration: shed ${Math.round(100 * (1 - plan.admit[1]!))} % of the requests of b (no SLO)`,
    );
    // The admitted rates are what the stages see.
    expect(systemSetup(shedding, plan.choices, 3).tenants[1]!.rate).toBeCloseTo(30 * plan.admit[1]!, 9);
    expect(simulatedMiss(shedding, plan.choices, 3)[0]!).toBeLessThanOrEqual(0.01);
    // Tighter still: even without b the SLO fails. By default nothing of a is refused (the configuration closest
    // to the SLO); with shedSloTenants, b is shed entirely and then a share of a itself.
    const tighter = shedding.map((t, i) => (i === 0 ? { ...t, sloMs: 18 } : t));
    const kept = sloPlan(tighter, 3, free.choices);
    expect(kept).toMatchObject({ feasible: false, admit: [1, 1] });
    expect(kept.reason).toBe(
      'SLOs (a p99 ≤ 18 ms) cannot be met even without b: configuration closest to them, nothing shed',
    );
    const worse = sloPlan(tighter, 3, free.choices, { shedSloTenants: true });
    expect(worse.admit[1]).toBe(0);
    expect(worse.admit[0]).toBeLessThan(1);
    expect(worse.reason).toMatch(
      /not met even without the tenants that have none: shed all requests of b and \d+ % of a$/,
    );
  });

  it('flows into the policy decision, the simulated run and the plan', () => {
    const policy = createPolicy('swapless');
    const d = policy.initial({ tenants: shedding, cores: 3 });
    expect(d.reason).toMatch(/^initial search at the prior rates; SLOs \(a p99 ≤ 19 ms\) not met/);
    const admit = d.tenants[1]!.admit!;
    expect(admit).toBeGreaterThan(0.5);
    expect(admit).toBeLessThan(1);
    // In the simulator the shed share never arrives, and a meets its SLO.
    const run = runPolicyInSim(
      { tenants: shedding, cores: 3, durationMs: 20_000, warmupMs: 2000, seed: 4 },
      createPolicy('swapless'),
    );
    const offered = 30 * 18;
    expect(run.tenants[1]!.shed! / offered).toBeGreaterThan(0.5 * (1 - admit));
    expect(run.tenants[1]!.shed! / offered).toBeLessThan(1.5 * (1 - admit) + 0.05);
    expect(run.tenants[0]!.shed).toBeUndefined();
    expect(run.tenants[0]!.p99Ms).toBeLessThanOrEqual(19);
    const plan = planWorkload(shedding, 3, defaultModel, {
      simulate: (system) => simulatedSystem(simulate(system, { requests: 50_000, seed: 2 })),
    });
    const sw = plan.plans[0]!;
    expect(sw.slo).toMatchObject({ feasible: true });
    expect(sw.slo!.admit[1]).toBeCloseTo(admit, 1);
    expect(sw.tails![0]).toMatchObject({ sloMs: 19, sloPercentile: 'p99', sloMet: true });
    expect(sw.simulated!.tenants[0]!.sloMet).toBe(true);
    expect(sw.simulated!.tenants[0]!.withinSlo).toBeGreaterThanOrEqual(0.99);
    expect(sw.simulated!.tenants[1]!.sloMet).toBeUndefined();
    // The default compiler's plan breaks the SLO: the plan says so.
    expect(plan.plans.find((p) => p.policy === 'default')!.tails![0]!.sloMet).toBe(false);
  });
});

describe('fractionWithin', () => {
  it('interpolates the simulator CDF levels', () => {
    const cdf = [...Array.from({ length: 99 }, (_, i) => i + 1), 100];
    expect(fractionWithin(cdf, 0.5)).toBe(0);
    expect(fractionWithin(cdf, 50.5)).toBeCloseTo(0.505, 9);
    expect(fractionWithin(cdf, 1000)).toBe(0.999);
  });
});
