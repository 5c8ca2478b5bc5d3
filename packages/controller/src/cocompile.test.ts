// Co-compiled head sets: the members' TPU stages come from the device model of the set (one token, the set's
// reload, streaming by compile order), and the swapless+ search finds a set where reloads dominate — a set the
// simulator confirms — while never predicting worse than separate compilation.
import { VariantStore } from '@swapless/compiler';
import { isSwapLessError } from '@swapless/core';
import { defaultModel } from '@swapless/queueing';
import { writeModel } from '@swapless/tflite';
import { callBreakdown, getProfile, reloadMs } from '@swapless/tpu-emulator';
import { buildZooModel } from '@swapless/zoo';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCatalog, type TenantCatalog } from './catalog.js';
import {
  candidateGroupings,
  closedFormObjective,
  coCompileSearch,
  groupedTenants,
  groupingOf,
  regroupedTenants,
  setFigures,
  setsByName,
} from './cocompile.js';
import { fastSearch, fastSearchPrepared, prepareFastModel } from './fast.js';
import { createPolicy } from './policy.js';
import { systemSetup } from './setup.js';
import { runPolicyInSim } from './simrun.js';

const usb3 = getProfile('usb3');
const variants = new VariantStore();
const catalogs: Record<string, TenantCatalog> = {};
const bytes: Record<string, Uint8Array> = {};

beforeAll(async () => {
  for (const [name, seed] of [
    ['squeezenet', 1],
    ['mobilenet_v2', 2],
    ['inception_v3', 3],
  ] as const) {
    bytes[name] = writeModel(buildZooModel(name, { seed }));
    // A modelled CPU: deterministic, nothing measured.
    catalogs[name] = await buildCatalog(bytes[name]!, {
      name,
      device: usb3,
      cpu: 'devboard-a53',
      threads: [1, 2],
      maxCuts: 6,
      variants,
    });
  }
}, 120_000);

const tenant = (name: string, rate: number) => ({ name, rate, catalog: catalogs[name]! });

describe('co-compiled TPU stages', () => {
  it('are the device model of the heads compiled together: one token, the set reload, order decides streaming', () => {
    const tenants = [tenant('inception_v3', 5), tenant('mobilenet_v2', 5)];
    const whole = tenants.map((t) => t.catalog.edgetpuPrefix);
    const choices = whole.map((k) => ({ k, cores: 1, mode: 'mg1' as const }));
    for (const order of [
      [0, 1],
      [1, 0],
    ]) {
      const grouped = groupedTenants(tenants, choices, [order], variants);
      const setup = systemSetup(grouped, choices, 2);
      const together = variants.coCompiledReport(
        order.map((i) => ({ model: bytes[tenants[i]!.name]!, k: whole[i]! })),
        usb3,
      );
      order.forEach((i, j) => {
        const tpu = setup.tenants[i]!.tpu!;
        expect(tpu.token).toBe(setup.tenants[order[0]!]!.tpu!.token);
        expect(tpu.reloadMs).toBeCloseTo(reloadMs(together, usb3), 9);
        expect(tpu.serviceMs).toBeCloseTo(callBreakdown(together, usb3, { model: j }).totalMs, 9);
      });
    }
    // inception_v3 first fills the cache, so mobilenet_v2 streams; the other order streams less of it.
    const first = systemSetup(groupedTenants(tenants, choices, [[0, 1]], variants), choices, 2);
    const second = systemSetup(groupedTenants(tenants, choices, [[1, 0]], variants), choices, 2);
    expect(first.tenants[1]!.tpu!.serviceMs).toBeGreaterThan(second.tenants[1]!.tpu!.serviceMs);
    expect(first.tenants[1]!.tpu!.serviceMs).toBeGreaterThan(tenants[1]!.catalog.cuts.at(-1)!.tpu!.serviceMs);
  });

  it('computes the set in closed form exactly as the device model does for every cut pair and order', () => {
    const a = catalogs.inception_v3!.cuts.filter((c) => c.head !== undefined);
    const b = catalogs.mobilenet_v2!.cuts.filter((c) => c.head !== undefined);
    let checked = 0;
    for (const ca of a)
      for (const cb of b)
        for (const pair of [
          [ca, cb],
          [cb, ca],
        ]) {
          const heads = pair.map((c) => c.head!.report);
          const f = setFigures(heads, usb3);
          const report = variants.coCompiledFromReports(heads, usb3);
          expect(f.reloadMs).toBeCloseTo(reloadMs(report, usb3), 9);
          f.callMs.forEach((ms, j) => {
            expect(ms).toBeCloseTo(callBreakdown(report, usb3, { model: j }).totalMs, 9);
          });
          checked++;
        }
    expect(checked).toBeGreaterThan(20);
  });

  it('names sets both ways and tells which tenants changed set', () => {
    const names = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
    expect(setsByName(names, [[2, 0]])).toEqual([['c', 'a']]);
    expect(
      groupingOf(names, [
        ['c', 'a'],
        ['zz', 'b'],
      ]),
    ).toEqual([[2, 0]]);
    expect([...regroupedTenants([[0, 1]], [[1, 0]])].sort()).toEqual([0, 1]);
    expect([...regroupedTenants([[0, 1]], [[0, 1]])]).toEqual([]);
    // Three tenants with heads: the four partitions with a set of two or more.
    expect(
      candidateGroupings([tenant('squeezenet', 1), tenant('mobilenet_v2', 1), tenant('inception_v3', 1)]),
    ).toHaveLength(4);
  });
});

