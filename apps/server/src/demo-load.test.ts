// The demo load's sizing: a pure function from measured costs to rates. These tests check the arithmetic and the
// shape against costs chosen here; what the sized load does on a real host is measured by `npm run bench:live-truth`.
import { parseWorkload } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import {
  bannerDemoLoad,
  DEMO_LOAD_TARGET,
  type DemoTenantCost,
  STEP_LANE_MAX,
  sizeDemoLoad,
} from './demo-load.js';

const T = DEMO_LOAD_TARGET;

const costs: DemoTenantCost[] = [
  { name: 'mobilenet_v2', model: 'mobilenet_v2', hostMs: 10, overheadMs: 1, deviceMs: 12 },
  { name: 'mobilenet_v1', model: 'mobilenet_v1', hostMs: 15, overheadMs: 1, deviceMs: 14 },
  { name: 'efficientnet_s', model: 'efficientnet_edgetpu_s', hostMs: 40, overheadMs: 1, deviceMs: 30 },
];
const host = { cores: 2, lanes: 1 };

/** Σ λ·ms over the tenants at `rates`, in busy seconds per second. */
function busy(rates: Record<string, number>, ms: (c: DemoTenantCost) => number): number {
  return costs.reduce((s, c) => s + rates[c.name]! * ms(c), 0) / 1000;
}

