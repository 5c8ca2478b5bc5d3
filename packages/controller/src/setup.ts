/**
 * Turning catalog entries into the `SystemSetup` that latency models predict and the simulator runs:
 * which (cut, cores, CPU mode) choices a tenant has, and the tenant setup of one choice.
 */
import type { SloPercentile, SystemSetup, TenantChoice, TenantSetup } from '@swapless/contracts';
import { expected, InvalidArgumentError, InvalidCutError } from '@swapless/core';
import type { CutCandidate, TenantCatalog } from './catalog.js';
import { catalogOn } from './catalog-devices.js';

/** A tenant as the planner sees it: its catalog, rate and optional objective. */
export interface PlannedTenant {
  name: string;
  rate: number;
  catalog: TenantCatalog;
  sloMs?: number;
  /** The Edge TPU the tenant is placed on (see `SystemSetup.devices`), when its choice does not say. */
  device?: string;
  /** The percentile `sloMs` bounds (default p99). */
  sloPercentile?: SloPercentile;
}

function candidate(catalog: TenantCatalog, k: number): CutCandidate {
  const c = catalog.cuts.find((x) => x.k === k);
  if (c === undefined) {
    throw new InvalidCutError(
      expected(
        `one of the catalogued cut points ${catalog.cuts.map((x) => x.k).join(', ')}`,
        `a cut of ${catalog.model}`,
        k,
      ),
    );
  }
  return c;
}

/**
 * Every choice a tenant has with at most `maxCores` cores: for each catalogued cut, no CPU stage (k = n), or
 * 1..maxCores cores as `mg1` (when that thread count was measured) and as `mgc` (c ≥ 2 single-thread workers).
 */
export function tenantChoices(catalog: TenantCatalog, maxCores: number): TenantChoice[] {
  const out: TenantChoice[] = [];
  for (const cut of catalog.cuts) {
    if (cut.cpu === null) {
      out.push({ k: cut.k, cores: 0, mode: 'mg1' });
      continue;
    }
    for (let c = 1; c <= maxCores; c++) {
      if (cut.cpu.has(c)) out.push({ k: cut.k, cores: c, mode: 'mg1' });
      if (c >= 2 && cut.cpu.has(1)) out.push({ k: cut.k, cores: c, mode: 'mgc' });
    }
  }
  return out;
}

/**
 * The setup of one tenant at one choice, with the Edge TPU stage of the device it is placed on (its catalog there,
 * `catalogOn`: on a host with devices of several profiles the stage times differ per device).
 */
export function tenantSetup(tenant: PlannedTenant, choice: TenantChoice): TenantSetup {
  const device = choice.device ?? tenant.device;
  const catalog = catalogOn(tenant.catalog, device);
  const cut = candidate(catalog, choice.k);
  let cpu: TenantSetup['cpu'] = null;
  if (cut.cpu !== null) {
    if (!Number.isInteger(choice.cores) || choice.cores < 1) {
      throw new InvalidArgumentError(
        expected('at least 1 core', `the CPU stage of ${tenant.name} at k=${choice.k}`, choice.cores),
      );
    }
    const threads = choice.mode === 'mg1' ? choice.cores : 1;
    const samples = cut.cpu.get(threads);
    if (samples === undefined) {
      throw new InvalidArgumentError(
        expected(
          `a measured thread count (${[...cut.cpu.keys()].join(', ')})`,
          `${tenant.name} at k=${choice.k} in ${choice.mode} mode`,
          threads,
        ),
      );
    }
    cpu = { mode: choice.mode, samplesMs: samples, source: tenant.catalog.cpu?.source ?? 'measured' };
  }
  return {
    name: tenant.name,
    // Admission control: only the admitted share of the requests reaches the stages.
    rate: choice.admit === undefined ? tenant.rate : tenant.rate * choice.admit,
    k: choice.k,
    n: tenant.catalog.n,
    cores: cut.cpu === null ? 0 : choice.cores,
    tpu: cut.tpu,
    cpu,
    ...(tenant.sloMs !== undefined ? { sloMs: tenant.sloMs } : {}),
    ...(tenant.sloPercentile !== undefined ? { sloPercentile: tenant.sloPercentile } : {}),
    ...(device !== undefined ? { device } : {}),
  };
}

/** The whole system for one choice per tenant (same order). */
export function systemSetup(
  tenants: readonly PlannedTenant[],
  choices: readonly TenantChoice[],
  cores: number,
  device?: string,
): SystemSetup {
  if (choices.length !== tenants.length) {
    throw new InvalidArgumentError(
      expected(`${tenants.length} choices (one per tenant)`, 'systemSetup', choices.length),
    );
  }
  return {
    tenants: tenants.map((t, i) => tenantSetup(t, choices[i]!)),
    cores,
    ...(device !== undefined ? { device } : {}),
  };
}
