// The demo's step: the controller's predicted plans before and after it, and the choice of the mix.
import type { TenantCatalog } from '@swapless/controller';
import { delayedPredictor, ServiceCorrection, systemSetup } from '@swapless/controller';
import { defaultModel } from '@swapless/queueing';
import { describe, expect, it } from 'vitest';
import { DEMO_MIXES, type DemoTenantCost, sizeDemoLoad } from './demo-load.js';
import { chooseDemoLoad, DEMO_STEP_MIN_GAIN, planDemoStep } from './demo-step.js';

/**
 * A three-cut catalog (all on the CPU, half and half, all on the Edge TPU): `wholeMs` of CPU at one thread, a
 * device call of `deviceMs`. With an emulation pool the head costs the host its share of `wholeMs`.
 */
function catalog(name: string, wholeMs: number, deviceMs: number): TenantCatalog {
  const cut = (k: number, share: number) => ({
    k,
    tpu:
      k === 0
        ? null
        : {
            token: `${name}@${k}`,
            serviceMs: deviceMs * share,
            serviceVarianceMs2: 0,
            reloadMs: 1,
            source: 'emulated' as const,
          },
    cpu: k === 10 ? null : new Map([[1, [wholeMs * (1 - share)]]]),
    boundaryBytes: 1000,
    tpuMacsShare: share,
  });
  return {
    model: name,
    sha256: name,
    n: 10,
    edgetpuPrefix: 10,
    kind: 'partitioned',
    reason: null,
    device: 'usb3',
    threads: [1],
    cuts: [cut(0, 0), cut(5, 0.5), cut(10, 1)],
    profile: null,
  };
}

const costs: DemoTenantCost[] = [
  { name: 'a', model: 'a', hostMs: 20, overheadMs: 1, deviceMs: 3 },
  { name: 'b', model: 'b', hostMs: 30, overheadMs: 1, deviceMs: 4 },
];
const catalogs = new Map([
  ['a', catalog('a', 20, 3)],
  ['b', catalog('b', 30, 4)],
]);
const host = { cores: 2, lanes: 1 };

describe('planDemoStep', () => {
  it("predicts the policy's plan per phase and the gain of switching at the step under the pool model", () => {
    const load = sizeDemoLoad(costs, host, { target: 0.6 });
    const step = planDemoStep(load, catalogs, 2, 1, 0);
    expect(step.mix).toBe(0);
    expect(step.before).toMatch(/^a k=\d+ c=\d( mg[1c])?, b k=\d+ c=\d( mg[1c])?$/);
    // keptMs is the first plan at the second phase's rates, under the same corrected model and pool.
    const correction = new ServiceCorrection(catalogs);
    correction.setEmulation(1);
    const second = load.sizing.phases[1]!.rates;
    const planned = ['a', 'b'].map((name) => ({
      name,
      rate: second[name]!,
      catalog: correction.corrected(name),
    }));
    const parse = (s: string) =>
      s.split(', ').map((p) => {
        const [, k, c, mode] = /k=(\d+) c=(\d+)(?: (mg1|mgc))?$/.exec(p)!;
        return { k: Number(k), cores: Number(c), mode: (mode ?? 'mg1') as 'mg1' | 'mgc' };
      });
    const kept = delayedPredictor(defaultModel, planned, { emulationWorkers: 1 }).predict(
      systemSetup(planned, parse(step.before), 2),
    ).meanResponseMs;
    expect(step.keptMs).toBeCloseTo(kept, 6);
    expect(step.bestMs).toBeLessThanOrEqual(step.keptMs + 1e-9);
    expect(step.gain).toBeCloseTo((step.keptMs - step.bestMs) / step.keptMs, 9);
    // b's rate triples at the step: its head alone would load the pool's one worker to 63 %, so the plan after
    // the step splits b between the pool and a core, and keeping the first plan would cost far more.
    expect(step.after).not.toBe(step.before);
    expect(step.gain).toBeGreaterThan(DEMO_STEP_MIN_GAIN);
    // And the other way: the second plan at the first phase's rates, against the first phase's best.
    const first = load.sizing.phases[0]!.rates;
    const before = ['a', 'b'].map((name) => ({
      name,
      rate: first[name]!,
      catalog: correction.corrected(name),
    }));
    const model = delayedPredictor(defaultModel, before, { emulationWorkers: 1 });
    const early = model.predict(systemSetup(before, parse(step.after), 2)).meanResponseMs;
    const best = model.predict(systemSetup(before, parse(step.before), 2)).meanResponseMs;
    expect(early).toBeGreaterThanOrEqual(best - 1e-9);
    expect(step.reverseGain).toBeCloseTo(Number.isFinite(early) ? (early - best) / early : 1, 6);
  });

  it('finds no gain when the step changes nothing', () => {
    const flat = sizeDemoLoad(costs, host, {
      mix: [
        [1, 1],
        [1, 1],
      ],
    });
    const step = planDemoStep(flat, catalogs, 2, 1, 9);
    expect(step.before).toBe(step.after);
    expect(step.gain).toBe(0);
    expect(step.reverseGain).toBe(0);
  });
});

describe('chooseDemoLoad', () => {
  const planWith =
    (gains: readonly (number | Error)[], reverse: readonly number[] = [1, 1, 1, 1]) =>
    (_: unknown, mix: number) => {
      const g = gains[mix]!;
      if (g instanceof Error) throw g;
      return {
        mix,
        before: 'x',
        after: 'y',
        keptMs: 10,
        bestMs: 10 * (1 - g),
        gain: g,
        reverseGain: reverse[mix]!,
      };
    };

  it('keeps the first mix whose predicted gain reaches the minimum', () => {
    expect(DEMO_STEP_MIN_GAIN).toBe(0.1);
    const load = chooseDemoLoad(costs, host, 'usb3', planWith([0.02, 0.15, 0.5, 0.5]));
    expect(load.sizing.step?.mix).toBe(1);
    // Sized with that mix: the first tenant's rate rises fourfold at the step.
    const [first, second] = load.sizing.phases.map((p) => p.rates);
    expect(second!.a! / first!.a!).toBeCloseTo(DEMO_MIXES[1]![0]![1] / DEMO_MIXES[1]![0]![0], 0);
  });

  it('wants the gain both ways: a step whose second plan is nearly as good before it does not count', () => {
    // Mix 1 gains 15 % at the step, but its second plan is only 2 % worse before it: mix 2 is kept.
    const load = chooseDemoLoad(costs, host, 'usb3', planWith([0.02, 0.15, 0.5, 0.5], [1, 0.02, 0.3, 1]));
    expect(load.sizing.step?.mix).toBe(2);
    // None reaches the minimum both ways: the largest smaller of the two.
    const fallback = chooseDemoLoad(
      costs,
      host,
      'usb3',
      planWith([0.3, 0.3, 0.05, 0.3], [0.01, 0.08, 0.5, 0.06]),
    );
    expect(fallback.sizing.step?.mix).toBe(1);
  });

  it('falls back to the largest gain, and a mix that cannot be planned counts as none', () => {
    expect(
      chooseDemoLoad(costs, host, 'usb3', planWith([0.02, new Error('x'), 0.05, 0.01])).sizing.step?.mix,
    ).toBe(2);
    const none = chooseDemoLoad(costs, host, 'usb3', planWith([new Error('x'), 0, 0, 0]));
    expect(none.sizing.step).toBeNull();
    expect(none.workload.tenants.map((t) => t.rate)).toEqual(
      sizeDemoLoad(costs, host, { device: 'usb3' }).workload.tenants.map((t) => t.rate),
    );
  });
});
