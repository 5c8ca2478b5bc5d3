/**
 * The workload file (DESIGN.md, "Shared contracts"): the device, the CPU cores, the tenants with their models
 * and request rates, optional rate phases, the duration and the seed. Read → validate with ajv (defaults
 * applied) → check what a schema cannot (unique names, phases in order, phase rates naming real tenants) →
 * freeze. Errors and warnings come back together.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { type CpuProfileSpec, resolveCpuProfile, validCpuProfilesSentence } from './cpu-profile.js';
import { InvalidConfigError } from './errors.js';

/** One application sharing the Edge TPU. */
export interface WorkloadTenant {
  /** Unique name (letters, digits, `_`, `-`, `.`). */
  readonly name: string;
  /** A zoo model name (e.g. `mobilenet_v2`) or a path to a .tflite file. */
  readonly model: string;
  /** Mean request rate, requests per second. */
  readonly rate: number;
  /** Optional latency objective, ms: `sloPercentile` of the tenant's responses finish within it. */
  readonly sloMs?: number;
  /** The percentile `sloMs` bounds, `p95` or `p99` (default `p99`); only with `sloMs`. */
  readonly sloPercentile?: 'p95' | 'p99';
}

/** From `atS` seconds on, the listed tenants' rates change (tenants not listed keep theirs). */
export interface WorkloadPhase {
  readonly atS: number;
  readonly rates: Readonly<Record<string, number>>;
}

/** One Edge TPU of a host with several (`devices` of a workload). */
export interface WorkloadDevice {
  /** Unique id, e.g. `usb:0`, `pci:1`, or any name of an emulated device. */
  readonly id: string;
  /** Its device profile (default: the workload's `device`). Every device of a workload has the same one. */
  readonly profile: string;
}

/** A validated, normalised, frozen workload. */
export interface Workload {
  /** Device profile: `usb3` (default), `usb2`, `pcie`, `devboard`, or a custom profile name/file. */
  readonly device: string;
  /**
   * Several Edge TPUs on the host, when the file lists them: the planner places each tenant on one. Absent: one
   * device of profile `device`.
   */
  readonly devices?: readonly WorkloadDevice[];
  /**
   * CPU cores, and the CPU the CPU stages are planned for: `host` (default: measured here), a built-in target
   * (`devboard-a53`, `rpi4-a72`) or a custom profile (docs/cpu-profiles.md).
   */
  readonly cpu: { readonly cores: number; readonly profile: CpuProfileSpec };
  readonly tenants: readonly WorkloadTenant[];
  readonly phases: readonly WorkloadPhase[];
  /** Length of a run, seconds (default 60). */
  readonly durationS: number;
  /** Seed of every random choice (default 1). */
  readonly seed: number;
}

/** JSON Schema (draft-07) of the workload file. */
export const WORKLOAD_JSON_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://swapless.dev/schemas/workload.json',
  title: 'SwapLess workload',
  type: 'object',
  additionalProperties: false,
  required: ['tenants'],
  properties: {
    $schema: { type: 'string' },
    device: { type: 'string', minLength: 1, default: 'usb3' },
    devices: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' },
          profile: { type: 'string', minLength: 1 },
        },
      },
    },
    cpu: {
      type: 'object',
      additionalProperties: false,
      properties: {
        cores: { type: 'integer', minimum: 1, maximum: 1024, default: 2 },
        // Checked by resolveCpuProfile after the schema, so an unknown name gets one message listing the valid ones.
        profile: { anyOf: [{ type: 'string' }, { type: 'object' }], default: 'host' },
      },
      default: {},
    },
    tenants: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'model', 'rate'],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
          model: { type: 'string', minLength: 1 },
          rate: { type: 'number', exclusiveMinimum: 0, maximum: 1e6 },
          sloMs: { type: 'number', exclusiveMinimum: 0 },
          sloPercentile: { enum: ['p95', 'p99'] },
        },
      },
    },
    phases: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['atS', 'rates'],
        properties: {
          atS: { type: 'number', minimum: 0 },
          rates: {
            type: 'object',
            minProperties: 1,
            additionalProperties: { type: 'number', minimum: 0, maximum: 1e6 },
          },
        },
      },
      default: [],
    },
    durationS: { type: 'number', exclusiveMinimum: 0, maximum: 86400, default: 60 },
    seed: { type: 'integer', minimum: 0, maximum: 4294967295, default: 1 },
  },
} as const;

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
const validate = ajv.compile(WORKLOAD_JSON_SCHEMA);

