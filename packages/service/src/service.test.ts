import { once } from 'node:events';
import type { Decision } from '@swapless/contracts';
import type { Policy, PolicyContext } from '@swapless/controller';
import { ErrorCodes, type ProgressEvent } from '@swapless/core';
import { createInterpreter } from '@swapless/edgetpu';
import { buildTestNet } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import {
  createService,
  type DecisionRecord,
  type SeriesSample,
  type Service,
  type ServiceOptions,
  type TenantEvent,
} from './index.js';
import { input, reference, serviceFactory, usePrivateCache } from './test-support.js';

// The 10-op int8 test network (input int8 [1,16,16,3] → [1,10]); two seeds = two different models.
const A = writeModel(buildTestNet(0));
const B = writeModel(buildTestNet(7));
const N = 10;

usePrivateCache();
/** A service with fast profiling, no real-time TPU waits and (unless asked) no ticks during the test. */
const service = serviceFactory();

/** Runtime choices of every tenant, for "nothing changed" checks. */
function choices(s: Service): Record<string, unknown> {
  return Object.fromEntries(s.tenantNames().map((n) => [n, s.runtime.choice(n)]));
}

/** A custom policy that moves tenant 0 between two cuts on every tick (decisions on demand). */
function togglingPolicy(): Policy {
  let ctx: PolicyContext | null = null;
  let flip = false;
  const decide = (reason: string): Decision => {
    const t = ctx!.tenants;
    return {
      tenants: t.map((x, i) => {
        const ks = x.catalog.cuts.filter((c) => c.cpu !== null).map((c) => c.k);
        const k = i === 0 && flip ? ks.at(-1)! : ks[0]!;
        return { name: x.name, k, cores: 1, mode: 'mg1' as const };
      }),
      predictedMs: Number.NaN,
      reason,
    };
  };
  return {
    name: 'toggle',
    initial(c) {
      ctx = c;
      return decide('initial');
    },
    onTick() {
      flip = !flip;
      return decide(`flip ${flip}`);
    },
  };
}

