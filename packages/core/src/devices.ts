/**
 * Which Edge TPU each tenant of a system uses. A host may have several devices (`devices: [{ id, profile }]`);
 * a tenant names its device by id, and a tenant that names none uses the first. The queueing model, the
 * simulator and the controller resolve the placement through this one function, so they agree on it and on
 * what is an error.
 */
import { expected } from './describe.js';
import { InvalidArgumentError } from './errors.js';

/** Values of `details.reason` of the errors {@link resolvePlacement} throws. */
export const DeviceErrorReasons = {
  /** A tenant names a device that is not in the system's `devices`. */
  UNKNOWN_DEVICE: 'unknown-device',
  /** Two devices of one system share an id (or an id is empty). */
  DUPLICATE_DEVICE: 'duplicate-device',
} as const;

/** A placement resolved: the device ids in order, and the index of each tenant's device. */
export interface ResolvedPlacement {
  /** Device ids in the system's order; `['']` for a system without a `devices` list (its one device). */
  readonly ids: readonly string[];
  /** Per tenant (system order), the index of its device in {@link ids}. */
  readonly deviceOf: readonly number[];
}

/**
 * Resolves every tenant's device. `devices` absent or empty: one unnamed device, and a tenant naming a device is
 * an error (there is no list to find it in). Throws `InvalidArgumentError` (`SWAPLESS_INVALID_ARGUMENT`,
 * `details.reason` from {@link DeviceErrorReasons}) for a duplicate or empty device id and for a tenant naming an
 * unknown device.
 * @param where names the system in messages.
 */
export function resolvePlacement(
  devices: readonly { readonly id: string }[] | undefined,
  tenants: readonly { readonly name: string; readonly device?: string | undefined }[],
  where = 'system',
): ResolvedPlacement {
  const list = devices ?? [];
  const ids: string[] = [];
  const index = new Map<string, number>();
  list.forEach((d, i) => {
    const id = (d as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || id.length === 0 || index.has(id)) {
      throw new InvalidArgumentError(
        expected('a unique, non-empty device id', `${where}.devices[${i}].id`, id),
        { details: { reason: DeviceErrorReasons.DUPLICATE_DEVICE, device: id } },
      );
    }
    index.set(id, i);
    ids.push(id);
  });
  const deviceOf = tenants.map((t, i) => {
    if (t.device === undefined) return 0;
    const d = index.get(t.device);
    if (d === undefined) {
      throw new InvalidArgumentError(
        expected(
          ids.length > 0
            ? `one of the devices ${ids.map((x) => JSON.stringify(x)).join(', ')}`
            : 'no device (the system lists no devices)',
          `${where}.tenants[${i}].device (tenant ${JSON.stringify(t.name)})`,
          t.device,
        ),
        { details: { reason: DeviceErrorReasons.UNKNOWN_DEVICE, device: t.device, tenant: t.name } },
      );
    }
    return d;
  });
  return { ids: ids.length > 0 ? ids : [''], deviceOf };
}
