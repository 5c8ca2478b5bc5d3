import { defaultModel } from '@swapless/queueing';
import { simulate } from '@swapless/sim';
import { describe, expect, it } from 'vitest';
import { planWorkload, predictTails, simulatedSystem } from './plan.js';
import { systemSetup } from './setup.js';
import { syntheticCatalog } from './synthetic.test-util.js';

const tenants = [
  {
    name: 'a',
    rate: 30,
    catalog: syntheticCatalog('a', { seed: 1, tpuMs: 5, cpuMs: 30, reloadMs: 6 }),
    sloMs: 40,
  },
  { name: 'b', rate: 20, catalog: syntheticCatalog('b', { seed: 2, tpuMs: 8, cpuMs: 50, reloadMs: 4 }) },
];

describe('predicted tails in a plan', () => {
  it('gives every policy p95, p99 and the share within the SLO, close to what the simulator measures', () => {
    const plan = planWorkload(tenants, 2, defaultModel, {
      simulate: (system) =>
        simulatedSystem(simulate(system, { requests: 200_000, seed: 5, quantiles: 'exact' })),
    });
    const checked = plan.plans.filter((p) => p.tails !== null && p.simulated !== null);
    expect(checked.length).toBeGreaterThanOrEqual(2);
    for (const p of checked) {
      p.tails!.forEach((t, i) => {
        const sim = p.simulated!.tenants[i]!;
        expect(t.name).toBe(sim.name);
        expect(t.p95Ms).toBeLessThanOrEqual(t.p99Ms);
        expect(Math.abs(t.p95Ms - sim.p95Ms) / sim.p95Ms).toBeLessThan(0.1);
        expect(Math.abs(t.p99Ms - sim.p99Ms) / sim.p99Ms).toBeLessThan(0.1);
      });
      const [a, b] = p.tails!;
      expect(a!.sloMs).toBe(40);
      expect(a!.withinSlo).toBeGreaterThanOrEqual(0);
      expect(a!.withinSlo).toBeLessThanOrEqual(1);
      expect(b!.sloMs).toBeNull();
      expect(b!.withinSlo).toBeNull();
    }
  });

  it('has no tails for an unstable configuration', () => {
    const busy = tenants.map((t) => ({ ...t, rate: t.rate * 40 }));
    const choices = [
      { k: 0, cores: 1, mode: 'mg1' as const },
      { k: 0, cores: 1, mode: 'mg1' as const },
    ];
    expect(predictTails(systemSetup(busy, choices, 2))).toBeNull();
    const quiet = tenants.map((t) => ({ ...t, rate: t.rate / 4 }));
    const calm = predictTails(systemSetup(quiet, choices, 2))!;
    // Within the SLO: the predicted CDF at 40 ms, between the p95's and p99's sides when 40 ms lies between them.
    const a = calm[0]!;
    if (a.p95Ms < 40 && 40 < a.p99Ms) {
      expect(a.withinSlo!).toBeGreaterThan(0.95);
      expect(a.withinSlo!).toBeLessThan(0.99);
    }
    expect(a.withinSlo! >= 0.99).toBe(a.p99Ms <= 40);
  });
});
