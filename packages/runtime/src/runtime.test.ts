import type { TensorArray } from '@swapless/contracts';
import {
  ConflictError,
  ErrorCodes,
  InvalidArgumentError,
  NotFoundError,
  OverloadedError,
  ShuttingDownError,
} from '@swapless/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRuntime,
  type ReconfigureEvent,
  type ReconfigureRequest,
  type RequestTrace,
  type Runtime,
} from './index.js';
import { reference, testInput, testNetBytes } from './test-support.js';

const MODEL = testNetBytes(0);
const OTHER = testNetBytes(7);
const N = 10; // compute ops of the test network

const refs = new Map<string, TensorArray[]>();
function expectedOutputs(model: Uint8Array, seed: number): TensorArray[] {
  const key = `${model === MODEL ? 'a' : 'b'}:${seed}`;
  let r = refs.get(key);
  if (r === undefined) {
    r = reference(model, [testInput(seed)]);
    refs.set(key, r);
  }
  return r;
}

let rt: Runtime | null = null;
afterEach(async () => {
  await rt?.close();
  rt = null;
});

// timeScale 0: the emulated device keeps its modelled breakdowns but does not wait them out, so the tests stay
// short; no assertion here depends on wall-clock time.
async function runtime(options: Parameters<typeof createRuntime>[0] = {}): Promise<Runtime> {
  rt = await createRuntime({ cores: 2, emulator: { timeScale: 0 }, ...options });
  return rt;
}

describe('functional mode', () => {
  it('gives outputs bit-identical to the unsplit model at every cut, mg1 and mgc', async () => {
    const r = await runtime();
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 0, cores: 1 } });
    const x = testInput(1);
    const want = expectedOutputs(MODEL, 1);
    for (let k = 0; k <= N; k++) {
      for (const mode of ['mg1', 'mgc'] as const) {
        const cores = k === N ? 0 : 2;
        await r.reconfigure({ tenants: [{ name: 'a', k, cores, mode }] });
        const { outputs, trace } = await r.submit('a', [x]);
        expect(outputs).toEqual(want);
        expect(trace).toMatchObject({ k, cores, mode, functional: true, tenant: 'a' });
        expect(trace.tpu === null).toBe(k === 0);
        expect(trace.cpu === null).toBe(k === N);
        if (trace.tpu !== null) {
          expect(trace.tpu.backend).toBe('emulated');
          expect(trace.tpu.modelledMs).toBeGreaterThan(0);
          expect(trace.tpu.computedMs).not.toBeNull();
          expect(trace.tpu.startMs).toBeLessThanOrEqual(trace.tpu.endMs);
          if (trace.cpu !== null) expect(trace.tpu.endMs).toBeLessThanOrEqual(trace.cpu.startMs);
        }
      }
    }
  });

  it("reuses the caller's output arrays when asked (transferred), with identical results at every cut", async () => {
    const r = await runtime();
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 0, cores: 1 } });
    const x = testInput(2);
    const want = expectedOutputs(MODEL, 2);
    for (const k of [0, 4, N]) {
      await r.reconfigure({ tenants: [{ name: 'a', k, cores: k === N ? 0 : 1, mode: 'mg1' }] });
      let prev = (await r.submit('a', [x])).outputs;
      for (let i = 0; i < 3; i++) {
        const old = prev;
        const next = await r.submit('a', [x], { reuse: old });
        expect(next.outputs).toEqual(want);
        // Tail outputs were written into the caller's memory (the old arrays are detached).
        if (k < N) expect(old.some((o) => o.byteLength === 0)).toBe(true);
        prev = next.outputs;
      }
      // Unusable entries (wrong size, duplicates, detached) are ignored.
      const odd = await r.submit('a', [x], { reuse: [new Float32Array(3), prev[0]!, prev[0]!] });
      expect(odd.outputs).toEqual(want);
    }
  });

  it('completes many concurrent requests of two tenants exactly once, each with its own correct result', async () => {
    const r = await runtime();
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 3, cores: 1 } });
    await r.addTenant({ name: 'b', model: OTHER, choice: { k: 6, cores: 1, mode: 'mgc' } });
    const seen = new Set<number>();
    r.on('request', (t) => {
      expect(seen.has(t.id)).toBe(false);
      seen.add(t.id);
    });
    const jobs = Array.from({ length: 120 }, (_, i) => {
      const tenant = i % 2 === 0 ? 'a' : 'b';
      const seed = i % 5;
      return r.submit(tenant, [testInput(seed)]).then((res) => {
        expect(res.outputs).toEqual(expectedOutputs(tenant === 'a' ? MODEL : OTHER, seed));
        return res.trace.id;
      });
    });
    const ids = await Promise.all(jobs);
    expect(new Set(ids).size).toBe(120);
    expect(seen.size).toBe(120);
    const s = r.stats();
    expect(s.tenants.a).toMatchObject({ admitted: 60, completed: 60, failed: 0, inFlight: 0 });
    expect(s.tenants.b).toMatchObject({ admitted: 60, completed: 60, failed: 0, inFlight: 0 });
    expect(s.tpu.calls).toBe(120);
    // Two separately compiled heads taking turns on one device swap their cached parameters.
    expect(s.tpu.reloads).toBeGreaterThan(0);
  });
});

