/**
 * A tenant's catalog on a host whose Edge TPUs have different profiles (a USB Accelerator and a PCIe card): the
 * Edge TPU stage of a cut — call time, reload after a token switch, streaming — depends on the device's profile,
 * while the cuts and the CPU stages do not. So a catalog built for one profile is re-timed for every other profile
 * of the host (the variant store's compile reports, per profile; nothing is profiled again), and each device id
 * of another profile points to its profile's catalog (`TenantCatalog.onDevice`). Every consumer then reads the
 * catalog of the device a tenant is placed on through {@link catalogOn}.
 */
import type { VariantStore } from '@swapless/compiler';
import type { DeviceSetup } from '@swapless/contracts';
import { expected, InvalidArgumentError } from '@swapless/core';
import { type DeviceProfile, getProfile, resolveProfile } from '@swapless/tpu-emulator';
import { type CutCandidate, type TenantCatalog, tpuStage, variantStoreOf } from './catalog.js';

/**
 * The catalog a tenant plans with on device `device` (an id of the host's `devices`): the device's own when the
 * catalog has one for it (`onDevice`), else the catalog itself (a device of the catalog's profile, or none named).
 */
export function catalogOn(catalog: TenantCatalog, device: string | undefined): TenantCatalog {
  return device === undefined ? catalog : (catalog.onDevice?.[device] ?? catalog);
}

/** Options of {@link catalogForProfile} and {@link withDeviceCatalogs}. */
export interface DeviceCatalogOptions {
  /** Where the heads are split and compile-reported (default: `defaultVariantStore()` of @swapless/compiler). */
  variants?: VariantStore;
}

/**
 * `catalog` (built by `buildCatalog` from `model`) with the Edge TPU stages of profile `device`: the same cuts,
 * CPU stages and learned delays, each head's call, reload and caching token from `device`'s compile report.
 * A `cpu-only` catalog has no Edge TPU stage and is returned as it is.
 * @throws InvalidArgumentError for a compiled catalog (its stage is measured on a real device, not modelled) or
 *   bytes of another model; `InvalidConfigError` (from the emulator) for an unknown profile.
 */
export function catalogForProfile(
  model: Uint8Array,
  catalog: TenantCatalog,
  device: string | DeviceProfile,
  options: DeviceCatalogOptions = {},
): TenantCatalog {
  const profile = typeof device === 'object' ? resolveProfile(device) : getProfile(device);
  if (profile.name === catalog.device || catalog.kind === 'cpu-only') return catalog;
  if (catalog.kind === 'compiled') {
    throw new InvalidArgumentError(
      expected(
        'a modelled (split) catalog: a compiled model is timed on its real device',
        `the catalog of ${catalog.model} on profile ${profile.name}`,
        'a compiled catalog',
      ),
    );
  }
  const store = variantStoreOf(options.variants);
  const stored = store.model(model);
  if (stored.sha256 !== catalog.sha256) {
    throw new InvalidArgumentError(
      expected(
        `the bytes of model ${catalog.model}`,
        'catalogForProfile',
        `sha256 ${stored.sha256.slice(0, 12)}`,
      ),
    );
  }
  const cuts = catalog.cuts.map((c): CutCandidate => {
    if (c.k === 0) return c;
    const report = store.report(stored, c.k, profile)!;
    return { ...c, tpu: tpuStage(store, stored, c.k, profile), head: { report, profile } };
  });
  const { onDevice: _, ...own } = catalog;
  return { ...own, device: profile.name, cuts };
}

/**
 * `catalog` (for profile `catalog.device`) planned on every device of `devices`: each device whose profile differs
 * (its `profile`, else `hostProfile`) gets the catalog of its profile ({@link catalogForProfile}, one per profile,
 * shared by its devices) under `onDevice`. The catalog itself when every device has the catalog's profile, and for
 * `cpu-only` and `compiled` catalogs (nothing modelled differs per device).
 */
export function withDeviceCatalogs(
  model: Uint8Array,
  catalog: TenantCatalog,
  devices: readonly DeviceSetup[] | null | undefined,
  hostProfile: string = catalog.device,
  options: DeviceCatalogOptions = {},
): TenantCatalog {
  if (catalog.kind !== 'partitioned' || devices == null) return catalog;
  const byProfile = new Map<string, TenantCatalog>();
  const onDevice: Record<string, TenantCatalog> = {};
  for (const d of devices) {
    const profile = d.profile ?? hostProfile;
    if (profile === catalog.device) continue;
    let other = byProfile.get(profile);
    if (other === undefined) {
      other = catalogForProfile(model, catalog, profile, options);
      byProfile.set(profile, other);
    }
    onDevice[d.id] = other;
  }
  return Object.keys(onDevice).length === 0 ? catalog : { ...catalog, onDevice };
}
