import type { TensorArray } from '@swapless/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulationPool } from './emulation.js';
import { createRuntime, EMULATION_LAG_THRESHOLD_MS, type RequestTrace, type Runtime } from './index.js';
import { preparedPart } from './parts.js';
import { reference, testInput, testNetBytes } from './test-support.js';

const MODEL = testNetBytes(0);

let rt: Runtime | null = null;
let pool: EmulationPool | null = null;
afterEach(async () => {
  await rt?.close();
  rt = null;
  await pool?.close();
  pool = null;
});

// timeScale 0: the modelled device time is not waited out, so the device is always done before the host has the
// head's outputs. What follows depends on event-loop order (a worker's reply is a message, after the device's
// promise chain), never on how fast this machine is.
describe('functional emulator: the device keeps its own time', () => {
  it('frees the device at its modelled end, while the outputs are still computing on the emulation pool', async () => {
    rt = await createRuntime({ cores: 1, emulator: { timeScale: 0 } });
    await rt.addTenant({ name: 'a', model: MODEL, choice: { k: 10, cores: 0 } });
    const want = reference(MODEL, [testInput(1)]);
    const results = await Promise.all(Array.from({ length: 6 }, () => rt!.submit('a', [testInput(1)])));
    const traces = results.map((r) => r.trace);
    for (const r of results) expect(r.outputs).toEqual(want);
    for (const t of traces) {
      const tpu = t.tpu!;
      const e = tpu.emulation!;
      expect(e).not.toBeNull();
      expect(tpu.deviceEndMs).toBeGreaterThanOrEqual(tpu.startMs);
      expect(tpu.endMs).toBe(Math.max(tpu.deviceEndMs, e.readyMs));
      expect(e.lagMs).toBe(Math.max(0, e.readyMs - tpu.deviceEndMs));
      expect(e.computeMs).toBeGreaterThan(0);
      expect(e.waitMs).toBeGreaterThanOrEqual(0);
    }
    // The second call started on the device before the first call's outputs were back: the device was not held
    // for the host's computation (before, every call waited for its head to be computed).
    const byStart = [...traces].sort((x, y) => x.tpu!.startMs - y.tpu!.startMs);
    expect(byStart[1]!.tpu!.startMs).toBeLessThan(byStart[0]!.tpu!.emulation!.readyMs);
    const stats = rt.stats();
    expect(stats.emulation).toMatchObject({ workers: 1, queued: 0, calls: 6 });
    const lagging = traces.filter((t) => t.tpu!.emulation!.lagMs > EMULATION_LAG_THRESHOLD_MS).length;
    expect(stats.emulation!.lagging).toBe(lagging);
    const sum = (f: (t: RequestTrace) => number) => traces.reduce((s, t) => s + f(t), 0);
    expect(stats.emulation!.computeMs).toBeCloseTo(
      sum((t) => t.tpu!.emulation!.computeMs),
      6,
    );
    expect(stats.emulation!.lagMs).toBeCloseTo(
      sum((t) => t.tpu!.emulation!.lagMs),
      6,
    );
    // Device time, not the host's, is what the TPU stage's service times and busy time report.
    const obs = rt.observe().tenants.a!;
    expect(obs.tpuServiceMs).toHaveLength(6);
    expect(obs.emulationLagMs).toHaveLength(6);
    // Six calls sent at once to one worker: each waits for those before it (the first for none but the hand-over).
    expect([...obs.emulationWaitMs!].sort((x, y) => x - y)).toEqual(
      traces.map((t) => t.tpu!.emulation!.waitMs).sort((x, y) => x - y),
    );
    const waits = [...obs.emulationWaitMs!].sort((x, y) => x - y);
    expect(waits[5]!).toBeGreaterThan(
      waits[0]! + 4 * Math.min(...traces.map((t) => t.tpu!.emulation!.computeMs)),
    );
    const device = traces.map((t) => t.tpu!.deviceEndMs - t.tpu!.startMs).sort();
    expect([...obs.tpuServiceMs].sort()).toEqual(device);
    expect(stats.tpu.busyMs).toBeCloseTo(
      device.reduce((s, x) => s + x, 0),
      6,
    );
  });

  it('spreads head computations over several emulation workers', async () => {
    rt = await createRuntime({ cores: 1, emulator: { timeScale: 0, workers: 2 } });
    await rt.addTenant({ name: 'a', model: MODEL, choice: { k: 6, cores: 1 } });
    const want = reference(MODEL, [testInput(2)]);
    const results = await Promise.all(Array.from({ length: 8 }, () => rt!.submit('a', [testInput(2)])));
    for (const r of results) expect(r.outputs).toEqual(want);
    expect(rt.stats().emulation).toMatchObject({ workers: 2, calls: 8, queued: 0 });
  });

  it('reports no emulation for timing-only heads, and refuses a bad worker count', async () => {
    rt = await createRuntime({ cores: 1, mode: 'timing-only', emulator: { timeScale: 0 } });
    await rt.addTenant({ name: 'a', model: MODEL, choice: { k: 4, cores: 1 } });
    const { trace } = await rt.submit('a', [testInput(1)]);
    expect(trace.tpu!.emulation).toBeNull();
    expect(trace.tpu!.endMs).toBe(trace.tpu!.deviceEndMs);
    expect(rt.stats().emulation).toBeNull();
    expect(rt.observe().tenants.a!.emulationLagMs).toEqual([0]);
    await expect(createRuntime({ emulator: { workers: 0 } })).rejects.toMatchObject({
      code: 'SWAPLESS_INVALID_ARGUMENT',
    });
  });
});

describe('EmulationPool', () => {
  it('learns each head’s compute time and estimates the backlog of calls queued on it', async () => {
    pool = new EmulationPool(1, 1);
    await pool.load('h', preparedPart(MODEL));
    const x: TensorArray[] = [testInput(3)];
    expect(pool.estimateMs('h')).toBe(0);
    expect(pool.backlogMs('h')).toBe(0);
    const first = await pool.compute('h', x);
    expect(first.outputs).toEqual(reference(MODEL, x));
    const est = pool.estimateMs('h');
    expect(est).toBeCloseTo(first.computeMs, 9);
    // Three calls queued: a fourth waits behind all three on the single worker.
    const queued = [pool.compute('h', x), pool.compute('h', x), pool.compute('h', x)];
    expect(pool.queued).toBe(3);
    expect(pool.backlogMs('h')).toBeCloseTo(4 * est, 9);
    await Promise.all(queued);
    expect(pool.queued).toBe(0);
    expect(pool.backlogMs('h')).toBeCloseTo(pool.estimateMs('h'), 9);
    pool.unload('h');
    expect(pool.estimateMs('h')).toBe(0);
  });
});
