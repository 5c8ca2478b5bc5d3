import type { DeviceSetup, SystemSetup } from '@swapless/contracts';
import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { defaultModel } from '@swapless/queueing';
import { describe, expect, it } from 'vitest';
import { SwitchCostModel } from './hysteresis.js';
import { canonicalPlacements, placedSystem, placementCandidates, searchPlacement } from './placement.js';
import { oraclePolicy, oracleSearch, swaplessPolicy } from './policy.js';
import { searchConfiguration } from './search.js';
import type { PlannedTenant } from './setup.js';
import { runPolicyInSim } from './simrun.js';
import { rand, syntheticCatalog } from './synthetic.test-util.js';

function instance(seed: number, m: number): PlannedTenant[] {
  const r = rand(seed);
  return Array.from({ length: m }, (_, i) => ({
    name: `t${i}`,
    rate: 10 + 30 * r(),
    catalog: syntheticCatalog(`p${seed}t${i}`, {
      cuts: 3 + Math.floor(r() * 2),
      tpuMs: 4 + 8 * r(),
      cpuMs: 20 + 40 * r(),
      reloadMs: 3 + 10 * r(),
      seed: seed * 10 + i,
    }),
  }));
}

const two: DeviceSetup[] = [{ id: 'tpu-a' }, { id: 'tpu-b' }];

describe('placement search (several Edge TPUs)', () => {
  it('enumerates placements up to the symmetry of identical devices', () => {
    expect(canonicalPlacements(4, 1)).toEqual([[0, 0, 0, 0]]);
    expect(canonicalPlacements(4, 2)?.length).toBe(8);
    expect(canonicalPlacements(4, 4)?.length).toBe(15); // the Bell number B4
    expect(canonicalPlacements(12, 4, 100)).toBeNull();
  });

  it('finds the optimum of an exhaustive search over every labelled placement, cut and core split', () => {
    for (let seed = 1; seed <= 4; seed++) {
      const tenants = instance(seed, 3);
      const cores = 3;
      const found = searchPlacement(tenants, cores, two, { model: defaultModel });
      let best = Infinity;
      for (let mask = 0; mask < 8; mask++) {
        const placed = tenants.map((t, i) => ({ ...t, device: two[(mask >> i) & 1]!.id }));
        const predictor = {
          name: 'exhaustive',
          predict: (s: SystemSetup) => defaultModel.predict({ ...s, devices: two }),
        };
        const r = searchConfiguration(placed, cores, predictor, { exhaustiveLimit: Infinity });
        best = Math.min(best, r.prediction.meanResponseMs);
      }
      expect(found.predictedMs).toBeCloseTo(best, 9);
      // The choices carry their devices, and predict what the search said.
      const again = defaultModel.predict(placedSystem(tenants, found.choices, cores, two));
      expect(again.meanResponseMs).toBeCloseTo(found.predictedMs, 9);
      expect(found.choices.every((c) => c.device === 'tpu-a' || c.device === 'tpu-b')).toBe(true);
      expect(found.placements).toBe(4); // 3 tenants on 2 identical devices
    }
  });

  it('the bound prunes placements without changing the optimum', () => {
    const tenants = instance(7, 4);
    const four = [0, 1, 2, 3].map((i) => ({ id: `pci:${i}` }));
    const r = searchPlacement(tenants, 4, four, { model: defaultModel });
    const all = placementCandidates(tenants, 4, four, { model: defaultModel });
    expect(r.placements).toBe(15);
    expect(r.pruned).toBeGreaterThan(0);
    expect(r.predictedMs).toBeCloseTo(all[0]!.predictedMs, 9);
    expect(all).toHaveLength(15);
  });

  it('refuses duplicate device ids with a typed error', () => {
    const tenants = instance(2, 2);
    try {
      searchPlacement(tenants, 2, [{ id: 'a' }, { id: 'a' }], { model: defaultModel });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
      expect((err as Error).message).toMatch(/unique, non-empty device id/);
    }
  });

  it('the swapless policy places tenants and its decisions carry the device; one device decides as before', () => {
    const tenants = instance(3, 4).map((t) => ({ name: t.name, catalog: t.catalog, rate: t.rate }));
    const one = swaplessPolicy().initial({ tenants, cores: 4 });
    const listed = swaplessPolicy().initial({ tenants, cores: 4, devices: [{ id: 'usb:0' }] });
    expect(listed).toEqual(one);
    expect(one.tenants.every((c) => c.device === undefined)).toBe(true);
    const placed = swaplessPolicy().initial({ tenants, cores: 4, devices: two });
    const used = new Set(placed.tenants.map((c) => c.device));
    expect(used).toEqual(new Set(['tpu-a', 'tpu-b']));
    expect(placed.predictedMs).toBeLessThan(one.predictedMs);
  });

  it('moving a tenant to another device costs the load of its head there', () => {
    const catalog = syntheticCatalog('m');
    const costs = new SwitchCostModel();
    const k = catalog.cuts[2]!.k;
    const stay = costs.stallMs(
      'm',
      catalog,
      { k, cores: 1, mode: 'mg1', device: 'a' },
      { k, cores: 1, mode: 'mg1', device: 'a' },
    );
    const move = costs.stallMs(
      'm',
      catalog,
      { k, cores: 1, mode: 'mg1', device: 'a' },
      { k, cores: 1, mode: 'mg1', device: 'b' },
    );
    expect(stay).toBe(0);
    expect(move).toBeGreaterThan(catalog.cuts[2]!.tpu!.reloadMs);
  });

  it('the static oracle simulates placements too, and is no worse in simulation than the model’s best', () => {
    const tenants = instance(5, 3).map((t) => ({ name: t.name, catalog: t.catalog, rate: t.rate }));
    const ctx = { tenants, cores: 3, devices: two };
    const candidates = oracleSearch(ctx, { durationMs: 20_000, seed: 3 });
    const oracle = oraclePolicy({ durationMs: 20_000, seed: 3 }).initial(ctx);
    expect(oracle.tenants.every((c) => c.device !== undefined)).toBe(true);
    expect(oracle.tenants.map(({ name: _n, ...c }) => c)).toEqual(candidates[0]!.choices);
    // The model's best (what swapless starts with) is one of the candidates, simulated on the same arrivals.
    const swapless = swaplessPolicy().initial(ctx);
    const mine = candidates.find(
      (c) => JSON.stringify(c.choices) === JSON.stringify(swapless.tenants.map(({ name: _n, ...x }) => x)),
    );
    expect(mine).toBeDefined();
    expect(candidates[0]!.simulatedMs).toBeLessThanOrEqual(mine!.simulatedMs);
    // Placements the model ranks differently are simulated too (3 tenants on 2 devices: 4 placements).
    const placements = new Set(candidates.map((c) => c.choices.map((x) => x.device).join()));
    expect(placements.size).toBeGreaterThanOrEqual(3);
  });
});