describe('tenants', () => {
  it('adds tenants with re-planning and serves outputs equal to the unsplit model', async () => {
    const s = await service({ policy: 'fixed' });
    const tenantEvents: TenantEvent[] = [];
    const decisions: DecisionRecord[] = [];
    s.on('tenant', (e) => tenantEvents.push(e));
    s.on('decision', (d) => decisions.push(d));

    const a = await s.addTenant({ name: 'a', model: A, source: 'test:a', rate: 5, sloMs: 50 });
    expect(a).toMatchObject({ name: 'a', source: 'test:a', ops: N, sloMs: 50, timing: 'emulated' });
    expect(a.rate).toEqual({ estimatedPerS: 5, priorPerS: 5 });
    // The fixed policy cuts in the middle: both a head (on the emulated TPU) and a tail (on the CPU).
    expect(a.k).toBeGreaterThan(0);
    expect(a.k).toBeLessThan(N);
    expect(a.tpu).not.toBeNull();
    expect(a.tpu!.token).not.toBe('');

    await s.addTenant({ name: 'b', model: B, source: 'test:b' });
    expect(s.tenantNames()).toEqual(['a', 'b']);
    expect(tenantEvents).toEqual([
      { action: 'added', name: 'a' },
      { action: 'added', name: 'b' },
    ]);
    expect(decisions.map((d) => [d.trigger, d.applied])).toEqual([
      ['initial', true],
      ['tenant-added', true],
    ]);
    const last = decisions[1]!;
    expect(last.choices.map((c) => c.name)).toEqual(['a', 'b']);
    for (const c of last.choices)
      expect(s.runtime.choice(c.name)).toEqual({ k: c.k, cores: c.cores, mode: c.mode });
    expect(last.choices.reduce((sum, c) => sum + c.cores, 0)).toBeLessThanOrEqual(2);
    expect(last.rates).toEqual({ a: 5, b: 1 });
    expect(s.history()).toEqual(decisions);
    expect(s.controller()).toMatchObject({ policy: 'fixed', decisions: 2, lastDecision: last });

    for (const [name, model] of [
      ['a', A],
      ['b', B],
    ] as const) {
      const x = input(name === 'a' ? 1 : 2);
      const { outputs, trace } = await s.infer(name, [x]);
      expect(outputs).toEqual(reference(model, x));
      expect(trace).toMatchObject({ tenant: name, functional: true });
      expect(trace.tpu?.backend).toBe('emulated');
    }
    const st = s.tenants().find((t) => t.name === 'a')!;
    expect(st).toMatchObject({ admitted: 1, completed: 1, failed: 0, rejected: 0, inFlight: 0 });
    expect(st.measured.count).toBe(1);
  });

  it('serves the model outputs at the cuts the swapless policy picks', async () => {
    const s = await service();
    await s.addTenant({ name: 'a', model: A, source: 'test:a', rate: 20 });
    await s.addTenant({ name: 'b', model: B, source: 'test:b', rate: 20 });
    expect(s.controller().policy).toBe('swapless');
    for (const t of s.tenants()) expect(t.predictedMs).toBeGreaterThan(0);
    const x = input(3);
    expect((await s.infer('a', [x])).outputs).toEqual(reference(A, x));
    expect((await s.infer('b', x)).outputs).toEqual(reference(B, x));
  });

  it('shrinks the others before adding a tenant when the cores are all taken', async () => {
    const s = await service({ policy: 'cpu' });
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    expect(s.runtime.choice('a')).toEqual({ k: 0, cores: 2, mode: 'mg1' });
    await s.addTenant({ name: 'b', model: B, source: 'test:b' });
    expect(choices(s)).toEqual({
      a: { k: 0, cores: 1, mode: 'mg1' },
      b: { k: 0, cores: 1, mode: 'mg1' },
    });
    const x = input(4);
    expect((await s.infer('a', [x])).outputs).toEqual(reference(A, x));
  });

  it('removes a tenant, drains it and re-plans the rest', async () => {
    const s = await service({ policy: 'cpu' });
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    await s.addTenant({ name: 'b', model: B, source: 'test:b' });
    const events: TenantEvent[] = [];
    s.on('tenant', (e) => events.push(e));
    const x = input(5);
    const inflight = Array.from({ length: 8 }, () => s.infer('a', [x]));
    const removed = s.removeTenant('a');
    // A second call shares the removal in progress.
    expect(s.removeTenant('a')).toBe(removed);
    await removed;
    for (const r of await Promise.all(inflight)) expect(r.outputs).toEqual(reference(A, x));
    expect(events).toEqual([{ action: 'removed', name: 'a' }]);
    expect(s.has('a')).toBe(false);
    expect(s.tenantNames()).toEqual(['b']);
    // b gets both cores back.
    expect(s.runtime.choice('b')).toEqual({ k: 0, cores: 2, mode: 'mg1' });
    expect(s.history().at(-1)).toMatchObject({
      trigger: 'tenant-removed',
      applied: true,
      choices: [{ name: 'b', k: 0, cores: 2 }],
    });
    await expect(s.infer('a', [x])).rejects.toMatchObject({
      code: ErrorCodes.NOT_FOUND,
      details: { reason: 'unknown-tenant' },
    });
    await expect(s.removeTenant('a')).rejects.toMatchObject({
      code: ErrorCodes.NOT_FOUND,
      details: { reason: 'unknown-tenant' },
    });
    expect(() => s.metadata('a')).toThrow(
      expect.objectContaining({
        code: ErrorCodes.NOT_FOUND,
        details: expect.objectContaining({ reason: 'unknown-tenant' }),
      }),
    );
    // The name is free again.
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    expect((await s.infer('a', [x])).outputs).toEqual(reference(A, x));
    // Removing the last tenants leaves an empty service that still accepts new ones.
    await s.removeTenant('a');
    await s.removeTenant('b');
    expect(s.tenantNames()).toEqual([]);
    await s.addTenant({ name: 'c', model: B, source: 'test:b' });
    expect(s.runtime.choice('c')).toEqual({ k: 0, cores: 2, mode: 'mg1' });
  });

  it('refuses a duplicate name, bad bytes, a bad spec and an impossible plan, leaving the service unchanged', async () => {
    const s = await service({ policy: 'cpu' });
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    await s.addTenant({ name: 'b', model: B, source: 'test:b' });
    const before = { names: s.tenantNames(), choices: choices(s), decisions: s.history().length };
    const unchanged = () => {
      expect(s.tenantNames()).toEqual(before.names);
      expect(choices(s)).toEqual(before.choices);
    };

    await expect(s.addTenant({ name: 'a', model: B, source: 'x' })).rejects.toMatchObject({
      name: 'ConflictError',
      code: ErrorCodes.CONFLICT,
      details: { reason: 'duplicate-tenant' },
    });
    unchanged();
    const garbage = new Uint8Array(256).fill(7);
    await expect(s.addTenant({ name: 'c', model: garbage, source: 'x' })).rejects.toMatchObject({
      name: 'InvalidModelError',
      code: ErrorCodes.INVALID_MODEL,
    });
    unchanged();
    for (const bad of [
      { name: '../etc', model: A, source: 'x' },
      { name: '', model: A, source: 'x' },
      { name: 'c', model: new Uint8Array(0), source: 'x' },
      { name: 'c', model: A, source: 'x', rate: -1 },
      { name: 'c', model: A, source: 'x', sloMs: Number.NaN },
      null,
    ]) {
      await expect(s.addTenant(bad as never)).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
    }
    unchanged();
    // Three CPU-only tenants need three cores: the plan fails, nothing is half-registered.
    await expect(s.addTenant({ name: 'c', model: A, source: 'x' })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    unchanged();
    expect(s.has('c')).toBe(false);
    expect(s.runtime.tenantNames).toEqual(before.names);
    expect(s.history().length).toBe(before.decisions);
    const x = input(6);
    expect((await s.infer('a', [x])).outputs).toEqual(reference(A, x));
  });

  it('puts the others back when the runtime refuses the new tenant after they were reconfigured', async () => {
    // Alone, a tenant gets k=0 with 2 cores; with company, tenant 0 shrinks to 1 core and the newcomer gets a
    // cut its model does not have — the runtime refuses it only after the first tenant was shrunk.
    const policy = (): Policy => ({
      name: 'broken',
      initial: (c) => ({
        tenants: c.tenants.map(({ name }, i) =>
          i === 0
            ? { name, k: 0, cores: c.tenants.length === 1 ? 2 : 1, mode: 'mg1' }
            : { name, k: 999, cores: 1, mode: 'mg1' },
        ),
        predictedMs: Number.NaN,
        reason: 'test',
      }),
      onTick: () => null,
    });
    const s = await service({ policy });
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    expect(s.runtime.choice('a')).toEqual({ k: 0, cores: 2, mode: 'mg1' });
    const decisions: DecisionRecord[] = [];
    s.on('decision', (d) => decisions.push(d));
    await expect(s.addTenant({ name: 'b', model: B, source: 'test:b' })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    expect(s.tenantNames()).toEqual(['a']);
    expect(s.runtime.tenantNames).toEqual(['a']);
    expect(s.runtime.choice('a')).toEqual({ k: 0, cores: 2, mode: 'mg1' });
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      trigger: 'tenant-added',
      applied: false,
      error: expect.any(String),
    });
    const x = input(11);
    expect((await s.infer('a', [x])).outputs).toEqual(reference(A, x));
  });

  it('refuses a second add of a name whose first add is still building its catalog', async () => {
    const s = await service();
    const first = s.addTenant({ name: 'a', model: A, source: 'test:a' });
    await expect(s.addTenant({ name: 'a', model: A, source: 'test:a' })).rejects.toMatchObject({
      code: ErrorCodes.CONFLICT,
      details: { reason: 'duplicate-tenant' },
    });
    await first;
    expect(s.tenantNames()).toEqual(['a']);
  });

  it('builds one catalog per distinct model and reports profiling progress', async () => {
    const progress: ProgressEvent[] = [];
    const s = await service({
      onProgress: (e) => progress.push(e),
      profiling: { repetitions: 3, maxCuts: 4, cache: false },
    });
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    const afterFirst = progress.length;
    expect(afterFirst).toBeGreaterThan(0);
    await s.addTenant({ name: 'a2', model: A.slice(), source: 'test:a' });
    expect(progress.length).toBe(afterFirst);
    await s.addTenant({ name: 'b', model: B, source: 'test:b' });
    expect(progress.length).toBeGreaterThan(afterFirst);
  });

  it('describes the model in KServe terms', async () => {
    const s = await service();
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    const m = s.metadata('a');
    expect(m).toEqual({
      name: 'a',
      versions: ['1'],
      platform: 'tflite',
      inputs: [{ name: expect.any(String), datatype: 'INT8', shape: [1, 16, 16, 3] }],
      outputs: [{ name: expect.any(String), datatype: 'INT8', shape: [1, 10] }],
    });
    expect(Object.isFrozen(m)).toBe(true);
    // Same tensor names as the interpreter reports.
    const it = createInterpreter(A);
    expect(m.inputs[0]!.name).toBe(it.inputs[0]!.name);
    expect(m.outputs[0]!.name).toBe(it.outputs[0]!.name);
    it.dispose();
  });
});