describe('sizeDemoLoad', () => {
  it('keeps the demo shape and uses at most the target of the lanes, the host and the device in either phase', () => {
    const { workload, sizing } = sizeDemoLoad(costs, host);
    expect(parseWorkload(workload, 'demo').workload.tenants.map((t) => t.name)).toEqual(
      costs.map((c) => c.name),
    );
    const first = Object.fromEntries(workload.tenants.map((t) => [t.name, t.rate]));
    const second = { ...first, ...workload.phases[0]!.rates };
    // The step: the first tenant drops to a quarter, the second triples, the third keeps its rate.
    expect(workload.phases).toHaveLength(1);
    expect(workload.phases[0]!.atS).toBe(20);
    expect(Object.keys(workload.phases[0]!.rates)).toEqual(['mobilenet_v2', 'mobilenet_v1']);
    expect(second.mobilenet_v2! / first.mobilenet_v2!).toBeCloseTo(0.25, 1);
    expect(second.mobilenet_v1! / first.mobilenet_v1!).toBeCloseTo(3, 1);
    expect(first.mobilenet_v2! / first.efficientnet_s!).toBeCloseTo(4, 0);
    // Before the step every resource is within the target; after it the host and the device are, while one lane
    // may reach twice the target (so the first phase's plan, kept, would queue on it).
    for (const [rates, laneTarget] of [
      [first, T],
      [second, Math.min(STEP_LANE_MAX, 2 * T)],
    ] as const) {
      expect(busy(rates, (c) => c.hostMs) / host.lanes).toBeLessThanOrEqual(laneTarget);
      expect(busy(rates, (c) => c.hostMs + c.overheadMs) / host.cores).toBeLessThanOrEqual(T);
      expect(busy(rates, (c) => c.deviceMs)).toBeLessThanOrEqual(T);
    }
    // After the step the lane is loaded past the target (the device binds here), and the rates are as high as
    // rounding down to 0.1 req/s allows: the binding resource is at its limit.
    const step = sizing.phases[1]!;
    expect(step.lanes).toBeGreaterThan(T);
    expect(step.lanes).toBeGreaterThan(sizing.phases[0]!.lanes);
    expect(
      Math.max(step.host / T, step.device / T, step.lanes / Math.min(STEP_LANE_MAX, 2 * T)),
    ).toBeGreaterThan(0.97);
    expect(sizing.phases.map((p) => p.rates)).toEqual([first, second]);
    expect(workload).toMatchObject({ device: 'usb3', cpu: { cores: 1 }, durationS: 40, seed: 7 });
  });

  it('scales with the host: twice the lanes and cores, twice the rates; a heavy device binds instead', () => {
    // (There is one device whatever the host: with a cheap device the host binds.)
    const cheap = costs.map((c) => ({ ...c, deviceMs: 1 }));
    const one = sizeDemoLoad(cheap, host).workload.tenants.map((t) => t.rate);
    const two = sizeDemoLoad(cheap, { cores: 4, lanes: 2 }).workload.tenants.map((t) => t.rate);
    for (const [i, r] of two.entries()) expect(r).toBeCloseTo(2 * one[i]!, 0);
    // A device that needs 100 ms per call: it binds, at the target in the heavier phase.
    const slowDevice = costs.map((c) => ({ ...c, deviceMs: 100 }));
    const { sizing } = sizeDemoLoad(slowDevice, host);
    const device = Math.max(...sizing.phases.map((p) => p.device));
    expect(device).toBeGreaterThan(T - 0.02);
    expect(device).toBeLessThanOrEqual(T);
    expect(Math.max(...sizing.phases.map((p) => p.lanes))).toBeLessThan(T);
    // A lower target, lower rates.
    const low = sizeDemoLoad(cheap, host, { target: 0.25 }).workload.tenants.map((t) => t.rate);
    for (const [i, r] of low.entries()) expect(r).toBeLessThan(one[i]!);
  });

  it('gives each tenant an SLO of a few times what one request costs it alone', () => {
    const { workload } = sizeDemoLoad(costs, host);
    expect(workload.tenants.map((t) => t.sloMs)).toEqual([100, 120, 290]);
  });

  it('sizes one tenant, and says what the banner shows', () => {
    // Alone, mobilenet_v2's device time binds: 0.35 / 12 ms = 29.17 req/s, rounded down; a quarter after the step.
    expect(T).toBe(0.35);
    const { workload } = sizeDemoLoad([costs[0]!], host, { stepAtS: 10, durationS: 30, seed: 3 });
    expect(workload.tenants[0]!.rate).toBe(29.1);
    expect(workload.phases).toEqual([{ atS: 10, rates: { mobilenet_v2: 7.2 } }]);
    expect(workload).toMatchObject({ durationS: 30, seed: 3 });
    expect(bannerDemoLoad(sizeDemoLoad([costs[0]!], host))).toEqual({
      rates: { mobilenet_v2: 29.1 },
      step: { atS: 20, rates: { mobilenet_v2: 7.2 } },
      durationS: 40,
      utilisation: expect.closeTo(0.35, 1),
      stepGain: null,
      stepReverseGain: null,
    });
    expect(bannerDemoLoad(null)).toBeNull();
  });

  it('caps the total rate: a model that costs next to nothing does not make an HTTP benchmark of the demo', () => {
    const tiny = [{ name: 'tiny', model: 'tiny', hostMs: 0.001, overheadMs: 0.005, deviceMs: 0.3 }];
    const { workload, sizing } = sizeDemoLoad(tiny, host);
    expect(workload.tenants[0]!.rate).toBe(200);
    expect(workload.phases).toEqual([{ atS: 20, rates: { tiny: 50 } }]);
    expect(Math.max(...sizing.phases.map((p) => p.device))).toBeLessThan(0.1);
    const three = sizeDemoLoad(
      costs.map((c) => ({ ...c, hostMs: 0.01, deviceMs: 0.01, overheadMs: 0 })),
      host,
      { maxTotalRate: 70 },
    ).workload;
    // The heavier phase in requests: 1 + 6 + 1 (second phase) against 4 + 2 + 1.
    const second = {
      ...Object.fromEntries(three.tenants.map((t) => [t.name, t.rate])),
      ...three.phases[0]!.rates,
    };
    const total = Object.values(second).reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(70);
    expect(total).toBeGreaterThan(69);
  });

  it('refuses costs and hosts it cannot size from (InvalidArgumentError)', () => {
    const bad: [DemoTenantCost[], { cores: number; lanes: number }, number?][] = [
      [[], host],
      [[{ ...costs[0]!, hostMs: Number.NaN }], host],
      [[{ ...costs[0]!, deviceMs: -1 }], host],
      [costs, { cores: 0, lanes: 1 }],
      [costs, { cores: 2, lanes: 0 }],
      [costs, host, 0],
      [costs, host, 1.5],
    ];
    expect(() => sizeDemoLoad(costs, host, { maxTotalRate: 0 })).toThrow(
      expect.objectContaining({ code: 'SWAPLESS_INVALID_ARGUMENT' }),
    );
    for (const [c, h, target] of bad) {
      expect(() => sizeDemoLoad(c, h, target === undefined ? {} : { target })).toThrow(
        expect.objectContaining({ code: 'SWAPLESS_INVALID_ARGUMENT' }),
      );
    }
  });
});