describe('policies on several Edge TPUs in the simulator', () => {
  it('swapless runs its placement in the loop; a rate step moves a tenant to the other device', () => {
    const base = instance(11, 4);
    // t0 and t1 busy for 20 s, then t2 and t3: the placement that was best at the start no longer is.
    const tenants = base.map((t, i) => ({
      name: t.name,
      catalog: t.catalog,
      rate: i < 2 ? t.rate : t.rate / 6,
    }));
    const after = Object.fromEntries(base.map((t, i) => [t.name, i < 2 ? t.rate / 6 : t.rate]));
    const run = runPolicyInSim(
      {
        tenants,
        cores: 4,
        devices: two,
        durationMs: 60_000,
        seed: 4,
        phases: [{ atMs: 20_000, rates: after }],
      },
      swaplessPolicy(),
      { quantiles: 'sketch' },
    );
    expect(run.decisions[0]!.tenants.every((c) => c.device === 'tpu-a' || c.device === 'tpu-b')).toBe(true);
    // The simulator ran what the last decision says, device by device.
    const last = run.decisions.at(-1)!;
    for (const d of run.sim.devices!) {
      expect(d.tenants.sort()).toEqual(
        last.tenants
          .filter((c) => c.device === d.id)
          .map((c) => c.name)
          .sort(),
      );
    }
    expect(run.rejected).toBe(0);
    expect(Number.isFinite(run.meanResponseMs)).toBe(true);
    // A tenant keeps its cut and moves to the other device: a reconfiguration of its own.
    const moved = run.decisions.slice(1).some((d, i) =>
      d.tenants.some((c, j) => {
        const was = run.decisions[i]!.tenants[j]!;
        return c.k > 0 && c.k === was.k && c.device !== was.device;
      }),
    );
    expect(moved).toBe(true);
    // Every decision after the first changed something, a device move counting as a change.
    for (let i = 1; i < run.decisions.length; i++) {
      const before = run.decisions[i - 1]!.tenants;
      const changed = run.decisions[i]!.tenants.some(
        (c, j) => c.k !== before[j]!.k || c.cores !== before[j]!.cores || c.device !== before[j]!.device,
      );
      expect(changed).toBe(true);
    }
  });
});
