import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { CDF_LEVELS, Simulation, simulate } from './simulate.js';
import { cpu, exponentialSamples, system, tenant, tpu } from './testing.js';
import type { SimTickState } from './types.js';

describe('workload', () => {
  it('phases change the arrival rate at the given time (atS as in the workload file, or atMs)', () => {
    const sys = system([tenant('a', 20, { tpu: tpu({ serviceMs: 2 }) }), tenant('b', 10, { cpu: cpu([1]) })]);
    const phases = [{ atS: 50, rates: { a: 80 } }];
    const res = simulate(sys, { durationMs: 100_000, phases, seriesWindowMs: 10_000, seed: 4 });
    const [a, b] = res.series!.tenants;
    // Poisson counts per 10 s window: mean λ·10, sd √(λ·10); 5 sd bounds.
    a!.arrivals.slice(0, 10).forEach((count, w) => {
      const expected = (w < 5 ? 20 : 80) * 10;
      expect(Math.abs(count - expected)).toBeLessThan(5 * Math.sqrt(expected));
    });
    for (const count of b!.arrivals.slice(0, 10)) expect(Math.abs(count - 100)).toBeLessThan(50);
    // Throughput over the run: (20·50 + 80·50)/100 = 50 req/s for a, b unchanged at 10.
    expect(Math.abs(res.tenants[0]!.throughputPerS - 50)).toBeLessThan((5 * Math.sqrt(5000)) / 100);
    expect(Math.abs(res.tenants[1]!.throughputPerS - 10)).toBeLessThan((5 * Math.sqrt(1000)) / 100);
    // The same phase in ms gives the identical run.
    const inMs = simulate(sys, {
      durationMs: 100_000,
      phases: [{ atMs: 50_000, rates: { a: 80 } }],
      seriesWindowMs: 10_000,
      seed: 4,
    });
    expect(inMs).toEqual(res);
    // A rate of 0 stops arrivals until the next phase.
    const paused = simulate(sys, {
      durationMs: 30_000,
      phases: [
        { atS: 10, rates: { a: 0 } },
        { atS: 20, rates: { a: 20 } },
      ],
      seriesWindowMs: 10_000,
      seed: 4,
    });
    expect(paused.series!.tenants[0]!.arrivals[1]).toBe(0);
    expect(paused.series!.tenants[0]!.arrivals[2]).toBeGreaterThan(100);
  });

  it('trace-driven arrivals are served exactly at the given times', () => {
    const sys = system([tenant('a', 0, { tpu: tpu({ serviceMs: 10 }), cpu: cpu([5]) })]);
    const res = simulate(sys, { arrivals: { a: [0, 5, 100] }, initialToken: 'tok' });
    // 0 → TPU 0–10, CPU 10–15 (15); 5 → TPU 10–20, CPU 20–25 (20); 100 → 15.
    const t = res.tenants[0]!;
    expect(t.completed).toBe(3);
    expect(t.meanResponseMs).toBeCloseTo(50 / 3, 12);
    expect(t.maxResponseMs).toBe(20);
    expect(t.tpuWaitMs).toBeCloseTo(5 / 3, 12);
    expect(t.cpuWaitMs).toBe(0);
    expect(res.windowEndMs).toBe(115);
  });

  it('warm-up requests are simulated but not measured', () => {
    const sys = system([tenant('a', 100, { tpu: tpu() })]);
    const all = simulate(sys, { durationMs: 10_000, seed: 2 });
    const warm = simulate(sys, { durationMs: 10_000, warmupMs: 5_000, seed: 2 });
    expect(warm.simulatedRequests).toBe(all.simulatedRequests);
    expect(warm.completed).toBeLessThan(all.completed * 0.6);
    expect(warm.windowStartMs).toBe(5_000);
  });

  it('stops after the requested number of measured requests', () => {
    const sys = system([tenant('a', 100, { tpu: tpu() }), tenant('b', 50, { cpu: cpu([2]) })]);
    const res = simulate(sys, { requests: 12_345, warmupMs: 1_000, seed: 2 });
    expect(res.completed).toBe(12_345);
    expect(res.simulatedRequests).toBeGreaterThan(12_345);
  });
});