describe('worker spin', () => {
  it('gives correct results with spinning and sleeping workers, and validates workerSpinUs', async () => {
    for (const workerSpinUs of [0, 200]) {
      const r = await runtime({ workerSpinUs });
      await r.addTenant({ name: 'a', model: MODEL, choice: { k: 0, cores: 1 } });
      await r.addTenant({ name: 'b', model: OTHER, choice: { k: 5, cores: 1, mode: 'mgc' } });
      // Back to back (taken while the worker spins) and after a pause (the worker sleeps again).
      for (let i = 0; i < 6; i++) {
        const tenant = i % 2 ? 'a' : 'b';
        const { outputs } = await r.submit(tenant, [testInput(i)]);
        expect(outputs).toEqual(expectedOutputs(tenant === 'a' ? MODEL : OTHER, i));
        if (i === 3) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await r.close();
    }
    for (const bad of [-1, Number.NaN, 1e9, '5']) {
      await expect(runtime({ workerSpinUs: bad as number })).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });
});

describe('reconfiguration', () => {
  it('loses and duplicates nothing while reconfiguring repeatedly under continuous load', async () => {
    const r = await runtime({ queueLimit: 100 });
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 2, cores: 1 } });
    await r.addTenant({ name: 'b', model: OTHER, choice: { k: 5, cores: 1 } });
    const events: ReconfigureEvent[] = [];
    r.on('reconfigure', (e) => events.push(e));
    const traces: RequestTrace[] = [];
    let stop = false;
    let submitted = 0;
    let outstanding = 0;
    const results: Promise<void>[] = [];
    const load = (async () => {
      let i = 0;
      while (!stop) {
        for (let j = 0; j < 4; j++, i++) {
          const tenant = i % 2 === 0 ? 'a' : 'b';
          const seed = i % 7;
          submitted++;
          outstanding++;
          results.push(
            r.submit(tenant, [testInput(seed)]).then((res) => {
              outstanding--;
              expect(res.outputs).toEqual(expectedOutputs(tenant === 'a' ? MODEL : OTHER, seed));
              traces.push(res.trace);
            }),
          );
        }
        // Keep a bounded backlog (well under the queue limit) so nothing is rejected here.
        do await new Promise((resolve) => setTimeout(resolve, 1));
        while (outstanding > 40 && !stop);
      }
    })();
    const plan = [
      [4, 1, 'mg1', 8, 1, 'mgc'],
      [0, 2, 'mgc', 10, 0, 'mg1'],
      [7, 1, 'mgc', 1, 1, 'mg1'],
      [10, 0, 'mg1', 3, 2, 'mg1'],
      [5, 1, 'mg1', 0, 1, 'mgc'],
    ] as const;
    for (let round = 0; round < 15; round++) {
      const [ka, ca, ma, kb, cb, mb] = plan[round % plan.length]!;
      await r.reconfigure({
        tenants: [
          { name: 'a', k: ka, cores: ca, mode: ma },
          { name: 'b', k: kb, cores: cb, mode: mb },
        ],
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    stop = true;
    await load;
    await Promise.all(results);
    expect(traces).toHaveLength(submitted);
    expect(new Set(traces.map((t) => t.id)).size).toBe(submitted);
    // Requests ran on several configurations, each on the variant it was admitted with.
    expect(new Set(traces.map((t) => t.config)).size).toBeGreaterThan(4);
    for (const t of traces) expect(t.variant.endsWith(`:k=${t.k}`)).toBe(true);
    const s = r.stats();
    expect(s.reconfigurations.completed).toBe(15);
    expect(s.tenants.a!.completed + s.tenants.b!.completed).toBe(submitted);
    expect(events.filter((e) => e.phase === 'switched')).toHaveLength(15);
    // Old configurations are disposed once drained (the last one may still be draining its retire event).
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.filter((e) => e.phase === 'retired').length).toBeGreaterThanOrEqual(25);
  });

  it('changes cores live (mg1 threads, mgc workers) and refuses a decision over the core budget', async () => {
    const r = await runtime();
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 3, cores: 1 } });
    await r.addTenant({ name: 'b', model: OTHER, choice: { k: 3, cores: 1 } });
    const x = [testInput(2)];
    expect((await r.submit('a', x)).trace.cores).toBe(1);
    await r.reconfigure({ tenants: [{ name: 'b', k: 10, cores: 0 }] });
    await r.reconfigure({ tenants: [{ name: 'a', k: 3, cores: 2, mode: 'mg1' }] });
    const two = await r.submit('a', x);
    expect(two.trace).toMatchObject({ cores: 2, mode: 'mg1' });
    expect(two.outputs).toEqual(expectedOutputs(MODEL, 2));
    await r.reconfigure({ tenants: [{ name: 'a', k: 3, cores: 2, mode: 'mgc' }] });
    const workers = new Set<number>();
    const many = await Promise.all(Array.from({ length: 16 }, () => r.submit('a', x)));
    for (const m of many) {
      expect(m.outputs).toEqual(expectedOutputs(MODEL, 2));
      workers.add(m.trace.cpu!.worker);
    }
    expect(workers.size).toBeLessThanOrEqual(2);
    expect(r.choice('a')).toEqual({ k: 3, cores: 2, mode: 'mgc' });

    const over = r.reconfigure({ tenants: [{ name: 'b', k: 3, cores: 1 }] });
    await expect(over).rejects.toBeInstanceOf(ConflictError);
    await expect(over).rejects.toMatchObject({
      code: ErrorCodes.CONFLICT,
      details: { reason: 'core-budget' },
    });
    expect(r.choice('b')).toEqual({ k: 10, cores: 0, mode: 'mg1' });
    await expect(r.reconfigure({ tenants: [{ name: 'a', k: 11, cores: 1 }] })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(r.reconfigure({ tenants: [{ name: 'nobody', k: 1, cores: 1 }] })).rejects.toMatchObject({
      code: ErrorCodes.NOT_FOUND,
      details: { reason: 'unknown-tenant' },
    });
    expect(r.stats().reconfigurations.completed).toBe(3);
  });
});

