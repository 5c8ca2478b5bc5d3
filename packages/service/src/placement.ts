/**
 * Which Edge TPU each tenant's head runs on, when a host has several (`ServiceOptions.devices`). The controller's
 * decisions may carry a `device` per tenant; a tenant the operator placed (`TenantSpec.device`,
 * {@link Service.moveTenant}) stays where it was placed whatever the decision says; a decision without one puts
 * the tenant on the first device (the contracts' meaning of an absent `device`).
 */
import type {
  DeviceSetup,
  NamedChoice,
  SystemSetup,
  TenantChoice,
  TenantChoiceInput,
} from '@swapless/contracts';
import { expected, InvalidArgumentError } from '@swapless/core';
import type { DeviceStats, RuntimeDeviceOptions } from '@swapless/runtime';
import { BUILTIN_PROFILE_NAMES, getProfile } from '@swapless/tpu-emulator';
import type { DeviceUse, SeriesSample } from './types.js';

/** The device profiles a device of `ServiceOptions.devices` may name (`usb3`, `usb2`, `pcie`, `devboard`). */
export const DEVICE_PROFILE_NAMES: readonly string[] = BUILTIN_PROFILE_NAMES;

/** What `ServiceOptions.devices` resolves to: the runtime's devices and the setup the controller plans on. */
export interface ResolvedDevices {
  /** For `createRuntime({ devices })`; undefined: one device, as before. */
  runtime: RuntimeDeviceOptions[] | undefined;
  /** Profile name of every device (the device model of its reports); ids filled in once the runtime exists. */
  profiles: (string | undefined)[];
}

/**
 * Checks `ServiceOptions.devices`: a non-empty array of `{ id, profile? }` with unique non-empty ids and known
 * profiles (default: the service's `device` profile). Emulated devices get their profile; real ones (`edgetpu`)
 * open the libedgetpu device named by their id (`usb:0`, `pci:0`, …).
 * @throws InvalidArgumentError (`details.reason` `'duplicate-device'` or `'unknown-profile'`) for a bad list.
 */
export function resolveDevices(devices: unknown, profile: string, real: boolean): ResolvedDevices {
  if (devices === undefined) return { runtime: undefined, profiles: [profile] };
  if (!Array.isArray(devices) || devices.length === 0) {
    throw new InvalidArgumentError(
      expected('a non-empty array of { id, profile? }', 'the service devices', devices),
    );
  }
  const seen = new Set<string>();
  const runtime: RuntimeDeviceOptions[] = [];
  const profiles: string[] = [];
  devices.forEach((d: Partial<DeviceSetup> | null, i) => {
    const what = `the service devices[${i}]`;
    if (typeof d !== 'object' || d === null || typeof d.id !== 'string' || d.id.length === 0) {
      throw new InvalidArgumentError(expected('an object { id, profile? } with a non-empty id', what, d));
    }
    if (seen.has(d.id)) {
      throw new InvalidArgumentError(expected('a device id used once', `${what}.id`, d.id), {
        details: { reason: 'duplicate-device', id: d.id },
      });
    }
    seen.add(d.id);
    const name = d.profile ?? profile;
    if (!(BUILTIN_PROFILE_NAMES as readonly string[]).includes(name)) {
      throw new InvalidArgumentError(
        expected(`one of the profiles ${BUILTIN_PROFILE_NAMES.join(', ')}`, `${what}.profile`, name),
        { details: { reason: 'unknown-profile', id: d.id } },
      );
    }
    profiles.push(name);
    // A real device's delegate opens the device its id names; an emulated one models its own profile.
    runtime.push(real ? { id: d.id } : { id: d.id, profile: getProfile(name) });
  });
  return { runtime, profiles };
}

/** The operator's placements and the host's devices. */
export class Placement {
  /** The devices, first (where a choice without `device` runs) first. */
  readonly devices: readonly DeviceSetup[];
  readonly #ids: Set<string>;
  readonly #pins = new Map<string, string>();

  constructor(ids: readonly string[], profiles: readonly (string | undefined)[]) {
    this.devices = Object.freeze(
      ids.map((id, i) => Object.freeze(profiles[i] === undefined ? { id } : { id, profile: profiles[i]! })),
    );
    this.#ids = new Set(ids);
  }

  /** More than one device: choices name theirs. */
  get several(): boolean {
    return this.devices.length > 1;
  }

