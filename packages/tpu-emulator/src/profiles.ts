/**
 * Device profiles: the built-in ones (usb3, usb2, pcie, devboard), the JSON Schema of custom profiles, and
 * their validation. Every constant's source or derivation is in docs/tpu-emulator.md (calibration table);
 * nothing here is fitted per model.
 */
import { describeValue, expected, InvalidArgumentError } from '@swapless/core';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { BuiltinProfileName, DeviceProfile, ProfileInput } from './types.js';

/**
 * Values in `details.reason` of the {@link InvalidArgumentError}s (`SWAPLESS_INVALID_ARGUMENT`) this module
 * throws, so callers can tell the failures apart without parsing messages.
 */
export const ProfileErrorReasons = {
  /** A profile name that is not built in. */
  UNKNOWN_PROFILE: 'unknown-profile',
  /** Text that is not JSON. */
  MALFORMED_JSON: 'malformed-profile-json',
  /** JSON that does not satisfy {@link PROFILE_JSON_SCHEMA} (the ajv errors are in `details.errors`). */
  INVALID_PROFILE: 'invalid-profile',
} as const;

/**
 * Shared by all built-in profiles: the Edge TPU chip itself (clock, array, SRAM, efficiencies) does not change
 * with the host link. Only link, overhead and description differ between profiles.
 */
const CHIP = {
  clockMHz: 500,
  macsPerCycle: 4096,
  arrayEfficiency: {
    CONV_2D: 0.45,
    DEPTHWISE_CONV_2D: 0.015,
    FULLY_CONNECTED: 0.015625,
    TRANSPOSE_CONV: 0.3,
    UNIDIRECTIONAL_SEQUENCE_LSTM: 0.015625,
  },
  vectorElementsPerCycle: 64,
  activationBytesPerCycle: 32,
  opOverheadCycles: 500,
  tiledArrayTypes: ['CONV_2D'],
  arrayTileOverheadCycles: 112,
  zeroCopyTypes: ['CONCATENATION', 'RESHAPE', 'SQUEEZE'],
  fusedOutputTypes: ['MAX_POOL_2D', 'AVERAGE_POOL_2D'],
  outputCostFactor: 4,
  streamOverlap: 0.75,
  sramMiB: 8,
  fixedReserveMiB: 0.125,
  activationReserveFactor: 0.5,
  maxActivationReserveMiB: 6.5,
  jitterCv: 0,
} as const;

/** The built-in profiles, frozen. */
export const BUILTIN_PROFILES: Readonly<Record<BuiltinProfileName, DeviceProfile>> = deepFreeze({
  usb3: {
    name: 'usb3',
    description: 'x86-64 desktop host + Coral USB Accelerator on USB 3.0, max-frequency runtime',
    ...CHIP,
    linkMBps: 420,
    callOverheadMs: 0.3,
  },
  usb2: {
    name: 'usb2',
    description: 'Coral USB Accelerator on a USB 2.0 port, max-frequency runtime',
    ...CHIP,
    linkMBps: 32,
    callOverheadMs: 0.3,
  },
  pcie: {
    name: 'pcie',
    description: 'x86-64 host + Coral M.2 / Mini PCIe Accelerator (PCIe Gen2 x1)',
    ...CHIP,
    linkMBps: 350,
    callOverheadMs: 0.3,
  },
  devboard: {
    name: 'devboard',
    description: 'Coral Dev Board: NXP i.MX 8M (quad Cortex-A53) host, Edge TPU on PCIe Gen2 x1',
    ...CHIP,
    linkMBps: 350,
    callOverheadMs: 0.3,
  },
});

/** Names of the built-in profiles, in documentation order. */
export const BUILTIN_PROFILE_NAMES: readonly BuiltinProfileName[] = Object.freeze([
  'usb3',
  'usb2',
  'pcie',
  'devboard',
]);

const nonNegative = { type: 'number', minimum: 0 } as const;
const fraction = { type: 'number', exclusiveMinimum: 0, maximum: 1 } as const;
/** A list of builtin op type names (`CONV_2D`, …); empty turns the rule off. */
const opTypes = {
  type: 'array',
  maxItems: 64,
  uniqueItems: true,
  items: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
} as const;

/**
 * Property schemas of a profile. Ranges are physical sanity bounds (a clock of 5 GHz or a 100 GB/s USB link
 * is a typo, not a device), not calibration targets.
 */
const PROFILE_PROPERTIES = {
  name: { type: 'string', minLength: 1, maxLength: 64 },
  description: { type: 'string', maxLength: 200 },
  extends: { enum: ['usb3', 'usb2', 'pcie', 'devboard'] },
  clockMHz: { type: 'number', exclusiveMinimum: 0, maximum: 2000 },
  macsPerCycle: { type: 'integer', minimum: 1, maximum: 65536 },
  arrayEfficiency: {
    type: 'object',
    minProperties: 1,
    propertyNames: { pattern: '^[A-Z][A-Z0-9_]*$' },
    additionalProperties: fraction,
  },
  vectorElementsPerCycle: { type: 'number', exclusiveMinimum: 0, maximum: 65536 },
  activationBytesPerCycle: { type: 'number', exclusiveMinimum: 0, maximum: 65536 },
  opOverheadCycles: { type: 'number', minimum: 0, maximum: 1e7 },
  tiledArrayTypes: opTypes,
  arrayTileOverheadCycles: { type: 'number', minimum: 0, maximum: 1e6 },
  zeroCopyTypes: opTypes,
  fusedOutputTypes: opTypes,
  linkMBps: { type: 'number', exclusiveMinimum: 0, maximum: 100000 },
  callOverheadMs: { type: 'number', minimum: 0, maximum: 1000 },
  outputCostFactor: { type: 'number', minimum: 1, maximum: 100 },
  streamOverlap: { type: 'number', minimum: 0, maximum: 1 },
  sramMiB: { type: 'number', exclusiveMinimum: 0, maximum: 1024 },
  fixedReserveMiB: nonNegative,
  activationReserveFactor: { type: 'number', minimum: 0, maximum: 4 },
  maxActivationReserveMiB: nonNegative,
  jitterCv: { type: 'number', minimum: 0, maximum: 1 },
} as const;

