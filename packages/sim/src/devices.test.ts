// Several Edge TPUs on one host: each device its own FCFS queue and cached token, the CPU cores shared.
import type { SystemSetup } from '@swapless/contracts';
import { ErrorCodes, InvalidArgumentError, Xoshiro128 } from '@swapless/core';
import { defaultModel } from '@swapless/queueing';
import { describe, expect, it } from 'vitest';
import { Simulation, simulate } from './simulate.js';
import { cpu, exponentialSamples, tenant, tpu } from './testing.js';

/** Poisson arrival times (ms) at `rate` req/s up to `untilMs`, from a fixed seed. */
function trace(rate: number, untilMs: number, seed: number): Float64Array {
  const g = new Xoshiro128(seed, 5);
  const out: number[] = [];
  for (let t = g.exponential() * (1000 / rate); t < untilMs; t += g.exponential() * (1000 / rate))
    out.push(t);
  return Float64Array.from(out);
}

describe('several Edge TPUs', () => {
  const a = tenant('a', 60, { tpu: tpu({ token: 'a', serviceMs: 5, reloadMs: 4 }), cpu: cpu([3]) });
  const b = tenant('b', 40, { tpu: tpu({ token: 'b', serviceMs: 7, reloadMs: 6 }), cpu: cpu([4]) });
  const arrivals = { a: trace(60, 60_000, 1), b: trace(40, 60_000, 2) };

  it('two devices with one tenant each simulate exactly like two independent one-tenant systems', () => {
    const both = simulate(
      {
        tenants: [
          { ...a, device: 'tpu-0' },
          { ...b, device: 'tpu-1' },
        ],
        cores: 2,
        devices: [{ id: 'tpu-0' }, { id: 'tpu-1' }],
      },
      { durationMs: 60_000, arrivals },
    );
    const alone = [
      simulate({ tenants: [a], cores: 1 }, { durationMs: 60_000, arrivals: { a: arrivals.a } }),
      simulate({ tenants: [b], cores: 1 }, { durationMs: 60_000, arrivals: { b: arrivals.b } }),
    ];
    both.tenants.forEach((t, i) => {
      const one = alone[i]!.tenants[0]!;
      expect(t.completed).toBe(one.completed);
      expect(t.meanResponseMs).toBeCloseTo(one.meanResponseMs, 9);
      expect(t.p99Ms).toBeCloseTo(one.p99Ms, 9);
      expect(t.tpuUtilization).toBeCloseTo(one.tpuUtilization, 12);
      // No reloads beyond each device's very first call.
      expect(t.swaps).toBe(1);
    });
    expect(both.devices?.map((d) => [d.id, d.tenants])).toEqual([
      ['tpu-0', ['a']],
      ['tpu-1', ['b']],
    ]);
    // On one device the two take turns: hundreds of reloads, and a longer mean.
    const shared = simulate({ tenants: [a, b], cores: 2 }, { durationMs: 60_000, arrivals });
    expect(shared.swaps).toBeGreaterThan(500);
    expect(shared.meanResponseMs).toBeGreaterThan(both.meanResponseMs * 1.2);
  });

  it('the queueing model matches the simulator within a few per cent on four tenants on two devices', () => {
    const system: SystemSetup = {
      cores: 4,
      devices: [{ id: 'usb:0' }, { id: 'usb:1' }],
      tenants: [
        {
          ...tenant('w', 50, {
            tpu: tpu({ token: 'w', serviceMs: 5, reloadMs: 3, serviceVarianceMs2: 1 }),
            cpu: cpu(exponentialSamples(4, 300, 1)),
          }),
          device: 'usb:0',
        },
        { ...tenant('x', 30, { tpu: tpu({ token: 'x', serviceMs: 8, reloadMs: 5 }) }), device: 'usb:1' },
        {
          ...tenant('y', 20, {
            tpu: tpu({ token: 'y', serviceMs: 6, reloadMs: 4 }),
            cpu: cpu(exponentialSamples(10, 300, 2)),
            cores: 2,
          }),
          device: 'usb:0',
        },
        { ...tenant('z', 25, { tpu: tpu({ token: 'z', serviceMs: 9, reloadMs: 2 }) }), device: 'usb:1' },
      ],
    };
    const predicted = defaultModel.predict(system);
    const sim = simulate(system, { requests: 200_000, warmupMs: 5_000, seed: 7, quantiles: 'sketch' });
    sim.tenants.forEach((t, i) => {
      expect(Math.abs(t.meanResponseMs - predicted.tenants[i]!.responseMs) / t.meanResponseMs).toBeLessThan(
        0.04,
      );
      expect(t.tpuUtilization).toBeCloseTo(predicted.tenants[i]!.tpuUtilization, 1);
    });
    expect(Math.abs(sim.meanResponseMs - predicted.meanResponseMs) / sim.meanResponseMs).toBeLessThan(0.03);
  });

  it('a tenant moved to another device queues there from the move on', () => {
    const system: SystemSetup = {
      tenants: [
        { ...a, device: 'tpu-0' },
        { ...b, device: 'tpu-0' },
      ],
      cores: 2,
      devices: [{ id: 'tpu-0' }, { id: 'tpu-1' }],
    };
    const sim = new Simulation(system, { durationMs: 60_000, arrivals, tickMs: 20_000 });
    const before = sim.step()!;
    expect(before.swaps).toBeGreaterThan(200);
    sim.reconfigure({ tenants: [{ ...b, device: 'tpu-1' }] });
    const after = sim.step()!;
    // After the move neither device switches any more: at most b's first call on tpu-1 reloads.
    expect(after.swaps - before.swaps).toBeLessThanOrEqual(1);
    const r = sim.finish();
    expect(r.reconfigurations).toHaveLength(1);
    expect(r.devices?.map((d) => d.tenants)).toEqual([['a'], ['b']]);
  });

  it('a tenant naming an unknown device is a typed error, before any event', () => {
    try {
      simulate(
        { tenants: [{ ...a, device: 'tpu-9' }], cores: 1, devices: [{ id: 'tpu-0' }] },
        { durationMs: 1000 },
      );
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
      expect((err as InvalidArgumentError).details?.reason).toBe('unknown-device');
    }
    const sim = new Simulation(
      { tenants: [a], cores: 1, devices: [{ id: 'tpu-0' }] },
      { durationMs: 10_000, tickMs: 1000 },
    );
    sim.step();
    expect(() => sim.reconfigure({ tenants: [{ ...a, device: 'nope' }] })).toThrow(InvalidArgumentError);
  });
});
