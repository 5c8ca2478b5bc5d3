/**
 * Several Edge TPUs on one host. Each device is its own FIFO queue with its own cached caching token, so only the
 * tenants of one device take turns on it (and reload each other's parameters); the CPU stages are per tenant
 * anyway and share only the budget of cores. A system with several devices is therefore predicted as one
 * sub-system per device — the tenants of that device and all the system's cores — and the per-tenant answers are
 * put back in system order. A system with one device is predicted exactly as before: it is passed through
 * unchanged.
 */
import type { Prediction, SystemSetup, TenantPrediction } from '@swapless/contracts';
import { resolvePlacement } from '@swapless/core';
import { objectiveMs } from './model.js';

/** The tenants of one device, as a system of their own. */
export interface DeviceGroup {
  /** The device's id (`''` for the one unnamed device of a system without `devices`). */
  readonly id: string;
  /** The device's profile, when the system says. */
  readonly profile?: string;
  /** Indices of the device's tenants in `system.tenants`, in order. */
  readonly indices: readonly number[];
  /**
   * The sub-system of those tenants (their `device` left out, no `devices`), with all of the system's cores and
   * its queue discipline (every device orders its own queue by it):
   * what a single-device model predicts for that device.
   */
  readonly system: SystemSetup;
}

/**
 * The system split by device, one group per device that has at least one tenant, in device order; a device
 * without tenants has no group. Throws `InvalidArgumentError` (`details.reason` `unknown-device` or
 * `duplicate-device`) when a tenant names a device the system does not list, or two devices share an id.
 */
export function deviceGroups(system: SystemSetup): DeviceGroup[] {
  const placement = resolvePlacement(system.devices, system.tenants);
  const devices = system.devices ?? [];
  return placement.ids.flatMap((id, d): DeviceGroup[] => {
    const indices = placement.deviceOf.flatMap((x, i) => (x === d ? [i] : []));
    if (indices.length === 0) return [];
    const profile = devices[d]?.profile ?? system.device;
    const tenants = indices.map((i) => {
      const { device: _device, ...rest } = system.tenants[i]!;
      return rest;
    });
    return [
      {
        id,
        ...(profile !== undefined ? { profile } : {}),
        indices,
        system: {
          tenants,
          cores: system.cores,
          ...(profile !== undefined ? { device: profile } : {}),
          ...(system.discipline !== undefined ? { discipline: system.discipline } : {}),
        },
      },
    ];
  });
}

/** True when the system lists more than one device (then its tenants may wait on different queues). */
export function isMultiDevice(system: SystemSetup): boolean {
  return (system.devices?.length ?? 0) > 1;
}

/**
 * Runs a per-device computation and puts its per-tenant results back in system order: `perDevice` gets each
 * device's sub-system and returns one result per tenant of it, in order. A system with at most one device is
 * handed over whole and unchanged.
 */
export function mapByDevice<T>(system: SystemSetup, perDevice: (sub: SystemSetup) => readonly T[]): T[] {
  if (!isMultiDevice(system)) {
    resolvePlacement(system.devices, system.tenants);
    return [...perDevice(system)];
  }
  const out: T[] = new Array(system.tenants.length);
  for (const g of deviceGroups(system)) {
    const results = perDevice(g.system);
    g.indices.forEach((i, j) => {
      out[i] = results[j]!;
    });
  }
  return out;
}

/**
 * A prediction of a system with several devices from a single-device predictor: each device's sub-system is
 * predicted on its own (its Edge TPU utilisation, switch probabilities and waits are that device's), and the
 * objective Σλ_iR_i/Λ is taken over all tenants. With one device, `predictOne(system)` as it is.
 */
export function predictByDevice(
  system: SystemSetup,
  model: string,
  predictOne: (sub: SystemSetup) => Prediction,
): Prediction {
  if (!isMultiDevice(system)) {
    resolvePlacement(system.devices, system.tenants);
    return predictOne(system);
  }
  const tenants: TenantPrediction[] = mapByDevice(system, (sub) => predictOne(sub).tenants);
  const stable = tenants.every((t) => t.unstable === undefined && Number.isFinite(t.responseMs));
  return { model, tenants, meanResponseMs: stable ? objectiveMs(system, tenants) : Infinity, stable };
}

/** One device's share of a prediction. */
export interface DeviceUtilization {
  /** The device's id (`''` for the one unnamed device). */
  id: string;
  profile?: string;
  /** Its Edge TPU utilisation (0 when none of its tenants uses the Edge TPU, or it has none). */
  tpuUtilization: number;
  /** Names of the tenants placed on it. */
  tenants: string[];
}

/**
 * Per device of the system (every listed device, also one without tenants): its tenants and its Edge TPU
 * utilisation from `prediction` (any model's, in system order).
 */
export function deviceUtilizations(system: SystemSetup, prediction: Prediction): DeviceUtilization[] {
  const placement = resolvePlacement(system.devices, system.tenants);
  return placement.ids.map((id, d) => {
    const profile = system.devices?.[d]?.profile ?? system.device;
    const members = placement.deviceOf.flatMap((x, i) => (x === d ? [i] : []));
    const onTpu = members.filter((i) => system.tenants[i]!.tpu !== null);
    return {
      id,
      ...(profile !== undefined ? { profile } : {}),
      tpuUtilization: onTpu.length > 0 ? (prediction.tenants[onTpu[0]!]?.tpuUtilization ?? 0) : 0,
      tenants: members.map((i) => system.tenants[i]!.name),
    };
  });
}
