import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { Simulation, simulate } from './simulate.js';
import { cpu, exponentialSamples, system, tenant, tpu } from './testing.js';

const switchAware = (maxExtraWaitMs: number) => ({ kind: 'switch-aware' as const, maxExtraWaitMs });

/** Two tenants with their own tokens: 1 ms calls, 10 ms reloads. */
function pair(rateA: number, rateB: number) {
  return [
    tenant('a', rateA, { tpu: tpu({ token: 'A', serviceMs: 1, reloadMs: 10 }), cpu: cpu([2]) }),
    tenant('b', rateB, { tpu: tpu({ token: 'B', serviceMs: 1, reloadMs: 10 }), cpu: cpu([2]) }),
  ];
}

describe('switch-aware Edge TPU discipline', () => {
  it('serves a later call of the token on chip first, within the budget (hand-computed trace)', () => {
    const arrivals = { a: [0, 0.6], b: [0.5] };
    const opts = { arrivals, initialToken: 'A' };
    // FIFO: a 0–1, b 1–12 (reload), a 12–23 (reload); then 2 ms of CPU each.
    const fifo = simulate(system(pair(0, 0)), opts);
    expect(fifo.swaps).toBe(2);
    expect(fifo.tenants[0]!.meanResponseMs).toBeCloseTo((3 + (25 - 0.6)) / 2, 12);
    expect(fifo.tenants[1]!.meanResponseMs).toBeCloseTo(14 - 0.5, 12);
    // Switch-aware, 5 ms budget: at 1 ms the second a call (no reload) passes b: a 1–2, b 2–13.
    const sa = simulate({ ...system(pair(0, 0)), discipline: switchAware(5) }, opts);
    expect(sa.swaps).toBe(1);
    // a's CPU stage: 1–3 and 3–5 (its second call is ready at 2 and waits for the first).
    expect(sa.tenants[0]!.meanResponseMs).toBeCloseTo((3 + (5 - 0.6)) / 2, 12);
    expect(sa.tenants[1]!.meanResponseMs).toBeCloseTo(15 - 0.5, 12);
    expect(sa.maxOvertakenMs).toBe(1);
    // A budget below one call's expected service lets nothing pass: FIFO again.
    const tight = simulate({ ...system(pair(0, 0)), discipline: switchAware(0.5) }, opts);
    expect(tight.tenants.map((t) => t.meanResponseMs)).toEqual(fifo.tenants.map((t) => t.meanResponseMs));
    expect(tight.maxOvertakenMs).toBe(0);
  });

  it('cuts reloads on an alternating two-tenant load, and no call is overtaken beyond the budget', () => {
    const tenants = pair(60, 60).map((t) => ({
      ...t,
      tpu: { ...t.tpu!, serviceVarianceMs2: 0.3 },
      cpu: cpu(exponentialSamples(2, 200)),
    }));
    const opts = { durationMs: 60_000, seed: 3 };
    const fifo = simulate(system(tenants), opts);
    const budget = 1.5;
    const sa = simulate({ ...system(tenants), discipline: switchAware(budget) }, opts);
    expect(sa.completed).toBeGreaterThan(0.95 * fifo.completed);
    expect(sa.swaps).toBeLessThan(0.9 * fifo.swaps);
    expect(sa.meanResponseMs).toBeLessThan(fifo.meanResponseMs);
    expect(sa.maxOvertakenMs).toBeGreaterThan(0);
    expect(sa.maxOvertakenMs).toBeLessThanOrEqual(budget);
    // A bigger budget allows more reordering: fewer reloads still.
    const loose = simulate({ ...system(tenants), discipline: switchAware(10) }, opts);
    expect(loose.swaps).toBeLessThan(sa.swaps);
    expect(loose.maxOvertakenMs).toBeLessThanOrEqual(10);
    expect(loose.maxOvertakenMs).toBeGreaterThan(budget);
  });

  it('is FIFO with a budget of 0, and with one token whatever the budget', () => {
    const opts = { durationMs: 20_000, seed: 5 };
    const two = system(pair(120, 80));
    expect(simulate({ ...two, discipline: switchAware(0) }, opts)).toEqual(simulate(two, opts));
    const one = system([
      tenant('a', 300, {
        tpu: tpu({ serviceMs: 1, serviceVarianceMs2: 0.5, reloadMs: 9 }),
        cpu: cpu([1, 3]),
      }),
    ]);
    const fifo = simulate(one, opts);
    const sa = simulate({ ...one, discipline: switchAware(50) }, opts);
    expect(sa.meanResponseMs).toBeCloseTo(fifo.meanResponseMs, 9);
    expect(sa.tenants[0]!.p99Ms).toBeCloseTo(fifo.tenants[0]!.p99Ms, 9);
    expect(sa.swaps).toBe(fifo.swaps);
    expect(sa.maxOvertakenMs).toBe(0);
  });

  it('follows a discipline changed by a reconfiguration, and counts queued calls at ticks', () => {
    const tenants = pair(150, 150);
    const sim = new Simulation(system(tenants), { durationMs: 20_000, tickMs: 10_000, seed: 2 });
    const first = sim.step()!;
    sim.reconfigure({ tenants: [], discipline: switchAware(20) });
    expect(first.tpuQueue).toBeGreaterThanOrEqual(0);
    const res = sim.finish();
    const series = simulate(system(tenants), { durationMs: 20_000, seed: 2, seriesWindowMs: 10_000 });
    const fifoSecondHalf = series.series!.tenants.reduce((s, t) => s + t.swaps[1]!, 0);
    expect(res.swaps - first.swaps).toBeLessThan(0.6 * fifoSecondHalf);
    expect(res.maxOvertakenMs).toBeLessThanOrEqual(20);
  });

  it('refuses a malformed discipline before simulating', () => {
    for (const discipline of ['lifo', { kind: 'switch-aware', maxExtraWaitMs: -1 }]) {
      let caught: unknown;
      try {
        simulate({ ...system(pair(1, 1)), discipline } as never, { durationMs: 10 });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError);
      expect((caught as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    }
  });
});