const ALL_FIELDS = [
  'name',
  'description',
  'clockMHz',
  'macsPerCycle',
  'arrayEfficiency',
  'vectorElementsPerCycle',
  'activationBytesPerCycle',
  'opOverheadCycles',
  'linkMBps',
  'callOverheadMs',
  'outputCostFactor',
  'streamOverlap',
  'sramMiB',
  'fixedReserveMiB',
  'activationReserveFactor',
  'maxActivationReserveMiB',
  'jitterCv',
] as const;

/**
 * JSON Schema (draft-07) of a custom profile document: either every field of {@link DeviceProfile}, or
 * `name` + `extends` (a built-in profile) + any fields to override. Unknown fields are rejected (a typo in
 * a constant's name must not silently keep the default).
 */
export const PROFILE_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://swapless.dev/schemas/tpu-profile-1.json',
  title: 'SwapLess Edge TPU device profile',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: PROFILE_PROPERTIES,
  // Without `extends`, the document must be a complete profile (`description` stays optional).
  if: { required: ['extends'] },
  else: { required: ALL_FIELDS.filter((f) => f !== 'description') },
} as const;

let validator: ValidateFunction | undefined;

/** Profile objects this module produced (weak: profiles are not kept alive by it). */
const validated = new WeakSet<object>();

function validate(): ValidateFunction {
  // Compiled lazily: most processes only use built-in profiles. strictRequired is off because the `if`/`else`
  // branches name required fields that are declared once, in the top-level `properties`.
  validator ??= new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(
    PROFILE_JSON_SCHEMA,
  );
  return validator;
}

function formatErrors(errors: readonly ErrorObject[]): string {
  return errors
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * The built-in profile of that name.
 * @throws InvalidArgumentError (`SWAPLESS_INVALID_ARGUMENT`, `details.reason` = `unknown-profile`).
 */
export function getProfile(name: string): DeviceProfile {
  if (typeof name === 'string' && Object.hasOwn(BUILTIN_PROFILES, name)) {
    return BUILTIN_PROFILES[name as BuiltinProfileName];
  }
  throw new InvalidArgumentError(
    expected(`one of ${BUILTIN_PROFILE_NAMES.join(', ')}`, 'the Edge TPU profile name', name),
    { details: { reason: ProfileErrorReasons.UNKNOWN_PROFILE, name: describeValue(name) } },
  );
}

/**
 * Validates a parsed custom profile (an object) against {@link PROFILE_JSON_SCHEMA}, applies `extends`, and
 * returns a frozen {@link DeviceProfile}. The `extends` field itself is not kept.
 * @throws InvalidArgumentError (`SWAPLESS_INVALID_ARGUMENT`, `details.reason` = `invalid-profile`, the ajv
 *   errors in `details.errors`).
 */
export function parseProfile(value: unknown): DeviceProfile {
  const check = validate();
  if (!check(value)) {
    const errors = check.errors ?? [];
    throw new InvalidArgumentError(
      expected('a device profile matching the profile schema', 'an Edge TPU profile', value) +
        ` (${formatErrors(errors)})`,
      {
        details: {
          reason: ProfileErrorReasons.INVALID_PROFILE,
          errors: errors.map((e) => ({ path: e.instancePath, keyword: e.keyword, message: e.message })),
        },
      },
    );
  }
  const { extends: base, ...fields } = value as Partial<DeviceProfile> & { extends?: BuiltinProfileName };
  const merged: DeviceProfile =
    base === undefined
      ? ({ description: '', ...fields } as DeviceProfile)
      : {
          ...BUILTIN_PROFILES[base],
          description: `custom profile based on ${base}`,
          ...fields,
          // Overriding some efficiencies keeps the others of the base profile.
          arrayEfficiency: { ...BUILTIN_PROFILES[base].arrayEfficiency, ...fields.arrayEfficiency },
        };
  const frozen = deepFreeze(structuredClone(merged));
  validated.add(frozen);
  return frozen;
}

/**
 * Parses and validates a custom profile from JSON text.
 * @throws InvalidArgumentError (`SWAPLESS_INVALID_ARGUMENT`) with `details.reason` = `malformed-profile-json`
 *   when the text is not JSON, or `invalid-profile` when it does not match the schema.
 */
export function parseProfileJson(text: string): DeviceProfile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new InvalidArgumentError(expected('JSON text', 'an Edge TPU profile', text), {
      cause,
      details: { reason: ProfileErrorReasons.MALFORMED_JSON },
    });
  }
  return parseProfile(value);
}

/**
 * A built-in profile by name, or a profile object passed through (re-validated unless it is one of the
 * built-in objects, so a hand-built object cannot bypass the schema).
 */
export function resolveProfile(profile: ProfileInput): DeviceProfile {
  if (typeof profile === 'string') return getProfile(profile);
  for (const name of BUILTIN_PROFILE_NAMES) if (BUILTIN_PROFILES[name] === profile) return profile;
  if (typeof profile !== 'object' || profile === null) {
    throw new InvalidArgumentError(
      expected('a profile name or a profile object', 'the Edge TPU profile', profile),
      {
        details: { reason: ProfileErrorReasons.UNKNOWN_PROFILE },
      },
    );
  }
  if (validated.has(profile)) return profile;
  return parseProfile(profile);
}
