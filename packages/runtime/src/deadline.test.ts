import { ErrorCodes, InvalidArgumentError, isSwapLessError } from '@swapless/core';
import { afterEach, describe, expect, it } from 'vitest';
import { StageEstimate } from './deadline.js';
import { createRuntime, type RequestTrace, type Runtime } from './index.js';
import { testInput, testNetBytes } from './test-support.js';

const MODEL = testNetBytes(0);
const N = 10; // compute ops of the test network

let rt: Runtime | null = null;
afterEach(async () => {
  await rt?.close();
  rt = null;
});

async function runtime(timeScale: number): Promise<Runtime> {
  rt = await createRuntime({ cores: 2, emulator: { timeScale } });
  return rt;
}

/** The rejection of a promise (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('StageEstimate', () => {
  it('takes a prior until measured, then follows the measurements', () => {
    const e = new StageEstimate();
    expect(e.ms).toBe(0);
    e.prior(5);
    e.prior(Number.NaN);
    e.prior(-1);
    expect(e.ms).toBe(5);
    e.observe(10);
    expect(e.ms).toBe(10);
    e.prior(1000);
    expect(e.ms).toBe(10);
    for (let i = 0; i < 100; i++) e.observe(20);
    expect(e.ms).toBeGreaterThan(19.9);
    e.observe(Number.NaN);
    e.observe(Number.POSITIVE_INFINITY);
    expect(e.samples).toBe(101);
  });
});

describe('deadline admission', () => {
  it('refuses at once a request its queues cannot finish in time, with the prediction and a retry delay', async () => {
    const r = await runtime(0);
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: N, cores: 0 } });
    // The latency model says a head takes 50 ms; nothing has been measured yet.
    r.setServicePrior('a', { tpuMs: 50, cpuMs: 0 });
    const x = testInput(1);
    const queued = [r.submit('a', [x]), r.submit('a', [x]), r.submit('a', [x])];
    // One head running (≤ 50 ms left) and two waiting (100 ms), then its own 50 ms.
    const predicted = r.predictMs('a');
    expect(predicted).toBeGreaterThan(150 - 1);
    expect(predicted).toBeLessThanOrEqual(200);
    const now = performance.now();
    const error = await rejection(r.submit('a', [x], { deadlineMs: now + 100 }));
    expect(isSwapLessError(error, ErrorCodes.OVERLOADED)).toBe(true);
    const details = (error as { details: Record<string, number | string> }).details;
    expect(details.reason).toBe('deadline');
    expect(details.tenant).toBe('a');
    expect(details.predictedMs).toBeGreaterThan(150 - 1);
    expect(details.retryAfterS).toBeGreaterThan(0);
    expect((error as Error).message).toMatch(
      /^Expected tenant a to finish a new request within its deadline/,
    );
    // The same check on its own (what the HTTP layer does before reading a body).
    expect(() => r.admit('a', now + 100)).toThrow(/within its deadline/);
    expect(() => r.admit('a', now + 10_000)).not.toThrow();
    expect(() => r.admit('a', Number.NaN)).toThrow(InvalidArgumentError);
    expect(() => r.admit('nobody', now + 10_000)).toThrow(/the name of a tenant/);
    // A deadline far enough away is admitted, and Infinity is no deadline at all.
    const late = r.submit('a', [x], { deadlineMs: now + 10_000 });
    const none = r.submit('a', [x], { deadlineMs: Number.POSITIVE_INFINITY });
    await Promise.all([...queued, late, none]);
    expect(r.stats().tenants.a).toMatchObject({
      admitted: 5,
      completed: 5,
      expired: 0,
      rejected: { overloaded: 2, shuttingDown: 0 },
    });
    // admit() refuses a full queue too, before the deadline is even considered.
    const small = await createRuntime({ cores: 1, queueLimit: 1, emulator: { timeScale: 0 } });
    try {
      await small.addTenant({ name: 'b', model: MODEL, choice: { k: N, cores: 0 } });
      const running = small.submit('b', [x]);
      expect(() => small.admit('b', Number.POSITIVE_INFINITY)).toThrow(
        expect.objectContaining({ details: expect.objectContaining({ reason: 'queue-full' }) }),
      );
      await running;
    } finally {
      await small.close();
    }
    expect(await rejection(r.submit('a', [x], { deadlineMs: 'soon' as unknown as number }))).toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('drops a queued request whose deadline passed before the Edge TPU ran it (504, never executed)', async () => {
    // Real time, stretched: one head of the test network takes tens of ms on the device.
    const r = await runtime(300);
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: N, cores: 0 } });
    const traces: RequestTrace[] = [];
    r.on('request', (t) => traces.push(t));
    const x = testInput(2);
    // Nothing measured and no prior: admission is optimistic, so both are admitted.
    const first = r.submit('a', [x]);
    const second = r.submit('a', [x], { deadlineMs: performance.now() + 5 });
    const error = await rejection(second);
    const done = await first;
    // The premise: the head in front took longer than the second request's whole budget.
    expect(done.trace.tpu!.endMs - done.trace.tpu!.startMs).toBeGreaterThan(5);
    expect(isSwapLessError(error, ErrorCodes.DEADLINE_EXCEEDED)).toBe(true);
    expect((error as { details: { stage: string } }).details.stage).toBe('tpu');
    expect((error as Error).message).toMatch(/dropped before its Edge TPU stage/);
    const stats = r.stats();
    // The device ran the first request only.
    expect(stats.tpu.calls).toBe(1);
    expect(stats.tenants.a).toMatchObject({ admitted: 2, completed: 1, failed: 0, expired: 1, inFlight: 0 });
    const dropped = traces.find((t) => t.expired === true);
    expect(dropped?.tpu).toBeNull();
    expect(dropped?.cpu).toBeNull();
  });

  it('drops a request before its CPU stage once its deadline is out of reach there', async () => {
    const r = await runtime(300);
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: 4, cores: 1 } });
    const x = testInput(3);
    const p = r.submit('a', [x], { deadlineMs: performance.now() + 5 });
    const error = await rejection(p);
    expect(isSwapLessError(error, ErrorCodes.DEADLINE_EXCEEDED)).toBe(true);
    expect((error as { details: { stage: string } }).details.stage).toBe('cpu');
    const obs = r.observe().tenants.a!;
    // Its head ran (the deadline was still in reach), its tail never did.
    expect(obs.tpuServiceMs.length).toBe(1);
    expect(obs.cpuServiceMs.length).toBe(0);
    expect(r.stats().tenants.a).toMatchObject({ completed: 0, expired: 1, inFlight: 0 });
  });

  it('sweeps requests out of a queue that does not move, without waiting for their turn', async () => {
    const r = await runtime(3000);
    await r.addTenant({ name: 'a', model: MODEL, choice: { k: N, cores: 0 } });
    const x = testInput(4);
    const first = r.submit('a', [x]);
    const t0 = performance.now();
    const queued = r.submit('a', [x], { deadlineMs: t0 + 20 });
    await rejection(queued);
    const answeredAfter = performance.now() - t0;
    const head = await first;
    // Dropped by the periodic sweep while the head in front of it was still on the device.
    expect(head.trace.tpu!.endMs).toBeGreaterThan(t0 + answeredAfter);
    expect(r.stats().tpu.calls).toBe(1);
  });
});
