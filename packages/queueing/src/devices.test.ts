import type { CpuStage, SystemSetup, TenantSetup, TpuStage } from '@swapless/contracts';
import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { deviceGroups, deviceUtilizations } from './devices.js';
import { defaultModel } from './model.js';
import { predictQuantiles, responseDistributions } from './percentiles.js';
import { SystemErrorReasons } from './validate.js';

const tpu = (token: string, serviceMs: number, reloadMs: number): TpuStage => ({
  token,
  serviceMs,
  serviceVarianceMs2: 0.5,
  reloadMs,
  source: 'emulated',
});
const cpu = (samplesMs: number[]): CpuStage => ({ mode: 'mg1', samplesMs, source: 'measured' });
const split = (name: string, rate: number, t: TpuStage, device?: string): TenantSetup => ({
  name,
  rate,
  k: 5,
  n: 10,
  cores: 1,
  tpu: t,
  cpu: cpu([3, 4, 6, 9]),
  ...(device !== undefined ? { device } : {}),
});

const four = (devices: (string | undefined)[]): TenantSetup[] => [
  split('a', 40, tpu('a', 4, 3), devices[0]),
  split('b', 30, tpu('b', 5, 4), devices[1]),
  split('c', 20, tpu('c', 6, 2), devices[2]),
  split('d', 10, tpu('d', 3, 5), devices[3]),
];

describe('several Edge TPUs: one queue per device', () => {
  it('a single-device system predicts exactly what it predicted without a device list', () => {
    const plain: SystemSetup = { tenants: four([]), cores: 4 };
    const listed: SystemSetup = {
      tenants: four(['usb:0', 'usb:0', undefined, 'usb:0']),
      cores: 4,
      devices: [{ id: 'usb:0', profile: 'usb3' }],
    };
    const a = defaultModel.predict(plain);
    const b = defaultModel.predict(listed);
    expect(b).toEqual(a);
    expect(a.tenants[0]!.switchProbability).toBeGreaterThan(0);
    expect(responseDistributions(listed).map((d) => d.quantileMs(0.99))).toEqual(
      responseDistributions(plain).map((d) => d.quantileMs(0.99)),
    );
  });

  it('each device is its own M/G/1 queue: tenants of two devices predict as two separate systems', () => {
    const devices = [{ id: 'tpu-a' }, { id: 'tpu-b' }];
    const both = defaultModel.predict({
      tenants: four(['tpu-a', 'tpu-b', 'tpu-a', 'tpu-b']),
      cores: 4,
      devices,
    });
    const onA = defaultModel.predict({ tenants: [four([])[0]!, four([])[2]!], cores: 4 });
    const onB = defaultModel.predict({ tenants: [four([])[1]!, four([])[3]!], cores: 4 });
    expect(both.tenants.map((t) => t.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(both.tenants[0]).toEqual(onA.tenants[0]);
    expect(both.tenants[2]).toEqual(onA.tenants[1]);
    expect(both.tenants[1]).toEqual(onB.tenants[0]);
    expect(both.tenants[3]).toEqual(onB.tenants[1]);
    // Switches only among a device's tenants: a's reload probability is c's share of device A, not of all four.
    expect(both.tenants[0]!.switchProbability).toBeCloseTo(20 / 60, 12);
    const mean = (40 * onA.tenants[0]!.responseMs + 20 * onA.tenants[1]!.responseMs) / 100;
    const meanB = (30 * onB.tenants[0]!.responseMs + 10 * onB.tenants[1]!.responseMs) / 100;
    expect(both.meanResponseMs).toBeCloseTo(mean + meanB, 9);
    // Two devices relieve the one queue: the mean is lower than with all four on one device.
    expect(both.meanResponseMs).toBeLessThan(
      defaultModel.predict({ tenants: four([]), cores: 4 }).meanResponseMs,
    );
  });

  it('reports the utilisation per device, and percentiles per device', () => {
    const system: SystemSetup = {
      tenants: four(['tpu-b', 'tpu-b', 'tpu-b', 'tpu-b']),
      cores: 4,
      devices: [
        { id: 'tpu-a', profile: 'pcie' },
        { id: 'tpu-b', profile: 'pcie' },
      ],
    };
    const p = defaultModel.predict(system);
    const u = deviceUtilizations(system, p);
    expect(u.map((d) => [d.id, d.tenants.length])).toEqual([
      ['tpu-a', 0],
      ['tpu-b', 4],
    ]);
    expect(u[0]!.tpuUtilization).toBe(0);
    expect(u[1]!.tpuUtilization).toBeCloseTo(p.tenants[0]!.tpuUtilization, 12);
    // All four on the second device: exactly the one-device answer.
    expect(p.meanResponseMs).toBeCloseTo(
      defaultModel.predict({ tenants: four([]), cores: 4 }).meanResponseMs,
      9,
    );
    const q = predictQuantiles(system, [0.99]);
    expect(q.map((x) => x.quantilesMs[0])).toEqual(
      predictQuantiles({ tenants: four([]), cores: 4 }, [0.99]).map((x) => x.quantilesMs[0]),
    );
    expect(deviceGroups(system).map((g) => g.id)).toEqual(['tpu-b']);
  });

  it('a tenant naming an unknown device, or duplicate device ids, is a typed error', () => {
    const unknown = (): unknown =>
      defaultModel.predict({ tenants: four(['tpu-a', 'tpu-z']), cores: 4, devices: [{ id: 'tpu-a' }] });
    expect(unknown).toThrow(InvalidArgumentError);
    try {
      unknown();
    } catch (err) {
      const e = err as InvalidArgumentError;
      expect(e.code).toBe(ErrorCodes.INVALID_ARGUMENT);
      expect(e.details?.reason).toBe(SystemErrorReasons.UNKNOWN_DEVICE);
      expect(e.message).toMatch(/Expected one of the devices "tpu-a".*tpu-z/);
    }
    const duplicate = (): unknown =>
      responseDistributions({ tenants: four([]), cores: 4, devices: [{ id: 'x' }, { id: 'x' }] });
    expect(duplicate).toThrow(InvalidArgumentError);
    try {
      duplicate();
    } catch (err) {
      expect((err as InvalidArgumentError).details?.reason).toBe(SystemErrorReasons.DUPLICATE_DEVICE);
    }
    // Without a device list, naming a device is an error too (there is nothing to find it in).
    expect(() => defaultModel.predict({ tenants: four(['usb:0']), cores: 4 })).toThrow(InvalidArgumentError);
  });
});