/** Formats ajv errors as "<path>: <message>" lines. */
export function formatAjvErrors(errors: readonly ErrorObject[] | null | undefined, root = ''): string[] {
  return (errors ?? []).map((e) => {
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (unknown property ${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)})`
        : e.keyword === 'enum'
          ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})`
          : '';
    return `${root}${e.instancePath || '/'}: ${e.message ?? 'is invalid'}${extra}`;
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** A parsed workload and what was worth saying about it. */
export interface ParsedWorkload {
  workload: Workload;
  warnings: string[];
}

/**
 * Validates a workload (a parsed JSON value or its text). Throws InvalidConfigError listing every problem
 * with its JSON path; returns the frozen workload with defaults applied and any warnings.
 * @param source where it came from, for messages (a file path).
 */
export function parseWorkload(input: unknown, source = 'workload'): ParsedWorkload {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new InvalidConfigError(
        `Expected JSON for ${source} but it does not parse: ${(err as Error).message}`,
        [`/: ${(err as Error).message}`],
      );
    }
  }
  // Validate a copy: ajv writes defaults into what it checks, and the caller's object stays untouched.
  const copy = value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  if (!validate(copy)) {
    const problems = formatAjvErrors(validate.errors);
    throw new InvalidConfigError(
      `Expected a valid workload for ${source}:\n  ${problems.join('\n  ')}`,
      problems,
    );
  }
  const w = copy as {
    tenants: WorkloadTenant[];
    phases: WorkloadPhase[];
    cpu: { cores: number; profile: CpuProfileSpec };
  } & Workload;
  const problems: string[] = [];
  try {
    resolveCpuProfile(w.cpu.profile, '/cpu/profile');
  } catch (err) {
    problems.push(
      ...(err as InvalidConfigError).problems.map((p) => `${p} (valid: ${validCpuProfilesSentence()})`),
    );
  }
  const warnings: string[] = [];
  const names = new Set<string>();
  w.tenants.forEach((t, i) => {
    if (names.has(t.name))
      problems.push(`/tenants/${i}/name: duplicate tenant name ${JSON.stringify(t.name)}`);
    names.add(t.name);
    if (t.sloPercentile !== undefined && t.sloMs === undefined)
      problems.push(`/tenants/${i}/sloPercentile: needs an sloMs (the latency the percentile is held to)`);
  });
  problems.push(...deviceProblems(w.devices));
  let last = -1;
  w.phases.forEach((p, i) => {
    if (p.atS <= last) problems.push(`/phases/${i}/atS: must be greater than the previous phase's (${last})`);
    last = p.atS;
    for (const name of Object.keys(p.rates)) {
      if (!names.has(name))
        problems.push(`/phases/${i}/rates/${name}: no tenant is named ${JSON.stringify(name)}`);
    }
    if (p.atS >= w.durationS)
      warnings.push(`phase ${i} starts at ${p.atS} s, at or after the end of the run (${w.durationS} s)`);
  });
  if (problems.length > 0) {
    throw new InvalidConfigError(
      `Expected a valid workload for ${source}:\n  ${problems.join('\n  ')}`,
      problems,
    );
  }
  const workload: Workload = {
    device: w.device,
    ...(w.devices !== undefined
      ? { devices: w.devices.map((d) => ({ id: d.id, profile: d.profile ?? w.device })) }
      : {}),
    cpu: { cores: w.cpu.cores, profile: w.cpu.profile },
    tenants: w.tenants.map((t) => ({ ...t })),
    phases: [...w.phases].map((p) => ({ atS: p.atS, rates: { ...p.rates } })),
    durationS: w.durationS,
    seed: w.seed,
  };
  return { workload: deepFreeze(workload), warnings };
}

/**
 * What the schema cannot say of `devices`: unique ids. Profiles may differ (a USB Accelerator and a PCIe card): the
 * planner plans each device with the tenants' catalogs for its profile (docs/controller.md).
 */
function deviceProblems(devices: readonly { id: string }[] | undefined): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  devices?.forEach((d, i) => {
    if (ids.has(d.id)) problems.push(`/devices/${i}/id: duplicate device id ${JSON.stringify(d.id)}`);
    ids.add(d.id);
  });
  return problems;
}

/** The rates in force at time `t` seconds (the tenants' base rates overridden by every phase started by then). */
export function ratesAt(workload: Workload, t: number): Record<string, number> {
  const rates: Record<string, number> = Object.fromEntries(workload.tenants.map((x) => [x.name, x.rate]));
  for (const p of workload.phases) if (p.atS <= t) Object.assign(rates, p.rates);
  return rates;
}
