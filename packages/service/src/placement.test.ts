import { once } from 'node:events';
import type { Decision, DeviceSetup } from '@swapless/contracts';
import type { Policy, PolicyContext } from '@swapless/controller';
import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { buildTestNet } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import type { SeriesSample } from './index.js';
import { input, reference, serviceFactory, usePrivateCache } from './test-support.js';

const A = writeModel(buildTestNet(0));
const B = writeModel(buildTestNet(7));

usePrivateCache();
const service = serviceFactory();
const DEVICES = [{ id: 'tpu-a' }, { id: 'tpu-b', profile: 'pcie' }];

/**
 * A fixed policy that places tenants itself: every tenant at its first cut with a CPU stage, one core, tenant `b`
 * on the device `deviceOfB()` names (read at each decision), the others on no device (the first). It records
 * the devices of the context it was given.
 */
function placingPolicy(
  deviceOfB: () => string | undefined,
  seen: (readonly DeviceSetup[] | undefined)[],
): Policy {
  let ctx: PolicyContext | null = null;
  const decide = (reason: string): Decision => ({
    tenants: ctx!.tenants.map((t) => {
      const k = t.catalog.cuts.find((c) => c.k > 0 && c.cpu !== null)!.k;
      const device = t.name === 'b' ? deviceOfB() : undefined;
      return { name: t.name, k, cores: 1, mode: 'mg1' as const, ...(device !== undefined ? { device } : {}) };
    }),
    predictedMs: Number.NaN,
    reason,
  });
  return {
    name: 'placing',
    initial(c) {
      ctx = c;
      seen.push((c as PolicyContext & { devices?: readonly DeviceSetup[] }).devices);
      return decide('initial');
    },
    onTick: () => decide('tick'),
  };
}

describe('several Edge TPUs', () => {
  it('plans on the devices, applies the decisions’ device, and shows the placement', async () => {
    let target: string | undefined = 'tpu-b';
    const seen: (readonly DeviceSetup[] | undefined)[] = [];
    const s = await service({
      devices: DEVICES,
      policy: () => placingPolicy(() => target, seen),
      tickMs: 50,
    });
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    await s.addTenant({ name: 'b', model: B, source: 'test:b' });
    expect(seen.at(-1)).toEqual([
      { id: 'tpu-a', profile: 'usb3' },
      { id: 'tpu-b', profile: 'pcie' },
    ]);
    expect(s.controller().devices).toEqual([
      { id: 'tpu-a', profile: 'usb3' },
      { id: 'tpu-b', profile: 'pcie' },
    ]);
    expect(s.tenants().map((t) => [t.name, t.device, t.pinned])).toEqual([
      ['a', 'tpu-a', false],
      ['b', 'tpu-b', false],
    ]);
    expect(
      s
        .history()
        .at(-1)!
        .choices.map((c) => c.device),
    ).toEqual(['tpu-a', 'tpu-b']);
    for (const [name, model] of [
      ['a', A],
      ['b', B],
    ] as const) {
      expect((await s.infer(name, [input(1)])).outputs).toEqual(reference(model, input(1)));
    }
    const view = s.device();
    expect(view.devices.map((d) => [d.id, d.profile, d.tenants, d.calls])).toEqual([
      ['tpu-a', 'usb3', ['a'], 1],
      ['tpu-b', 'pcie', ['b'], 1],
    ]);
    expect(view.tenants.map((t) => t.device)).toEqual(['tpu-a', 'tpu-b']);
    expect(s.gauges().tenants.map((t) => t.device)).toEqual(['tpu-a', 'tpu-b']);
    expect(s.gauges().devices.map((d) => d.id)).toEqual(['tpu-a', 'tpu-b']);
    // A decision without a device puts the tenant back on the first device, on the next tick.
    target = undefined;
    let sample: SeriesSample;
    do [sample] = (await once(s, 'tick')) as [SeriesSample];
    while (s.runtime.choice('b').device !== 'tpu-a');
    expect(Object.keys(sample.devices)).toEqual(['tpu-a', 'tpu-b']);
    expect(s.tenant('b')!.device).toBe('tpu-a');
  });

  it('moves a tenant live on request, keeps it there against the policy, and loses no request', async () => {
    const seen: (readonly DeviceSetup[] | undefined)[] = [];
    const s = await service({
      devices: DEVICES,
      policy: () => placingPolicy(() => undefined, seen),
      emulator: { timeScale: 1 },
      tickMs: 50,
    });
    await s.addTenant({ name: 'a', model: A, source: 'test:a' });
    await s.addTenant({ name: 'b', model: B, source: 'test:b', device: 'tpu-b' });
    expect(s.tenant('b')).toMatchObject({ device: 'tpu-b', pinned: true });
    const x = input(2);
    const want = reference(B, x);
    const load = Array.from({ length: 30 }, (_, i) => s.infer(i % 3 === 0 ? 'a' : 'b', [x]));
    const moved = await s.moveTenant('b', 'tpu-a');
    expect(moved).toMatchObject({ device: 'tpu-a', pinned: true });
    const after = Array.from({ length: 20 }, () => s.infer('b', [x]));
    const results = await Promise.all([...load, ...after]);
    expect(results).toHaveLength(50);
    for (const r of results) if (r.trace.tenant === 'b') expect(r.outputs).toEqual(want);
    const devicesOfB = new Set(results.filter((r) => r.trace.tenant === 'b').map((r) => r.trace.tpu!.device));
    expect(devicesOfB).toEqual(new Set(['tpu-a', 'tpu-b']));
    expect(results.slice(30).every((r) => r.trace.tpu!.device === 'tpu-a')).toBe(true);
    // Ticks decide "no device" for b: the operator's placement wins.
    await once(s, 'tick');
    await once(s, 'tick');
    expect(s.runtime.choice('b').device).toBe('tpu-a');
    expect(s.tenant('b')!.failed).toBe(0);
    // Unpinned, the policy places it again (first device here).
    await s.moveTenant('b', null);
    expect(s.tenant('b')!.pinned).toBe(false);
    await expect(s.moveTenant('b', 'tpu-z')).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
      details: { reason: 'unknown-device' },
    });
    await expect(s.moveTenant('zz', 'tpu-a')).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
  });

  it('refuses a bad device list and a tenant on an unknown device, typed', async () => {
    for (const devices of [[], [{ id: 'x' }, { id: 'x' }], [{ id: 'x', profile: 'usb9' }]]) {
      await expect(service({ devices: devices as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(service({ devices: [{ id: 'x', profile: 'usb9' }] })).rejects.toMatchObject({
      details: { reason: 'unknown-profile' },
      message: expect.stringMatching(/usb3, usb2, pcie, devboard/),
    });
    const s = await service({ devices: DEVICES, policy: 'fixed' });
    await expect(s.addTenant({ name: 'a', model: A, source: 't', device: 'tpu-z' })).rejects.toMatchObject({
      details: { reason: 'unknown-device' },
    });
    expect(s.tenantNames()).toEqual([]);
    // A static policy spreads its baseline over the devices (each tenant by rate onto the least loaded one).
    await s.addTenant({ name: 'a', model: A, source: 't' });
    await s.addTenant({ name: 'b', model: B, source: 't' });
    expect(s.tenants().map((t) => t.device)).toEqual(['tpu-a', 'tpu-b']);
  });
});