describe('admission', () => {
  it('rejects with OverloadedError when a tenant queue is full, and admitted requests still complete', async () => {
    const r = await runtime({ queueLimit: 3 });
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 4, cores: 1 } });
    const rejects: string[] = [];
    r.on('reject', (e) => rejects.push(e.code));
    const settled = await Promise.allSettled(Array.from({ length: 10 }, () => r.submit('a', [testInput(3)])));
    const ok = settled.filter((s) => s.status === 'fulfilled');
    const bad = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
    expect(ok).toHaveLength(3);
    expect(bad).toHaveLength(7);
    for (const e of bad) {
      expect(e).toBeInstanceOf(OverloadedError);
      expect(e.code).toBe('SWAPLESS_OVERLOADED');
    }
    expect(rejects).toEqual(Array(7).fill('SWAPLESS_OVERLOADED'));
    expect(r.stats().tenants.a).toMatchObject({ admitted: 3, completed: 3, rejected: { overloaded: 7 } });
    // The queue has room again.
    await expect(r.submit('a', [testInput(3)])).resolves.toBeDefined();
  });

  it('validates tenants and inputs with typed errors', async () => {
    const r = await runtime();
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 4, cores: 1 } });
    await expect(r.submit('zz', [testInput(1)])).rejects.toMatchObject({
      code: ErrorCodes.NOT_FOUND,
      details: { reason: 'unknown-tenant' },
    });
    await expect(r.submit('a', [new Float32Array(768)])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(r.submit('a', [new Int8Array(5)])).rejects.toMatchObject({
      details: { reason: 'input-tensor' },
    });
    await expect(r.submit('a', [testInput(1), testInput(2)])).rejects.toMatchObject({
      details: { reason: 'input-count' },
    });
    // A single typed array is accepted for a one-input model.
    expect((await r.submit('a', testInput(1))).outputs).toEqual(expectedOutputs(MODEL, 1));
    await expect(r.addTenant({ name: 'a', model: MODEL, choice: { k: 1, cores: 1 } })).rejects.toMatchObject({
      code: ErrorCodes.CONFLICT,
      details: { reason: 'duplicate-tenant' },
    });
    await expect(r.addTenant({ name: 'c', model: MODEL, choice: { k: 1, cores: 2 } })).rejects.toMatchObject({
      code: ErrorCodes.CONFLICT,
      details: { reason: 'core-budget' },
    });
    await expect(
      r.addTenant({ name: 'd', model: MODEL, choice: { k: -1, cores: 1 } }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(r.tenantNames).toEqual(['a']);
  });

  it('close() drains requests in flight, then refuses everything with ShuttingDownError', async () => {
    const r = await runtime({ queueLimit: 100 });
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 5, cores: 1 } });
    const inflight = Array.from({ length: 20 }, (_, i) => r.submit('a', [testInput(i % 3)]));
    const closing = r.close();
    const late = r.submit('a', [testInput(0)]);
    await expect(late).rejects.toBeInstanceOf(ShuttingDownError);
    await expect(late).rejects.toMatchObject({ code: 'SWAPLESS_SHUTTING_DOWN' });
    await expect(r.reconfigure({ tenants: [] })).rejects.toBeInstanceOf(ShuttingDownError);
    const done = await Promise.all(inflight);
    done.forEach((d, i) => {
      expect(d.outputs).toEqual(expectedOutputs(MODEL, i % 3));
    });
    await closing;
    expect(r.stats()).toMatchObject({ closing: true, workers: 0 });
    expect(r.stats().tenants.a).toMatchObject({ completed: 20, inFlight: 0, rejected: { shuttingDown: 1 } });
    await r.close(); // idempotent
  });
});