describe('controller ticks', () => {
  it('records a series sample per tick and applies the decisions of the policy', async () => {
    const s = await service({ policy: togglingPolicy, tickMs: 40 });
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    const x = input(7);
    const ticks: SeriesSample[] = [];
    const decisions: DecisionRecord[] = [];
    s.on('tick', (t) => ticks.push(t));
    s.on('decision', (d) => decisions.push(d));
    while (decisions.length < 3) {
      await s.infer('a', [x]);
      await once(s, 'tick');
    }
    expect(decisions.every((d) => d.trigger === 'tick' && d.applied)).toBe(true);
    // Consecutive decisions alternate the cut, and the runtime runs the latest one.
    expect(decisions[0]!.choices[0]!.k).not.toBe(decisions[1]!.choices[0]!.k);
    const latest = s.history().at(-1)!;
    const { k, cores, mode } = latest.choices[0]!;
    expect(s.runtime.choice('a')).toEqual({ k, cores, mode });
    expect((await s.infer('a', [x])).outputs).toEqual(reference(A, x));

    const series = s.series();
    expect(series.length).toBeGreaterThanOrEqual(ticks.length);
    const sample = ticks.at(-1)!;
    expect(sample.tenants.a).toMatchObject({ k: expect.any(Number), cores: 1, inFlight: 0 });
    expect(sample.decisionMs).toBeGreaterThanOrEqual(0);
    expect(sample.tpu.busyFraction).toBeGreaterThanOrEqual(0);
    expect(sample.tpu.busyFraction).toBeLessThanOrEqual(1);
    expect(ticks.reduce((n, t) => n + (t.tenants.a?.completed ?? 0), 0)).toBeGreaterThan(0);
    expect(ticks.some((t) => t.tenants.a?.meanMs !== null)).toBe(true);
    // `since` returns only later samples.
    expect(s.series(ticks.at(-2)!.atMs).every((t) => t.atMs > ticks.at(-2)!.atMs)).toBe(true);

    const c = s.controller();
    expect(c.policy).toBe('toggle');
    expect(c.ticks).toBeGreaterThanOrEqual(3);
    expect(c.reconfigurations).toBeGreaterThanOrEqual(3);
    expect(c.decisionMs.p50).toBeGreaterThanOrEqual(0);
    expect(c.decisionMs.max).toBeGreaterThanOrEqual(c.decisionMs.p50!);
    // Fewer than 100 ticks: the nearest-rank p99 is the slowest tick (numbers sorted as numbers, not as text).
    expect(c.decisionMs.p99).toBe(c.decisionMs.max);
    expect(c.decisionMs.max).toBe(Math.max(...ticks.map((t) => t.decisionMs ?? 0), c.decisionMs.last!));
    // A policy that does not weigh its ticks has no verdict to show.
    expect(c.lastVerdict).toBeNull();
    // Functional emulation computes heads on the host: status and series say how far that lags the device.
    const runtimeEmulation = s.runtime.stats().emulation!;
    expect(runtimeEmulation.calls).toBeGreaterThan(0);
    expect(c.emulation).not.toBeNull();
    expect(c.emulation!.meanComputeMs).toBeGreaterThan(0);
    expect(c.emulation!.lagging).toBe(c.emulation!.laggingFraction! > 0.1);
    expect(c.emulation!.message === null).toBe(!c.emulation!.lagging);
    const lags = ticks.map((t) => t.tenants.a?.emulationLagMs ?? null).filter((v) => v !== null);
    expect(lags.length).toBeGreaterThan(0);
    for (const v of lags) expect(v).toBeGreaterThanOrEqual(0);
    expect(s.history(2)).toEqual(s.history().slice(-2));
    expect(s.history(0)).toEqual([]);
    expect(() => s.history(-1)).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }));
  });

  it('follows a rate step with the swapless estimator', async () => {
    const s = await service({
      mode: 'timing-only',
      tickMs: 100,
      policyOptions: { estimator: { testWindowsMs: [300, 600], minReferenceMs: 500 } },
    });
    await s.addTenant({ name: 'a', model: A, source: 'test:a', rate: 2 });
    const x = input(8);
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const pending: Promise<unknown>[] = [];
    // Low phase: about 5 req/s for 1.5 s.
    for (let i = 0; i < 8; i++) {
      pending.push(s.infer('a', [x]));
      await sleep(200);
    }
    await once(s, 'tick');
    const low = s.tenant('a')!.rate.estimatedPerS;
    // High phase: bursts of 10 every 20 ms (hundreds per second nominal) for 1.5 s.
    const end = performance.now() + 1500;
    while (performance.now() < end) {
      for (let i = 0; i < 10; i++) pending.push(s.infer('a', [x]).catch(() => undefined));
      await sleep(20);
    }
    await once(s, 'tick');
    await once(s, 'tick');
    const high = s.tenant('a')!.rate.estimatedPerS;
    await Promise.all(pending);
    expect(low).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(3 * low);
    expect(s.series().at(-1)!.tenants.a!.ratePerS).toBe(high);
    expect(s.gauges().tenants[0]!.ratePerS).toBe(high);
    // Timing-only heads are not computed: there is no emulation to report.
    expect(s.controller().emulation).toBeNull();
    expect(s.gauges().emulationLagging).toBeNull();
    expect(s.series().at(-1)!.tenants.a!.emulationLagMs).toBeNull();
  });
});