describe('determinism', () => {
  const sys = system([
    tenant('a', 40, {
      tpu: tpu({ token: 'x', serviceMs: 3, serviceVarianceMs2: 1, reloadMs: 2 }),
      cpu: cpu(exponentialSamples(5, 100), 'mgc'),
      cores: 2,
    }),
    tenant('b', 30, { tpu: tpu({ token: 'y', serviceMs: 2, reloadMs: 2 }), cpu: cpu([1, 2, 4]) }),
  ]);
  const options = { durationMs: 60_000, seriesWindowMs: 1_000, cpuSampling: 'smoothed' as const };

  it('the same seed gives an identical result; another seed a different one', () => {
    const a = simulate(sys, { ...options, seed: 11 });
    const b = simulate(sys, { ...options, seed: 11 });
    const c = simulate(sys, { ...options, seed: 12 });
    expect(b).toEqual(a);
    expect(c.meanResponseMs).not.toBe(a.meanResponseMs);
    expect(c.tenants[0]!.arrivals).not.toBe(a.tenants[0]!.arrivals);
  });

  it("changing one tenant's CPU samples leaves every arrival unchanged (independent streams)", () => {
    const changed = system([sys.tenants[0]!, { ...sys.tenants[1]!, cpu: cpu([7, 9]) }]);
    const a = simulate(sys, { ...options, seed: 5 });
    const b = simulate(changed, { ...options, seed: 5 });
    expect(b.series!.tenants.map((t) => t.arrivals)).toEqual(a.series!.tenants.map((t) => t.arrivals));
    expect(b.tenants[1]!.meanResponseMs).not.toBe(a.tenants[1]!.meanResponseMs);
  });

  it('smoothed sampling keeps the samples’ mean and is continuous', () => {
    const samples = [2, 4, 6, 8];
    const one = system([tenant('a', 1, { cpu: cpu(samples) })]);
    const n = 200_000;
    const res = simulate(one, { requests: n, cpuSampling: 'smoothed', seed: 3 });
    // Draws are independent (nobody waits at 1 req/s); sd of a draw ≤ 4 ms on these samples, so 5 SE = 20/√n.
    expect(Math.abs(res.tenants[0]!.cpuServiceMs - 5)).toBeLessThan(20 / Math.sqrt(n));
    // λ = 1/s: nobody waits, so the p50 is a smoothed service time, not one of the four sample values.
    expect(samples).not.toContain(res.tenants[0]!.p50Ms);
    const plain = simulate(one, { requests: 10_000, seed: 3 });
    expect(samples).toContain(plain.tenants[0]!.p50Ms);
  });
});