/** The separate optimum (fast search) and the co-compiled search from it, on 2 cores. */
function searchBoth(tenants: ReturnType<typeof tenant>[]) {
  const base = fastSearch(tenants, 2);
  const r = coCompileSearch(
    tenants,
    2,
    defaultModel,
    { choices: base.choices, predictedMs: base.meanResponseMs },
    { variants },
  );
  return { base, r };
}

describe('coCompileSearch and swapless+', () => {
  it('co-compiles two small models that take turns fast, and the simulator agrees it pays', () => {
    const tenants = [tenant('squeezenet', 60), tenant('mobilenet_v2', 60)];
    const { base, r } = searchBoth(tenants);
    expect(r.grouping).toHaveLength(1);
    expect(r.predictedMs).toBeLessThan(base.meanResponseMs * 0.95);
    const workload = { tenants, cores: 2, durationMs: 30_000, warmupMs: 3000, seed: 3 };
    const plus = runPolicyInSim(workload, createPolicy('swapless+', { coCompile: { variants } }));
    const plain = runPolicyInSim(workload, createPolicy('swapless'));
    expect(plus.policy).toBe('swapless+');
    expect(plus.decisions[0]!.sets).toEqual([expect.arrayContaining(['squeezenet', 'mobilenet_v2'])]);
    expect(plus.swaps).toBeLessThan(plain.swaps / 10);
    expect(plus.meanResponseMs).toBeLessThan(plain.meanResponseMs);
  });

  it("screens and refines with a closed form equal to the default model's prediction of the grouped system", () => {
    const tenants = [tenant('inception_v3', 8), tenant('mobilenet_v2', 30), tenant('squeezenet', 40)];
    const fm = prepareFastModel(tenants, 3);
    let checked = 0;
    for (let a = 0; a < fm.tables[0]!.choices.length; a += 3)
      for (let b = 0; b < fm.tables[1]!.choices.length; b += 2) {
        const choices = [fm.tables[0]!.choices[a]!, fm.tables[1]!.choices[b]!, fm.tables[2]!.choices.at(-1)!];
        if (choices.reduce((s, c) => s + c.cores, 0) > 3) continue;
        for (const grouping of [[], [[0, 1]], [[1, 0, 2]], [[2, 1]]]) {
          const want = defaultModel.predict(
            systemSetup(groupedTenants(tenants, choices, grouping, variants), choices, 3),
          ).meanResponseMs;
          const got = closedFormObjective(tenants, 3, choices, grouping)!;
          if (Number.isFinite(want)) expect(got).toBeCloseTo(want, 6);
          else expect(got).toBe(Number.POSITIVE_INFINITY);
          checked++;
        }
      }
    expect(checked).toBeGreaterThan(24);
  });

  it('keeps heads apart when one tenant is nearly idle (nothing to gain), never predicting worse than base', () => {
    const tenants = [tenant('inception_v3', 20), tenant('mobilenet_v2', 0.05)];
    const { base, r } = searchBoth(tenants);
    expect(r.predictedMs).toBeLessThanOrEqual(base.meanResponseMs);
    expect(r.screened).toBe(1);
  });

  it('searches the same on the fast model the base was searched on (options.model), and refuses one of others', () => {
    const tenants = [tenant('inception_v3', 8), tenant('mobilenet_v2', 30), tenant('squeezenet', 40)];
    const model = prepareFastModel(tenants, 3);
    const base = fastSearchPrepared(model);
    const plan = { choices: base.choices, predictedMs: base.meanResponseMs };
    const fresh = coCompileSearch(tenants, 3, defaultModel, plan, { variants });
    expect(coCompileSearch(tenants, 3, defaultModel, plan, { variants, model })).toEqual(fresh);
    // Other cores, or the same tenants at other rates (e.g. a model made before load was shed): refused.
    const shed = tenants.map((t, i) => (i === 2 ? { ...t, rate: t.rate / 2 } : t));
    for (const [ts, c] of [
      [tenants, 2],
      [shed, 3],
    ] as const) {
      let caught: unknown;
      try {
        coCompileSearch(ts, c, defaultModel, plan, { variants, model });
      } catch (e) {
        caught = e;
      }
      expect(isSwapLessError(caught, 'SWAPLESS_INVALID_ARGUMENT')).toBe(true);
    }
  });
});