  /**
   * A device id as an operator gives it.
   * @throws InvalidArgumentError (`details.reason` `'unknown-device'`) for an id that is not a device here.
   */
  check(device: unknown, what: string): string {
    if (typeof device !== 'string' || !this.#ids.has(device)) {
      throw new InvalidArgumentError(
        expected(`one of the devices ${[...this.#ids].join(', ')}`, what, device),
        { details: { reason: 'unknown-device', devices: [...this.#ids] } },
      );
    }
    return device;
  }

  /** Places tenant `name` on `device` for good (undefined: the controller decides again). */
  pin(name: string, device: string | undefined): void {
    if (device === undefined) this.#pins.delete(name);
    else this.#pins.set(name, device);
  }

  /** Where the operator placed `name` (undefined: wherever the controller decides). */
  pinned(name: string): string | undefined {
    return this.#pins.get(name);
  }

  forget(name: string): void {
    this.#pins.delete(name);
  }

  /** A choice with its device as the runtime should apply it (the operator's placement wins). */
  place<T extends TenantChoiceInput & { name: string }>(choice: T): T {
    const device = this.#pins.get(choice.name) ?? choice.device;
    if (device === choice.device) return choice;
    return { ...choice, device };
  }

  /** Every choice of a decision placed (see {@link Placement.place}). */
  placeAll<T extends TenantChoiceInput & { name: string }>(tenants: readonly T[]): T[] {
    return tenants.map((t) => this.place(t));
  }

  /** The device a runtime choice runs on (its `device`, or the first device). */
  deviceOf(choice: Pick<TenantChoice, 'device'>): string {
    return choice.device ?? this.devices[0]!.id;
  }

  /** Two choices are the same configuration, device included (an absent device is the first). */
  same(a: TenantChoice, b: TenantChoiceInput): boolean {
    return (
      a.k === b.k &&
      a.cores === b.cores &&
      a.mode === (b.mode ?? 'mg1') &&
      this.deviceOf(a) === this.deviceOf(b)
    );
  }

  /** A decision record's choice: `device` only with several devices (one device reads as before). */
  recorded(c: NamedChoice): NamedChoice {
    const base = { name: c.name, k: c.k, cores: c.cores, mode: c.mode };
    return this.several ? { ...base, device: this.deviceOf(c) } : base;
  }
}

/**
 * A policy's context with the host's devices (`SystemSetup.devices`) when it has several: a policy that places
 * tenants reads them; one that does not ignores them (and its decisions keep every tenant on the first device).
 */
export function planContext<C extends object>(ctx: C, placement: Placement): C & { devices?: DeviceSetup[] } {
  return placement.several ? { ...ctx, devices: placement.devices.map((d) => ({ ...d })) } : ctx;
}

/** The runtime's devices as the service's device view shows them. */
export function deviceUses(devices: readonly DeviceStats[]): DeviceUse[] {
  return devices.map((d) => ({
    id: d.id,
    profile: d.profile,
    holder: d.holder?.tenant ?? null,
    tenants: [...d.tenants],
    queued: d.queued,
    calls: d.calls,
    reloads: d.reloads,
    busyMs: d.busyMs,
  }));
}

/** Per-device figures of one tick window, from the runtime's counters at its start and end. */
export class DeviceWindows {
  /** Counters at the end of the previous window, by id. */
  readonly #last = new Map<string, { reloads: number; busyMs: number }>();

  /** The window's queue, reloads and busy share per device (`SeriesSample.devices`). */
  take(
    start: readonly DeviceStats[],
    end: readonly DeviceStats[],
    windowMs: number,
  ): SeriesSample['devices'] {
    const out: SeriesSample['devices'] = {};
    const queued = new Map(end.map((d) => [d.id, d.queued]));
    for (const d of start) {
      const last = this.#last.get(d.id) ?? { reloads: 0, busyMs: 0 };
      const busy = d.busyMs - last.busyMs;
      out[d.id] = {
        queued: queued.get(d.id) ?? d.queued,
        reloads: d.reloads - last.reloads,
        busyFraction: Math.min(1, Math.max(0, busy / windowMs)),
      };
      this.#last.set(d.id, { reloads: d.reloads, busyMs: d.busyMs });
    }
    return out;
  }
}

/**
 * A system as the latency model predicts it, with the host's devices (`SystemSetup.devices`) and each tenant's
 * (`TenantSetup.device`) when there are several: a device-aware model puts only the tenants of one device in its
 * queue. One device (or none given): the setup as it is.
 */
export function placedSetup(
  setup: SystemSetup,
  choices: readonly Pick<TenantChoice, 'device'>[],
  devices: readonly DeviceSetup[] | undefined,
): SystemSetup {
  if (devices === undefined || devices.length < 2) return setup;
  return {
    ...setup,
    devices,
    tenants: setup.tenants.map((t, i) => {
      const device = choices[i]?.device;
      return device === undefined ? t : { ...t, device };
    }),
  };
}