describe('reconfiguration', () => {
  const slow = tenant('a', 0, { cpu: cpu([100]) });
  const fast = tenant('a', 0, { cpu: cpu([1]) });

  it('a scheduled change applies to new arrivals only; requests in flight finish under the old setup', () => {
    // 0 → 0–100; 440 → 440–540 (in flight at 450, keeps 100 ms); 460 → waits for it (FCFS), then 1 ms: 81.
    const arrivals = { a: [0, 440, 460] };
    const res = simulate(system([slow]), { arrivals, schedule: [{ atMs: 450, tenants: [fast] }] });
    expect(res.tenants[0]!.meanResponseMs).toBeCloseTo((100 + 100 + 81) / 3, 12);
    expect(res.reconfigurations).toEqual([{ atMs: 450, source: 'schedule', tenants: ['a'] }]);
    const unchanged = simulate(system([slow]), { arrivals });
    expect(unchanged.tenants[0]!.meanResponseMs).toBeCloseTo((100 + 100 + 180) / 3, 12);
  });

  it('changing the token makes the next call reload; growing an M/G/c pool adds free workers at once', () => {
    const before = tenant('a', 0, {
      tpu: tpu({ token: 'v1', serviceMs: 1, reloadMs: 10 }),
      cpu: cpu([50], 'mgc'),
      cores: 1,
    });
    const after = tenant('a', 0, {
      tpu: tpu({ token: 'v2', serviceMs: 1, reloadMs: 10 }),
      cpu: cpu([50], 'mgc'),
      cores: 2,
    });
    // 0: TPU 0–1, CPU 1–51. 20: reload → TPU 20–31, CPU on the new, free worker 31–81 (no wait).
    const res = simulate(system([before], 2), {
      arrivals: { a: [0, 20] },
      initialToken: 'v1',
      schedule: [{ atMs: 10, tenants: [after] }],
    });
    const t = res.tenants[0]!;
    expect(t.swaps).toBe(1);
    expect(t.cpuWaitMs).toBe(0);
    expect(t.meanResponseMs).toBeCloseTo((51 + 61) / 2, 12);
  });

  it('onTick sees only what happened before the tick and can reconfigure from then on', () => {
    const sys = system([
      tenant('a', 50, { tpu: tpu({ serviceMs: 5 }), cpu: cpu([10]) }),
      tenant('b', 20, { cpu: cpu([3]) }),
    ]);
    const ticks: SimTickState[] = [];
    const res = simulate(sys, {
      durationMs: 10_000,
      seed: 8,
      tickMs: 1_000,
      seriesWindowMs: 1_000,
      onTick: (state) => {
        ticks.push(state);
        if (state.tick === 5)
          return { tenants: [tenant('a', 50, { tpu: tpu({ serviceMs: 5 }), cpu: cpu([20]) })] };
      },
    });
    expect(ticks.map((s) => s.timeMs)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => i * 1000));
    const series = res.series!.tenants;
    for (const s of ticks) {
      const w = s.tick - 1;
      for (const [i, t] of s.tenants.entries()) {
        // Arrivals and completions in the window just closed, as the series (whole run) records them.
        expect(t.arrivals).toBe(series[i]!.arrivals[w]);
        expect(t.completed).toBe(series[i]!.completed[w]);
        expect(t.rate).toBe(t.arrivals);
        expect(t.inSystem).toBeGreaterThanOrEqual(0);
      }
    }
    expect(ticks[5]!.tenants[0]!.setup.cpu!.samplesMs).toEqual([20]);
    expect(res.reconfigurations).toEqual([{ atMs: 5_000, source: 'controller', tenants: ['a'] }]);
    // Before the change every response of a is ≥ 15 ms and after it ≥ 25 ms.
    const meanA = series[0]!.meanResponseMs;
    expect(Math.max(...meanA.slice(0, 5))).toBeLessThan(25);
    expect(Math.min(...meanA.slice(6, 10))).toBeGreaterThanOrEqual(25);
  });

  it('the stepping API lets an asynchronous controller decide between ticks, with the same result as onTick', async () => {
    const sys = system([tenant('a', 50, { tpu: tpu({ serviceMs: 5 }), cpu: cpu([10]) })]);
    const change = { tenants: [tenant('a', 50, { tpu: tpu({ serviceMs: 5 }), cpu: cpu([20]) })] };
    const options = { durationMs: 10_000, seed: 8, tickMs: 1_000 };
    const sim = new Simulation(sys, options);
    expect(sim.timeMs).toBe(0);
    const seen: number[] = [];
    for (let s = sim.step(); s !== null; s = sim.step()) {
      seen.push(s.timeMs);
      const decide = await Promise.resolve(s.tick === 3 ? change : undefined);
      if (decide) sim.reconfigure(decide);
    }
    expect(seen).toHaveLength(9);
    expect(sim.timeMs).toBe(9_000);
    const stepped = sim.finish();
    expect(sim.finish()).toBe(stepped);
    const viaTick = simulate(sys, { ...options, onTick: (s) => (s.tick === 3 ? change : undefined) });
    expect(stepped).toEqual(viaTick);
    expect(stepped.reconfigurations).toEqual([{ atMs: 3_000, source: 'controller', tenants: ['a'] }]);
    expect(() => sim.step()).toThrow(/a simulation that has not finished/);
    expect(() => new Simulation(sys, { durationMs: 1_000 }).step()).toThrow(InvalidArgumentError);
  });

  it('rejects a reconfiguration that needs more cores than the machine has, or names an unknown tenant', () => {
    const sys = system([tenant('a', 10, { cpu: cpu([1]) })], 2);
    const tooBig = tenant('a', 10, { cpu: cpu([1], 'mgc'), cores: 3 });
    expect(() => simulate(sys, { durationMs: 1_000, schedule: [{ atMs: 10, tenants: [tooBig] }] })).toThrow(
      /Expected at most 2 cores in total/,
    );
    expect(() =>
      simulate(sys, {
        durationMs: 1_000,
        tickMs: 100,
        onTick: () => ({ tenants: [tenant('ghost', 1, { cpu: cpu([1]) })] }),
      }),
    ).toThrow(InvalidArgumentError);
  });
});