describe('timing-only mode and observations', () => {
  it('times heads without computing them, feeds tails placeholders, and reports observations', async () => {
    const r = await runtime({ mode: 'timing-only' });
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 4, cores: 1 } });
    await r.addTenant({ name: 'b', model: MODEL, choice: { k: 10, cores: 0 } });
    const a = await r.submit('a', [testInput(1)]);
    expect(a.trace.functional).toBe(false);
    expect(a.trace.tpu).toMatchObject({ backend: 'emulated', computedMs: null });
    expect(a.trace.tpu!.modelledMs).toBeGreaterThan(0);
    expect(a.outputs[0]).toBeInstanceOf(Int8Array);
    const b = await r.submit('b', [testInput(1)]);
    expect(b.trace.cpu).toBeNull();
    expect(b.outputs[0]).toEqual(new Int8Array(10)); // placeholder of the model's output
    const obs = r.observe();
    expect(obs.tenants.a!.arrivalsMs).toHaveLength(1);
    expect(obs.tenants.a!.tpuServiceMs).toHaveLength(1);
    expect(obs.tenants.a!.cpuServiceMs).toHaveLength(1);
    // The hand-back of the CPU stage's outputs: the stage as the trace times it, minus the worker's compute.
    const cpu = a.trace.cpu!;
    expect(obs.tenants.a!.cpuReturnMs).toHaveLength(1);
    expect(obs.tenants.a!.cpuReturnMs![0]).toBeCloseTo(cpu.endMs - cpu.startMs - cpu.computeMs, 6);
    expect(obs.tenants.a!.cpuReturnMs![0]).toBeGreaterThanOrEqual(0);
    expect(obs.tenants.a!.cpuAt[0]).toEqual({ k: 4, cores: 1, mode: 'mg1' });
    expect(r.observe().tenants.a!.arrivalsMs).toHaveLength(0);
  });
});

