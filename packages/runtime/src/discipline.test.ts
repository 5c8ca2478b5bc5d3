// The switch-aware Edge TPU discipline in the runtime's device lanes (issue 15 B): queued requests of the token
// on chip start first, within the reordering budget; FIFO otherwise.
import { ErrorCodes } from '@swapless/core';
import { afterEach, describe, expect, it } from 'vitest';
import { DeviceLane } from './devices.js';
import { createRuntime, type Runtime } from './index.js';
import { testInput, testNetBytes } from './test-support.js';
import type { TpuBackend } from './tpu.js';

interface Call {
  id: number;
  token: string;
}

/** A lane with queued calls of the given tokens (ids 0, 1, …) and the budget. */
function laneOf(tokens: string, budgetMs: number): DeviceLane<Call, never, never> {
  const lane = new DeviceLane<Call, never, never>('tpu0', 0, {} as TpuBackend);
  lane.budgetMs = budgetMs;
  for (const [id, token] of [...tokens].entries()) lane.queue.push({ id, token });
  return lane;
}
const take = (lane: DeviceLane<Call, never, never>, onChip: string | null) =>
  lane.takeNext(
    (c) => c.token,
    () => 2,
    onChip,
  );

describe('DeviceLane.takeNext', () => {
  it('is FIFO with a budget of 0, or when the token on chip is unknown', () => {
    const fifo = laneOf('BABA', 0);
    expect([0, 1, 2, 3].map(() => take(fifo, 'A')!.id)).toEqual([0, 1, 2, 3]);
    const unknown = laneOf('BABA', 100);
    expect(take(unknown, null)!.id).toBe(0);
    expect(take(laneOf('', 10), 'A')).toBeUndefined();
  });

  it('starts calls of the token on chip first until the oldest call has been overtaken by the budget', () => {
    // Budget 5 ms, 2 ms per call: the oldest B call lets two A calls pass, not a third.
    const lane = laneOf('BAAAB', 5);
    const order = [take(lane, 'A')!.id, take(lane, 'A')!.id];
    expect(order).toEqual([1, 2]);
    const oldest = lane.queue[0]!;
    expect(lane.overtakenMs(oldest)).toBe(4);
    expect(take(lane, 'A')!.id).toBe(0);
    // The calls that stayed were overtaken less (the last B by nothing).
    expect(lane.queue.map((c) => c.id)).toEqual([3, 4]);
    expect(lane.overtakenMs(lane.queue[1]!)).toBe(0);
  });
});

describe('the runtime under the switch-aware discipline', () => {
  let rt: Runtime | null = null;
  afterEach(async () => {
    await rt?.close();
    rt = null;
  });

  /** Submits a, b, a, b, … at once; the tokens of the calls in the order the device ran them. */
  async function alternate(runtime: Runtime, n: number): Promise<{ reloads: number; order: string[] }> {
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => runtime.submit(i % 2 === 0 ? 'a' : 'b', [testInput(i)])),
    );
    const runs = results
      .map((r, i) => ({
        tenant: i % 2 === 0 ? 'a' : 'b',
        start: r.trace.tpu!.startMs,
        reload: r.trace.tpu!.reload,
      }))
      .sort((x, y) => x.start - y.start);
    return { reloads: runs.filter((r) => r.reload).length, order: runs.map((r) => r.tenant) };
  }

  it('runs the queued calls of the head on chip first, and FIFO again when the decision says so', async () => {
    rt = await createRuntime({ cores: 2, emulator: { timeScale: 0 } });
    await rt.addTenant({ name: 'a', model: testNetBytes(0), choice: { k: 10, cores: 0 } });
    await rt.addTenant({ name: 'b', model: testNetBytes(7), choice: { k: 10, cores: 0 } });
    const choices = [
      { name: 'a', k: 10, cores: 0 },
      { name: 'b', k: 10, cores: 0 },
    ];
    const fifo = await alternate(rt, 12);
    expect(fifo.order).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
    await rt.reconfigure({ tenants: choices, discipline: { kind: 'switch-aware', maxExtraWaitMs: 1e6 } });
    const aware = await alternate(rt, 12);
    // The first a call holds the device while the rest queue; then the other a calls pass the waiting b calls.
    expect(aware.order).toEqual(['a', 'a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'b', 'b']);
    expect(aware.reloads).toBeLessThan(fifo.reloads);
    await rt.reconfigure({ tenants: choices });
    expect((await alternate(rt, 6)).order).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    await expect(
      rt.reconfigure({ tenants: choices, discipline: { kind: 'switch-aware', maxExtraWaitMs: -1 } }),
    ).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
  });
});