describe('bounded queues', () => {
  it('a loss system (maxQueue 0) blocks with Erlang B probability a/(1+a), whatever the service law', () => {
    const sys = system([tenant('a', 100, { tpu: tpu({ serviceMs: 10 }) })]); // a = 1 erlang → B = 1/2
    const res = simulate(sys, { requests: 200_000, maxQueue: 0, seed: 6 });
    const t = res.tenants[0]!;
    const blocked = t.rejected / t.arrivals;
    expect(Math.abs(blocked - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / t.arrivals) * 2);
    expect(t.tpuWaitMs).toBe(0);
    expect(res.maxTpuQueue).toBe(0);
  });

  it('10× overload for a long virtual time: rejections are counted and state stays bounded', () => {
    const sys = system([tenant('a', 1_000, { tpu: tpu({ serviceMs: 10 }), cpu: cpu([1]) })]);
    const res = simulate(sys, { durationMs: 2_000_000, maxQueue: 8, quantiles: 'sketch', seed: 1 });
    const t = res.tenants[0]!;
    expect(t.arrivals).toBeGreaterThan(1_900_000);
    expect(t.completed + t.rejected).toBe(t.arrivals);
    // Capacity 100 req/s: ~90 % rejected, the TPU saturated, no request waits for more than 8 calls.
    expect(t.rejectedTpu / t.arrivals).toBeGreaterThan(0.89);
    expect(t.rejectedCpu).toBe(0);
    expect(res.tpuUtilization).toBeGreaterThan(0.99);
    expect(res.maxTpuQueue).toBe(8);
    expect(t.maxResponseMs).toBeLessThanOrEqual(9 * 10 + 1 + 1e-9);
    expect(t.throughputPerS).toBeGreaterThan(99);
  });

  it('a full CPU queue drops a request after its TPU call', () => {
    const sys = system([tenant('a', 100, { tpu: tpu({ serviceMs: 1 }), cpu: cpu([20]) })]);
    const res = simulate(sys, { durationMs: 100_000, maxQueue: 2, seed: 3 });
    const t = res.tenants[0]!;
    // The TPU (ρ = 0.1) rarely has 2 waiting; the CPU (ρ = 2) is where requests are dropped.
    expect(t.rejectedCpu).toBeGreaterThan(100 * Math.max(1, t.rejectedTpu));
    // At most 2 waiting + 1 in service at each stage.
    expect(t.maxResponseMs).toBeLessThanOrEqual(3 * 1 + 3 * 20 + 1e-9);
    expect(t.cpuUtilization).toBeGreaterThan(0.95);
  });
});