describe('removeTenant', () => {
  it('stops admitting at once, completes requests in flight exactly once with correct results, then frees', async () => {
    const r = await runtime({ queueLimit: 100 });
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 4, cores: 1 } });
    await r.addTenant({ name: 'b', model: OTHER, choice: { k: 6, cores: 1, mode: 'mgc' } });
    const ids: number[] = [];
    r.on('request', (t) => ids.push(t.id));
    const inflight = Array.from({ length: 40 }, (_, i) =>
      r.submit(i % 2 === 0 ? 'a' : 'b', [testInput(i % 5)]),
    );
    const removal = r.removeTenant('a');
    // Gone for admission, metrics and decisions at once.
    expect(r.tenantNames).toEqual(['b']);
    expect(r.stats().tenants.a).toBeUndefined();
    await expect(r.submit('a', [testInput(0)])).rejects.toMatchObject({
      code: ErrorCodes.NOT_FOUND,
      details: { reason: 'unknown-tenant' },
    });
    // A decision that still lists the tenant being removed is applied to the others.
    await r.reconfigure({
      tenants: [
        { name: 'a', k: 2, cores: 1 },
        { name: 'b', k: 5, cores: 1 },
      ],
    });
    const done = await Promise.all(inflight);
    done.forEach((d, i) => {
      expect(d.outputs).toEqual(expectedOutputs(i % 2 === 0 ? MODEL : OTHER, i % 5));
      expect(d.trace.tenant).toBe(i % 2 === 0 ? 'a' : 'b');
    });
    await removal;
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
    expect(r.choice('b')).toEqual({ k: 5, cores: 1, mode: 'mg1' });
    // Only b's model is still cached (one variant per cut it used).
    expect(r.stats().variantsCached).toBe(2);
    await expect(r.removeTenant('a')).rejects.toMatchObject({
      code: ErrorCodes.NOT_FOUND,
      details: { reason: 'unknown-tenant' },
    });
    await expect(r.removeTenant('never')).rejects.toBeInstanceOf(NotFoundError);
    await r.removeTenant('b');
    expect(r.stats()).toMatchObject({ tenants: {}, variantsCached: 0 });
  });

  it('keeps the cores of a draining tenant in the budget, then lets a new tenant use them', async () => {
    const r = await runtime({ queueLimit: 100 });
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 3, cores: 1 } });
    await r.addTenant({ name: 'b', model: OTHER, choice: { k: 3, cores: 1 } });
    const inflight = Array.from({ length: 20 }, () => r.submit('a', [testInput(1)]));
    // Queued before the removal: runs while a still drains, so a's core is not free yet.
    const early = r.addTenant({ name: 'c', model: OTHER, choice: { k: 2, cores: 1 } });
    const removal = r.removeTenant('a');
    // Queued after the removal: runs once a is gone.
    const late = r.reconfigure({ tenants: [{ name: 'b', k: 3, cores: 2 }] });
    await expect(early).rejects.toMatchObject({
      code: ErrorCodes.CONFLICT,
      details: { reason: 'core-budget' },
    });
    await removal;
    await late;
    expect(r.choice('b')).toEqual({ k: 3, cores: 2, mode: 'mg1' });
    for (const d of await Promise.all(inflight)) expect(d.outputs).toEqual(expectedOutputs(MODEL, 1));
    await r.reconfigure({ tenants: [{ name: 'b', k: 10, cores: 0 }] });
    await r.addTenant({ name: 'c', model: MODEL, choice: { k: 2, cores: 2, mode: 'mgc' } });
    expect((await r.submit('c', [testInput(3)])).outputs).toEqual(expectedOutputs(MODEL, 3));
  });

  it('makes the name reusable, applies after a pending addTenant, and keeps a head another tenant shares', async () => {
    const r = await runtime();
    // Not awaited: the removal is serialised after the add.
    const added = r.addTenant({ name: 'a', model: MODEL, choice: { k: 4, cores: 1 } });
    const removed = r.removeTenant('a');
    await added;
    await removed;
    expect(r.tenantNames).toEqual([]);
    await r.addTenant({ name: 'a', model: OTHER, choice: { k: 4, cores: 1 } });
    await r.addTenant({ name: 'twin', model: OTHER, choice: { k: 4, cores: 1 } });
    expect((await r.submit('a', [testInput(2)])).outputs).toEqual(expectedOutputs(OTHER, 2));
    await r.removeTenant('a');
    // The shared head (same model, same cut) is still loaded for the other tenant, in functional mode.
    const twin = await r.submit('twin', [testInput(2)]);
    expect(twin.outputs).toEqual(expectedOutputs(OTHER, 2));
    expect(twin.trace.tpu!.computedMs).not.toBeNull();
  });

  it('still drains and resolves when the runtime starts closing', async () => {
    const r = await runtime({ queueLimit: 100 });
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 5, cores: 1 } });
    await r.addTenant({ name: 'b', model: OTHER, choice: { k: 5, cores: 1 } });
    const inflight = Array.from({ length: 20 }, (_, i) => r.submit(i % 2 ? 'a' : 'b', [testInput(i % 3)]));
    const closing = r.close();
    const removals = [r.removeTenant('a'), r.removeTenant('b')];
    const done = await Promise.all(inflight);
    done.forEach((d, i) => {
      expect(d.outputs).toEqual(expectedOutputs(i % 2 ? MODEL : OTHER, i % 3));
    });
    await Promise.all(removals);
    await closing;
    expect(r.stats()).toMatchObject({ closing: true, workers: 0, tenants: {} });
  });
});

