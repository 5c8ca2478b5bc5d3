/**
 * The server config's `devices`: the Edge TPUs of this host, each with its own FIFO queue (docs/server.md,
 * "Several Edge TPUs"). Emulated devices model their `profile`; with the real delegate (`device: { edgetpu }`)
 * each id is the libedgetpu device its delegate opens (`usb:0`, `pci:0`, …). A tenant may name its device.
 */
import { DEVICE_PROFILE_NAMES as BUILTIN_PROFILE_NAMES } from '@swapless/service';

/** One Edge TPU of the host. */
export interface ServerDeviceConfig {
  /** Unique id: `usb:0`, `pci:1`, … for real devices, any name for emulated ones. */
  readonly id: string;
  /** Device profile (`usb3`, `usb2`, `pcie`, `devboard`); default: the `device` profile. */
  readonly profile?: string;
}

/** JSON Schema of `devices` (unique ids and known profiles are checked by {@link devicesConfigProblems}). */
export const DEVICES_CONFIG_SCHEMA = {
  type: ['array', 'null'],
  minItems: 1,
  maxItems: 64,
  default: null,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: {
      id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9:._/-]*$' },
      profile: { type: 'string', minLength: 1 },
    },
  },
} as const;

/**
 * Problems of `devices` and of the tenants' `device`, as `<path>: <what>` lines; empty when fine: a duplicate id,
 * an unknown profile (naming the valid ones), a tenant naming a device the list does not have.
 */
export function devicesConfigProblems(
  devices: readonly ServerDeviceConfig[] | null | undefined,
  tenants: readonly { name: string; device?: string }[],
): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  (devices ?? []).forEach((d, i) => {
    if (ids.has(d.id)) problems.push(`/devices/${i}/id: duplicate device id ${JSON.stringify(d.id)}`);
    ids.add(d.id);
    if (d.profile !== undefined && !(BUILTIN_PROFILE_NAMES as readonly string[]).includes(d.profile)) {
      problems.push(
        `/devices/${i}/profile: unknown device profile ${JSON.stringify(d.profile)} (valid: ${BUILTIN_PROFILE_NAMES.join(', ')})`,
      );
    }
  });
  tenants.forEach((t, i) => {
    if (t.device === undefined || ids.has(t.device)) return;
    const known =
      ids.size === 0 ? 'no devices list: add one under devices' : `devices: ${[...ids].join(', ')}`;
    problems.push(`/tenants/${i}/device: unknown device ${JSON.stringify(t.device)} (${known})`);
  });
  return problems;
}
