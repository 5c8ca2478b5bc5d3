import type { TensorArray } from '@swapless/contracts';
import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, DEFAULT_DEVICE_ID, type RequestTrace, type Runtime } from './index.js';
import { reference, testInput, testNetBytes } from './test-support.js';

const A = testNetBytes(0);
const B = testNetBytes(7);

let rt: Runtime | null = null;
afterEach(async () => {
  await rt?.close();
  rt = null;
});

const want = new Map<string, TensorArray[]>();
function expected(model: Uint8Array, seed: number): TensorArray[] {
  const key = `${model === A ? 'a' : 'b'}:${seed}`;
  let r = want.get(key);
  if (r === undefined) {
    r = reference(model, [testInput(seed)]);
    want.set(key, r);
  }
  return r;
}

describe('several Edge TPUs', () => {
  it('keeps one device as before (no device in choices), and validates the device list', async () => {
    rt = await createRuntime({ cores: 2, emulator: { timeScale: 0 } });
    expect(rt.devices).toEqual([DEFAULT_DEVICE_ID]);
    await rt.addTenant({ name: 'a', model: A, choice: { k: 4, cores: 1 } });
    expect(rt.choice('a')).toEqual({ k: 4, cores: 1, mode: 'mg1' });
    const { trace } = await rt.submit('a', [testInput(1)]);
    expect(trace.tpu!.device).toBe(DEFAULT_DEVICE_ID);
    expect(rt.stats().devices.map((d) => [d.id, d.calls, d.tenants])).toEqual([
      [DEFAULT_DEVICE_ID, 1, ['a']],
    ]);
    // A device the runtime does not have is a typed error naming the devices it has.
    await expect(
      rt.reconfigure({ tenants: [{ name: 'a', k: 4, cores: 1, device: 'tpu9' }] }),
    ).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT, details: { reason: 'unknown-device' } });
    for (const devices of [[], [{ id: 'x' }, { id: 'x' }], [{ id: '' }], [{ id: 'x', profile: 'nope' }]]) {
      await expect(createRuntime({ devices: devices as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(
      createRuntime({ devices: [{ id: 'a' }, { id: 'usb:0', edgetpu: {} }] }),
    ).rejects.toMatchObject({ details: { reason: 'mixed-backends' } });
  });

  it('gives each emulated device its own queue, timeline and caching token', async () => {
    rt = await createRuntime({
      cores: 2,
      emulator: { timeScale: 0 },
      devices: [
        { id: 'tpu-a', profile: 'usb3' },
        { id: 'tpu-b', profile: 'pcie' },
      ],
    });
    await rt.addTenant({ name: 'a', model: A, choice: { k: 10, cores: 0 } });
    await rt.addTenant({ name: 'b', model: B, choice: { k: 10, cores: 0, device: 'tpu-b' } });
    expect(rt.choice('a')).toEqual({ k: 10, cores: 0, mode: 'mg1', device: 'tpu-a' });
    expect(rt.choice('b')).toEqual({ k: 10, cores: 0, mode: 'mg1', device: 'tpu-b' });
    // Alternating tenants on two devices: each device loads its tenant's parameters once (its first call), then
    // never switches tokens.
    const traces: RequestTrace[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await rt.submit(i % 2 ? 'b' : 'a', [testInput(i)]);
      expect(r.outputs).toEqual(expected(i % 2 ? B : A, i));
      traces.push(r.trace);
    }
    expect(traces.map((t) => t.tpu!.device)).toEqual(['tpu-a', 'tpu-b', 'tpu-a', 'tpu-b', 'tpu-a', 'tpu-b']);
    expect(traces.map((t) => t.tpu!.reload)).toEqual([true, true, false, false, false, false]);
    // Each device has its own profile, counters, token holder and tenants.
    const stats = rt.stats();
    expect(stats.devices.map((d) => [d.id, d.profile, d.calls, d.holder?.tenant, d.tenants])).toEqual([
      ['tpu-a', 'usb3', 3, 'a', ['a']],
      ['tpu-b', 'pcie', 3, 'b', ['b']],
    ]);
    expect(stats.tpu.calls).toBe(6);
    // The same two tenants on one device take turns and reload each other's parameters on every switch.
    await rt.reconfigure({ tenants: [{ name: 'b', k: 10, cores: 0, device: 'tpu-a' }] });
    for (let i = 0; i < 4; i++) await rt.submit(i % 2 ? 'b' : 'a', [testInput(i)]);
    expect(rt.stats().devices[0]!.reloads).toBeGreaterThanOrEqual(3);
    expect(rt.stats().devices[1]!.reloads).toBe(1);
  });

  it('moves a tenant to another device under load with real CPU stages: none lost, calls move', async () => {
    // Real time (timeScale 1) so requests queue on the devices while the move happens.
    rt = await createRuntime({
      cores: 2,
      devices: [
        { id: 'tpu-a', profile: 'usb3' },
        { id: 'tpu-b', profile: 'usb3' },
      ],
    });
    const r = rt;
    await r.addTenant({ name: 'a', model: A, choice: { k: 5, cores: 1 } });
    await r.addTenant({ name: 'b', model: B, choice: { k: 5, cores: 1 } });
    const done: RequestTrace[] = [];
    const failures: unknown[] = [];
    const pending: Promise<void>[] = [];
    const submit = (tenant: 'a' | 'b', seed: number) =>
      pending.push(
        r.submit(tenant, [testInput(seed)]).then(
          (res) => {
            expect(res.outputs).toEqual(expected(tenant === 'a' ? A : B, seed));
            done.push(res.trace);
          },
          (error) => {
            failures.push(error);
          },
        ),
      );
    for (let i = 0; i < 40; i++) submit(i % 2 ? 'b' : 'a', i % 4);
    // Mid-load: b moves to the second device (and to another cut); 40 more arrive while it switches.
    const moving = r.reconfigure({ tenants: [{ name: 'b', k: 7, cores: 1, device: 'tpu-b' }] });
    for (let i = 0; i < 40; i++) submit(i % 2 ? 'b' : 'a', i % 4);
    const event = await moving;
    for (let i = 0; i < 40; i++) submit(i % 2 ? 'b' : 'a', i % 4);
    await Promise.all(pending);
    expect(failures).toEqual([]);
    expect(done).toHaveLength(120);
    expect(new Set(done.map((t) => t.id)).size).toBe(120);
    expect(event.tenants).toEqual([
      expect.objectContaining({ name: 'b', from: expect.objectContaining({ device: 'tpu-a' }) }),
    ]);
    // The device timelines: b's requests admitted before the switch ran on tpu-a at its old cut, the ones after on
    // tpu-b at the new cut; a never left tpu-a; no device ran two heads at once.
    const bs = done.filter((t) => t.tenant === 'b');
    for (const t of bs) expect([t.k, t.tpu!.device]).toEqual(t.k === 5 ? [5, 'tpu-a'] : [7, 'tpu-b']);
    expect(bs.some((t) => t.tpu!.device === 'tpu-a')).toBe(true);
    expect(bs.some((t) => t.tpu!.device === 'tpu-b')).toBe(true);
    expect(bs.filter((t) => t.arrivalMs > event.atMs).every((t) => t.tpu!.device === 'tpu-b')).toBe(true);
    expect(done.filter((t) => t.tenant === 'a').every((t) => t.tpu!.device === 'tpu-a')).toBe(true);
    for (const id of ['tpu-a', 'tpu-b']) {
      const calls = done.filter((t) => t.tpu!.device === id).sort((x, y) => x.tpu!.startMs - y.tpu!.startMs);
      for (let i = 1; i < calls.length; i++) {
        expect(calls[i]!.tpu!.startMs).toBeGreaterThanOrEqual(calls[i - 1]!.tpu!.deviceEndMs - 1e-6);
      }
    }
    const stats = r.stats();
    expect(stats.devices.map((d) => d.tenants)).toEqual([['a'], ['b']]);
    expect(stats.devices[0]!.calls + stats.devices[1]!.calls).toBe(120);
    expect(stats.tenants.b!.failed).toBe(0);
  });
});
