import { readFile } from 'node:fs/promises';
import type { DeviceSetup } from '@swapless/contracts';
import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { defaultModel } from '@swapless/queueing';
import { simulate } from '@swapless/sim';
import { generateZooModel } from '@swapless/zoo';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCatalog, type TenantCatalog } from './catalog.js';
import { catalogForProfile, catalogOn, withDeviceCatalogs } from './catalog-devices.js';
import {
  DEVICE_CATALOG_REASON,
  deviceClasses,
  placedSystem,
  placementCandidates,
  searchPlacement,
} from './placement.js';
import { swaplessPolicy } from './policy.js';
import type { PlannedTenant } from './setup.js';

const mixed: DeviceSetup[] = [
  { id: 'usb:0', profile: 'usb3' },
  { id: 'pci:0', profile: 'pcie' },
];

/** A zoo model's bytes and its catalog for usb3 (CPU stages modelled: nothing measured, deterministic). */
async function zooCatalog(name: 'resnet50_v1' | 'mobilenet_v2'): Promise<[Uint8Array, TenantCatalog]> {
  const bytes = new Uint8Array(await readFile((await generateZooModel(name)).path));
  const catalog = await buildCatalog(bytes, {
    name,
    device: 'usb3',
    cpu: 'rpi4-a72',
    threads: [1, 2],
    maxCuts: 5,
  });
  return [bytes, catalog];
}

const wholeMs = (c: TenantCatalog) => c.cuts.find((x) => x.k === c.edgetpuPrefix)!.tpu!.serviceMs;