describe('device token holder', () => {
  it('reports which tenant and variant hold the emulated device’s caching token', async () => {
    const r = await runtime();
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 4, cores: 1 } });
    await r.addTenant({ name: 'b', model: OTHER, choice: { k: 6, cores: 1 } });
    expect(r.stats().tpu.holder).toBeNull();
    const a = await r.submit('a', [testInput(1)]);
    expect(r.stats().tpu.holder).toEqual({ tenant: 'a', variant: a.trace.variant });
    const b = await r.submit('b', [testInput(1)]);
    expect(b.trace.tpu!.reload).toBe(true);
    expect(r.stats().tpu.holder).toEqual({ tenant: 'b', variant: b.trace.variant });
    // A CPU-only request does not touch the device.
    await r.reconfigure({ tenants: [{ name: 'a', k: 0, cores: 1 }] });
    await r.submit('a', [testInput(1)]);
    expect(r.stats().tpu.holder).toEqual({ tenant: 'b', variant: b.trace.variant });
    await r.removeTenant('b');
    expect(r.stats().tpu.holder).toBeNull();
  });
});

describe('core budget during a reconfiguration', () => {
  /**
   * Switches with `decision` while CPU-only stages (k = 0) of a and b hold a backlog: 60 requests each are
   * submitted in the `prepared` listener, i.e. right before the synchronous switch, so they are all admitted to
   * the old configurations and none has run yet. Then 30 more go to a's new configuration. Returns when a's new
   * stage first started and when the old stages (all, and a's) last finished.
   */
  async function switchUnderBacklog(decision: ReconfigureRequest) {
    const r = await runtime({ queueLimit: 400 });
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 0, cores: 1 } });
    await r.addTenant({ name: 'b', model: OTHER, choice: { k: 0, cores: 1, mode: 'mgc' } });
    const traces: RequestTrace[] = [];
    r.on('request', (t) => traces.push(t));
    const jobs: Promise<void>[] = [];
    const submit = (tenant: string, seed: number) =>
      jobs.push(
        r.submit(tenant, [testInput(seed)]).then((res) => {
          expect(res.outputs).toEqual(expectedOutputs(tenant === 'a' ? MODEL : OTHER, seed));
        }),
      );
    r.on('reconfigure', (e) => {
      if (e.phase === 'prepared') for (let i = 0; i < 120; i++) submit(i % 2 ? 'a' : 'b', i % 4);
    });
    await r.reconfigure(decision);
    for (let j = 0; j < 30; j++) submit('a', j % 4);
    await Promise.all(jobs);
    const old = traces.filter((t) => t.config <= 2 && t.cpu !== null);
    const fresh = traces.filter((t) => t.config > 2 && t.tenant === 'a');
    expect(old.length).toBe(120);
    expect(fresh.length).toBe(30);
    return {
      lastOldEnd: Math.max(...old.map((t) => t.cpu!.endMs)),
      lastOldEndOfA: Math.max(...old.filter((t) => t.tenant === 'a').map((t) => t.cpu!.endMs)),
      firstNewStart: Math.min(...fresh.map((t) => t.cpu!.startMs)),
    };
  }

  it('starts a multi-threaded stage only after the stages it would overbook have drained', async () => {
    // a takes both cores (one 2-thread interpreter) while b moves entirely to the TPU: 2 + 1 + 1 threads would
    // exceed 2 cores, so a's new stage waits for a's and b's old 1-thread stages.
    const run = await switchUnderBacklog({
      tenants: [
        { name: 'a', k: 0, cores: 2, mode: 'mg1' },
        { name: 'b', k: N, cores: 0 },
      ],
    });
    expect(run.firstNewStart).toBeGreaterThanOrEqual(run.lastOldEnd);
  });

  it('lets single-threaded stages overlap during a drain', async () => {
    // a: one 1-thread worker → one 1-thread worker of another mode; 1 + 1 + 1 threads, none multi-threaded.
    const run = await switchUnderBacklog({ tenants: [{ name: 'a', k: 0, cores: 1, mode: 'mgc' }] });
    expect(run.firstNewStart).toBeLessThan(run.lastOldEndOfA);
  });
});