describe('invalid input', () => {
  const good = system([tenant('a', 10, { tpu: tpu(), cpu: cpu([1]) })]);
  const cases: [string, () => unknown, RegExp][] = [
    ['no run length', () => simulate(good, {}), /Expected durationMs or requests/],
    [
      'negative rate',
      () => simulate(system([{ ...good.tenants[0]!, rate: -1 }]), { durationMs: 1 }),
      /rate \(requests per second\) but received -1/,
    ],
    [
      'empty samples',
      () => simulate(system([tenant('a', 1, { cpu: cpu([]) })]), { durationMs: 1 }),
      /non-empty array of service times/,
    ],
    [
      'NaN sample',
      () => simulate(system([tenant('a', 1, { cpu: cpu([1, Number.NaN]) })]), { durationMs: 1 }),
      /samplesMs\[1\] but received NaN/,
    ],
    [
      'bad mode',
      () =>
        simulate(system([tenant('a', 1, { cpu: { ...cpu([1]), mode: 'mm1' as 'mg1' } })]), { durationMs: 1 }),
      /'mg1' or 'mgc'/,
    ],
    [
      'cores over budget',
      () => simulate(system([tenant('a', 1, { cpu: cpu([1], 'mgc'), cores: 3 })], 2), { durationMs: 1 }),
      /at most 2 cores/,
    ],
    [
      'tpu at k = 0',
      () => simulate(system([{ ...good.tenants[0]!, k: 0 }]), { durationMs: 1 }),
      /tpu = null/,
    ],
    [
      'duplicate names',
      () => simulate(system([good.tenants[0]!, good.tenants[0]!]), { durationMs: 1 }),
      /unique tenant names/,
    ],
    [
      'unknown phase tenant',
      () => simulate(good, { durationMs: 1, phases: [{ atS: 1, rates: { ghost: 1 } }] }),
      /received "ghost"/,
    ],
    [
      'phase with both times',
      () => simulate(good, { durationMs: 1, phases: [{ atS: 1, atMs: 1000, rates: {} }] }),
      /exactly one of atS and atMs/,
    ],
    [
      'phases out of order',
      () =>
        simulate(good, {
          durationMs: 1,
          phases: [
            { atS: 2, rates: {} },
            { atS: 1, rates: {} },
          ],
        }),
      /after the previous phase/,
    ],
    ['decreasing trace', () => simulate(good, { arrivals: { a: [5, 1] } }), /previous arrival/],
    [
      'onTick without tickMs',
      () => simulate(good, { durationMs: 1, onTick: () => undefined }),
      /tickMs \(required with onTick\)/,
    ],
    [
      'warm-up past the end',
      () => simulate(good, { durationMs: 10, warmupMs: 10 }),
      /warm-up shorter than durationMs/,
    ],
    ['fractional seed', () => simulate(good, { durationMs: 1, seed: 1.5 }), /integer ≥ 0 for options.seed/],
    ['no tenants', () => simulate(system([]), { durationMs: 1 }), /non-empty array of tenants/],
  ];
  it.each(cases)('%s → InvalidArgumentError with a house message', (_name, run, message) => {
    let error: unknown;
    try {
      run();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    expect((error as Error).message).toMatch(/^Expected .+ for .+ but received .+/);
    expect((error as Error).message).toMatch(message);
  });
});

describe('cdfMs', () => {
  it('holds the response-time quantiles at the CDF levels, consistent with p50/p95/p99', () => {
    const r = simulate(
      {
        cores: 1,
        tenants: [
          {
            name: 'a',
            rate: 50,
            k: 1,
            n: 2,
            cores: 1,
            tpu: { token: 't', serviceMs: 2, serviceVarianceMs2: 0, reloadMs: 0, source: 'emulated' },
            cpu: { mode: 'mg1', samplesMs: [1, 2, 3, 4, 5], source: 'measured' },
          },
        ],
      },
      { requests: 20_000, seed: 3 },
    );
    const t = r.tenants[0]!;
    expect(t.cdfMs).toHaveLength(CDF_LEVELS.length);
    for (let i = 1; i < t.cdfMs.length; i++) expect(t.cdfMs[i]!).toBeGreaterThanOrEqual(t.cdfMs[i - 1]!);
    expect(t.cdfMs[CDF_LEVELS.indexOf(0.5)]).toBe(t.p50Ms);
    expect(t.cdfMs[CDF_LEVELS.indexOf(0.95)]).toBe(t.p95Ms);
    expect(t.cdfMs[CDF_LEVELS.indexOf(0.99)]).toBe(t.p99Ms);
  });
});