describe('catalogs per device profile', () => {
  let resnet: [Uint8Array, TenantCatalog];
  beforeAll(async () => {
    resnet = await zooCatalog('resnet50_v1');
  }, 120_000);

  it('re-times only the Edge TPU stages for another profile; the cuts and CPU stages are shared', () => {
    const [bytes, usb] = resnet;
    const pcie = catalogForProfile(bytes, usb, 'pcie');
    expect(pcie.device).toBe('pcie');
    expect(pcie.cuts.map((c) => c.k)).toEqual(usb.cuts.map((c) => c.k));
    pcie.cuts.forEach((c, i) => {
      expect(c.cpu).toBe(usb.cuts[i]!.cpu);
      if (c.k > 0) expect(c.head?.profile.name).toBe('pcie');
    });
    // ResNet-50 streams most of its parameters: the slower PCIe link (350 vs 420 MB/s) costs time on every call.
    expect(wholeMs(pcie)).toBeGreaterThan(wholeMs(usb) * 1.05);
    expect(catalogForProfile(bytes, usb, 'usb3')).toBe(usb);
  });

  it('points each device of another profile to its profile catalog, one per profile', () => {
    const [bytes, usb] = resnet;
    const devices = [...mixed, { id: 'pci:1', profile: 'pcie' }];
    const host = withDeviceCatalogs(bytes, usb, devices);
    expect(catalogOn(host, 'usb:0')).toBe(host);
    expect(catalogOn(host, 'pci:0').device).toBe('pcie');
    expect(catalogOn(host, 'pci:1')).toBe(catalogOn(host, 'pci:0'));
    expect(catalogOn(host, undefined)).toBe(host);
    expect(withDeviceCatalogs(bytes, usb, [{ id: 'a' }, { id: 'b', profile: 'usb3' }])).toBe(usb);
  });

  it('refuses bytes of another model and a compiled catalog with typed errors', async () => {
    const [bytes, usb] = resnet;
    const refused = (run: () => unknown, message: RegExp) => {
      try {
        run();
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidArgumentError);
        expect((err as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
        expect((err as Error).message).toMatch(message);
      }
    };
    const other = new Uint8Array(await readFile((await generateZooModel('mobilenet_v2')).path));
    refused(() => catalogForProfile(other, usb, 'pcie'), /the bytes of model resnet50_v1/);
    refused(() => catalogForProfile(bytes, { ...usb, kind: 'compiled' }, 'pcie'), /compiled/);
  });
});

describe('placement on a host with devices of different profiles', () => {
  let tenants: PlannedTenant[];
  beforeAll(async () => {
    const [rb, rc] = await zooCatalog('resnet50_v1');
    const [mb, mc] = await zooCatalog('mobilenet_v2');
    // The heavier tenant (ResNet-50, most of one device's Edge TPU time) and a light one.
    tenants = [
      { name: 'heavy', rate: (0.55 * 1000) / wholeMs(rc), catalog: withDeviceCatalogs(rb, rc, mixed) },
      { name: 'light', rate: (0.3 * 1000) / wholeMs(mc), catalog: withDeviceCatalogs(mb, mc, mixed) },
    ];
  }, 120_000);

  it('treats only identical devices as interchangeable', () => {
    expect(deviceClasses(tenants, mixed)).toEqual([0, 1]);
    const three = [...mixed, { id: 'pci:1', profile: 'pcie' }];
    const withThird = tenants.map((t) => ({
      ...t,
      catalog: { ...t.catalog, onDevice: { ...t.catalog.onDevice, 'pci:1': t.catalog.onDevice!['pci:0']! } },
    }));
    expect(deviceClasses(withThird, three)).toEqual([0, 1, 1]);
    // 2 tenants: every labelled placement on two different devices (4); with a second pcie device, 5 (both on usb:0, either one on usb:0, both on one pcie device, one each).
    expect(searchPlacement(tenants, 4, mixed, { model: defaultModel }).placements).toBe(4);
    expect(searchPlacement(withThird, 4, three, { model: defaultModel }).placements).toBe(5);
  });

  it('puts the heavier tenant on the faster device and beats all-on-usb3 and the swapped placement', () => {
    const heavyOn = (id: string) => wholeMs(catalogOn(tenants[0]!.catalog, id));
    const fast = heavyOn('usb:0') < heavyOn('pci:0') ? 'usb:0' : 'pci:0';
    const slow = fast === 'usb:0' ? 'pci:0' : 'usb:0';
    const best = searchPlacement(tenants, 4, mixed, { model: defaultModel });
    expect(best.choices.map((c) => c.device)).toEqual([fast, slow]);
    const all = placementCandidates(tenants, 4, mixed, { model: defaultModel });
    const of = (a: string, b: string) =>
      all.find((c) => c.choices[0]!.device === a && c.choices[1]!.device === b)!.predictedMs;
    expect(best.predictedMs).toBeCloseTo(all[0]!.predictedMs, 9);
    expect(best.predictedMs).toBeLessThan(of('usb:0', 'usb:0'));
    expect(best.predictedMs).toBeLessThan(of(slow, fast));
    // The model's prediction of the chosen system uses each device's own stage times.
    const again = defaultModel.predict(placedSystem(tenants, best.choices, 4, mixed));
    expect(again.meanResponseMs).toBeCloseTo(best.predictedMs, 9);
  });

  it('the simulator agrees with the model within a few per cent on the mixed placement', () => {
    const { tenants: choices, predictedMs } = swaplessPolicy().initial({ tenants, cores: 4, devices: mixed });
    const system = placedSystem(tenants, choices, 4, mixed);
    const sim = simulate(system, { requests: 200_000, seed: 3 });
    expect(system.tenants.map((t) => t.device).sort()).toEqual(['pci:0', 'usb:0']);
    expect(Math.abs(sim.meanResponseMs - predictedMs) / predictedMs).toBeLessThan(0.04);
  });

  it('refuses a mixed host when a tenant has no catalog for a device profile', () => {
    const bare = tenants.map((t) => {
      const { onDevice: _, ...catalog } = t.catalog;
      return { ...t, catalog };
    });
    try {
      searchPlacement(bare, 4, mixed, { model: defaultModel });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).details?.reason).toBe(DEVICE_CATALOG_REASON);
      expect((err as Error).message).toMatch(/profile pcie.*pci:0/);
    }
  });
});