describe('state for the adapters', () => {
  it('reports the device, the gauges, and forwards runtime events while listened to', async () => {
    const s = await service({ policy: 'fixed' });
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    await s.addTenant({ name: 'b', model: B, source: 'test:b' });
    expect(s.runtime.listenerCount('request')).toBe(0);
    const traces: unknown[] = [];
    const onRequest = (t: unknown) => traces.push(t);
    s.on('request', onRequest);
    expect(s.runtime.listenerCount('request')).toBe(1);
    await s.infer('a', [input(9)]);
    await s.infer('b', [input(9)]);
    expect(traces).toHaveLength(2);
    s.off('request', onRequest);
    expect(s.runtime.listenerCount('request')).toBe(0);

    const d = s.device();
    expect(d).toMatchObject({ profile: 'usb3', backend: 'emulated', holder: 'b' });
    expect(d.capacityBytes).toBeGreaterThan(7 * 2 ** 20);
    expect(d.calls).toBe(2);
    expect(d.tenants.map((t) => t.name)).toEqual(['a', 'b']);
    for (const t of d.tenants) {
      expect(t.k).toBeGreaterThan(0);
      expect(t.cachedBytes + t.streamedBytes).toBeGreaterThan(0);
      expect(t.token).not.toBe('');
    }
    // Both tiny heads fit the cache: nothing streams.
    expect(d.tenants.every((t) => t.streamedBytes === 0)).toBe(true);

    const g = s.gauges();
    expect(g).toMatchObject({ tpuQueued: 0, backend: 'emulated' });
    expect(g.tenants.map((t) => t.name)).toEqual(['a', 'b']);
    expect(JSON.parse(JSON.stringify(s.tenants()))).toEqual(s.tenants());
  });

  it("gives deadline admission the latency model's stage times until the runtime has measured them", async () => {
    const s = await service({ policy: 'default', emulator: { timeScale: 1 } });
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    // Nothing has run yet: the prediction is the model's mean Edge TPU time of the whole model (k = n).
    const prior = s.runtime.predictMs('a');
    expect(prior).toBeGreaterThan(0);
    const now = performance.now();
    expect(() => s.admit('a', now + prior / 2)).toThrow(
      expect.objectContaining({
        code: ErrorCodes.OVERLOADED,
        details: expect.objectContaining({ reason: 'deadline' }),
      }),
    );
    await expect(s.infer('a', [input(11)], { deadlineMs: now + prior / 2 })).rejects.toMatchObject({
      code: ErrorCodes.OVERLOADED,
    });
    await s.infer('a', [input(11)], { deadlineMs: performance.now() + 60_000 });
    // admit() counts its refusals like submit's.
    expect(s.tenant('a')).toMatchObject({ admitted: 1, completed: 1, expired: 0, rejected: 2 });
  });

  it("puts the refusals of each tick window into that tick's series sample", async () => {
    const s = await service({ policy: 'default', emulator: { timeScale: 1 }, tickMs: 40 });
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    const ticks: SeriesSample[] = [];
    s.on('tick', (t) => ticks.push(t));
    await once(s, 'tick');
    const before = ticks.length;
    // Deadlines out of reach: refused at admission (503), three of them.
    for (let i = 0; i < 3; i++) expect(() => s.admit('a', performance.now())).toThrow();
    await once(s, 'tick');
    await once(s, 'tick');
    const after = ticks.slice(before);
    expect(after.reduce((n, t) => n + t.tenants.a!.rejected, 0)).toBe(3);
    expect(after.every((t) => t.tenants.a!.expired === 0)).toBe(true);
    // The last window had no refusals: per-window counts, not the running total.
    expect(after.at(-1)!.tenants.a!.rejected).toBe(0);
    expect(s.tenant('a')).toMatchObject({ rejected: 3 });
  });

  it('close drains the requests in flight, refuses new work and is idempotent', async () => {
    // Real-time emulated device: the requests are still queued when close() is called.
    const s = await service({ emulator: { timeScale: 1 } });
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    const x = input(10);
    const want = reference(A, x);
    const inflight = Array.from({ length: 20 }, () => s.infer('a', [x]));
    expect(s.tenant('a')!.inFlight).toBeGreaterThan(0);
    const closed = s.close();
    expect(s.ready).toBe(false);
    expect(s.close()).toBe(closed);
    const results = await Promise.all(inflight);
    for (const r of results) expect(r.outputs).toEqual(want);
    await closed;
    await expect(s.infer('a', [x])).rejects.toMatchObject({ code: ErrorCodes.SHUTTING_DOWN });
    await expect(s.addTenant({ name: 'b', model: B, source: 'test:b' })).rejects.toMatchObject({
      code: ErrorCodes.SHUTTING_DOWN,
    });
  });

  it('refuses bad options with typed errors', async () => {
    for (const bad of [
      { device: 'tpu9000' },
      { cores: 0 },
      { tickMs: 1 },
      { policy: 'best' },
      { historyLimit: 1.5 },
      { profiling: { maxCuts: 1 } },
      { clock: 12 },
    ]) {
      await expect(createService(bad as ServiceOptions)).rejects.toMatchObject({
        code: ErrorCodes.INVALID_ARGUMENT,
      });
    }
  });
});
