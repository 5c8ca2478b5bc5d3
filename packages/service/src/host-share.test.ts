import type { TenantChoice } from '@swapless/contracts';
import { contentionOf, type TenantCatalog } from '@swapless/controller';
import { defaultModel } from '@swapless/queueing';
import { describe, expect, it } from 'vitest';
import { HostCpuMeter } from './host-cpu.js';
import { ClosedLoop } from './loop.js';

/** A two-cut catalog: the whole model on the CPU (20 ms) or a 6 ms head on the Edge TPU and a 12 ms tail. */
function catalog(name: string): TenantCatalog {
  const tpu = { token: name, serviceMs: 2, serviceVarianceMs2: 0, reloadMs: 1, source: 'emulated' as const };
  return {
    model: name,
    sha256: name,
    n: 10,
    edgetpuPrefix: 10,
    kind: 'partitioned',
    reason: null,
    device: 'usb3',
    threads: [1],
    cuts: [
      { k: 0, tpu: null, cpu: new Map([[1, [20, 20]]]), boundaryBytes: 0, tpuMacsShare: 0 },
      { k: 4, tpu, cpu: new Map([[1, [12, 12]]]), boundaryBytes: 100, tpuMacsShare: 0.4 },
      { k: 10, tpu, cpu: null, boundaryBytes: 10, tpuMacsShare: 1 },
    ],
    profile: null,
  };
}

describe('HostCpuMeter', () => {
  it('gives the busy cores between samples, nothing at the first or after less than 100 ms', () => {
    let now = 0;
    let busy = 0;
    const m = new HostCpuMeter(
      () => now,
      () => busy,
    );
    expect(m.sample()).toBeNull();
    now = 1000;
    busy = 1500;
    expect(m.sample()).toBeCloseTo(1.5, 9);
    now = 1050;
    busy = 1600;
    expect(m.sample()).toBeNull(); // too short a window: the previous sample stays the reference
    now = 2000;
    busy = 1700;
    expect(m.sample()).toBeCloseTo(0.2, 9);
    // The real meter reads os.cpus(): a non-negative number of cores from its second sample on.
    const real = new HostCpuMeter();
    real.sample();
    const t0 = performance.now();
    while (performance.now() - t0 < 120) {
      // spin: at least 100 ms between the samples
    }
    const cores = real.sample();
    expect(cores).not.toBeNull();
    expect(cores!).toBeGreaterThanOrEqual(0);
  });
});

describe('ClosedLoop.shareHost', () => {
  const tenants = [
    { name: 'a', rate: 20, catalog: catalog('a') },
    { name: 'b', rate: 20, catalog: catalog('b') },
  ];
  const choices: TenantChoice[] = [
    { k: 4, cores: 1, mode: 'mg1' },
    { k: 10, cores: 0, mode: 'mg1' },
  ];

  it('does nothing without an emulation pool', () => {
    const loop = new ClosedLoop(undefined);
    for (const t of tenants) loop.add(t.name, t.catalog);
    loop.hostMeter = { sample: () => 1.5 };
    loop.shareHost(tenants, choices, 1, 'usb3');
    loop.shareHost(tenants, choices, 1, 'usb3');
    expect(loop.correction.host).toBeNull();
  });

  it('keeps the rest of the host as what the measure leaves beyond the modelled threads, and predicts with it', () => {
    const loop = new ClosedLoop(undefined);
    for (const t of tenants) loop.add(t.name, t.catalog);
    loop.correction.setEmulation(1);
    loop.hostCores = 2;
    const measures = [null, 1.6, 1.6, 0.2];
    loop.hostMeter = { sample: () => measures.shift() ?? null };
    const before = loop.predict(defaultModel, tenants, choices, 1, 'usb3').responseMs;
    loop.shareHost(tenants, choices, 1, 'usb3');
    expect(loop.correction.host).toBeNull(); // no measure yet
    loop.shareHost(tenants, choices, 1, 'usb3');
    const catalogs = new Map(tenants.map((t) => [t.name, loop.catalog(t.name, t.catalog)] as const));
    const system = {
      cores: 1,
      tenants: tenants.map((t, i) => {
        const cut = t.catalog.cuts.find((c) => c.k === choices[i]!.k)!;
        return {
          name: t.name,
          rate: t.rate,
          k: cut.k,
          n: 10,
          cores: choices[i]!.cores,
          tpu: cut.tpu,
          cpu:
            cut.cpu === null
              ? null
              : { mode: 'mg1' as const, samplesMs: cut.cpu.get(1)!, source: 'measured' as const },
        };
      }),
    };
    const modelled = contentionOf(system, catalogs, 1, { cores: 2, busy: 0 }).busyCores;
    expect(modelled).toBeGreaterThan(0.3);
    const first = loop.correction.host!;
    expect(first.cores).toBe(2);
    expect(first.busy).toBeCloseTo(1.6 - modelled, 6);
    const shared = loop.predict(defaultModel, tenants, choices, 1, 'usb3').responseMs;
    expect(shared[0]!).toBeGreaterThan(before[0]!); // the tail's CPU stage is stretched
    expect(shared[1]!).toBeGreaterThanOrEqual(before[1]!); // the pool too
    // An EWMA: a quiet tick moves the rest towards 0, not to 0.
    loop.shareHost(tenants, choices, 1, 'usb3');
    loop.shareHost(tenants, choices, 1, 'usb3');
    const later = loop.correction.host!.busy;
    expect(later).toBeLessThan(first.busy);
    expect(later).toBeGreaterThan(0);
  });

  it("compares each tenant's measured pool wait with the wait modelled for the configuration in force", () => {
    const run = (poolWaitMs: number) => {
      const loop = new ClosedLoop(undefined);
      for (const t of tenants) loop.add(t.name, t.catalog);
      loop.correction.setEmulation(1);
      loop.hostCores = 2;
      loop.hostMeter = { sample: () => 0.5 };
      loop.shareHost(tenants, choices, 1, 'usb3');
      for (let i = 0; i < 30; i++)
        loop.observe([{ tenant: 'b', stage: 'tpu', k: 10, ms: 2, computeMs: 6, poolWaitMs }]);
      return loop;
    };
    // b's heads (the whole model on the Edge TPU) wait far longer than the pool's modelled wait: clamped to 4×.
    const slow = run(1000);
    expect(slow.correction.poolWaitFactor('b')).toBe(4);
    expect(slow.correction.poolWaitFactor('a')).toBe(1);
    const fast = run(0);
    expect(fast.correction.poolWaitFactor('b')).toBe(0.25);
    const lag = (loop: ClosedLoop) =>
      loop.predict(defaultModel, tenants, choices, 1, 'usb3').stages[1]!.emulationMs;
    expect(lag(slow)).toBeGreaterThan(lag(fast));
  });
});
