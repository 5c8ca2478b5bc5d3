/**
 * Validation of a {@link SystemSetup} before any model looks at it. Models are pure arithmetic over these
 * numbers, so a NaN or a negative rate that slipped through would come out as a plausible-looking latency;
 * every problem is reported instead, each in the house form "Expected X for Y but received Z".
 */

import type { SystemSetup } from '@swapless/contracts';
import {
  DeviceErrorReasons,
  disciplineProblem,
  expected,
  InvalidArgumentError,
  resolvePlacement,
} from '@swapless/core';

/**
 * Values of `details.reason` on the {@link InvalidArgumentError}s (`SWAPLESS_INVALID_ARGUMENT`) this package
 * throws for malformed systems, so callers can tell them apart without parsing messages.
 */
export const SystemErrorReasons = {
  /** A field with the wrong type or out of range (`details.problems` lists every one). */
  INVALID_SYSTEM: 'invalid-system',
  /** The tenants' CPU cores add up to more than the system has. */
  CORES_EXCEEDED: 'cores-exceeded',
  /** A tenant names a device the system's `devices` does not list. */
  UNKNOWN_DEVICE: DeviceErrorReasons.UNKNOWN_DEVICE,
  /** Two of the system's `devices` share an id. */
  DUPLICATE_DEVICE: DeviceErrorReasons.DUPLICATE_DEVICE,
} as const;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNonNegative = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isNonNegativeInteger = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const SOURCES = ['emulated', 'measured'];
const MODES = ['mg1', 'mgc'];

/**
 * Checks every field of a system setup a latency model relies on, and throws one
 * {@link InvalidArgumentError} (`SWAPLESS_INVALID_ARGUMENT`, `details.reason` from {@link SystemErrorReasons},
 * `details.problems` = every problem found) when anything is wrong. Returns the same object typed.
 *
 * Rules beyond types: at least one tenant; unique names; rates finite ≥ 0; 0 ≤ k ≤ n, n ≥ 1; `tpu` is null
 * exactly when k = 0 and `cpu` exactly when k = n; cores are integers ≥ 0 and add up to at most `system.cores`;
 * CPU samples non-empty, finite, ≥ 0. A CPU stage with 0 cores is **not** an error: it is a legitimate
 * candidate an optimiser may enumerate, and the models report it as unstable (infinite cost).
 * @param where names the argument in messages (default `system`).
 */
export function validateSystem(system: unknown, where = 'system'): SystemSetup {
  const problems: string[] = [];
  if (!isObject(system)) {
    throw new InvalidArgumentError(expected('a SystemSetup object', where, system), {
      details: { reason: SystemErrorReasons.INVALID_SYSTEM, problems: [where] },
    });
  }
  if (!isNonNegativeInteger(system.cores))
    problems.push(expected('an integer ≥ 0', `${where}.cores`, system.cores));
  if (system.device !== undefined && typeof system.device !== 'string')
    problems.push(expected('a string or undefined', `${where}.device`, system.device));
  const tenants = system.tenants;
  if (!Array.isArray(tenants) || tenants.length === 0) {
    problems.push(expected('a non-empty array of tenants', `${where}.tenants`, tenants));
  } else {
    const names = new Set<string>();
    tenants.forEach((t: unknown, i) => {
      checkTenant(t, `${where}.tenants[${i}]`, names, problems);
    });
  }
  if (system.devices !== undefined && !Array.isArray(system.devices))
    problems.push(expected('an array of { id, profile } or undefined', `${where}.devices`, system.devices));
  const discipline = disciplineProblem(system.discipline, `${where}.discipline`);
  if (discipline !== null) problems.push(discipline);
  if (problems.length > 0) throwProblems(where, problems, SystemErrorReasons.INVALID_SYSTEM);

  const setup = system as unknown as SystemSetup;
  // Unknown or duplicate devices: a typed error of its own (details.reason unknown-device / duplicate-device).
  resolvePlacement(setup.devices, setup.tenants, where);
  const used = setup.tenants.reduce((sum, t) => sum + t.cores, 0);
  if (used > setup.cores) {
    throw new InvalidArgumentError(
      expected(
        `at most ${setup.cores} CPU cores in total (${where}.cores)`,
        `${where}.tenants[].cores`,
        used,
      ),
      { details: { reason: SystemErrorReasons.CORES_EXCEEDED, used, available: setup.cores } },
    );
  }
  return setup;
}

function checkTenant(t: unknown, at: string, names: Set<string>, problems: string[]): void {
  if (!isObject(t)) {
    problems.push(expected('a tenant object', at, t));
    return;
  }
  if (typeof t.name !== 'string' || t.name.length === 0)
    problems.push(expected('a non-empty string', `${at}.name`, t.name));
  else if (names.has(t.name)) problems.push(expected('a unique tenant name', `${at}.name`, t.name));
  else names.add(t.name);
  if (!isFiniteNonNegative(t.rate))
    problems.push(expected('a finite rate ≥ 0 (requests/s)', `${at}.rate`, t.rate));
  const nOk = Number.isInteger(t.n) && (t.n as number) >= 1;
  if (!nOk) problems.push(expected('an integer ≥ 1 (ops of the model)', `${at}.n`, t.n));
  const kOk = isNonNegativeInteger(t.k) && (!nOk || (t.k as number) <= (t.n as number));
  if (!kOk) problems.push(expected(`an integer cut between 0 and n`, `${at}.k`, t.k));
  if (!isNonNegativeInteger(t.cores)) problems.push(expected('an integer ≥ 0', `${at}.cores`, t.cores));
  if (t.device !== undefined && typeof t.device !== 'string')
    problems.push(expected('a device id (string) or undefined', `${at}.device`, t.device));
  if (t.sloMs !== undefined && !(isFiniteNonNegative(t.sloMs) && t.sloMs > 0))
    problems.push(expected('a finite number > 0 or undefined', `${at}.sloMs`, t.sloMs));
  if (t.sloPercentile !== undefined && t.sloPercentile !== 'p95' && t.sloPercentile !== 'p99')
    problems.push(expected("'p95', 'p99' or undefined", `${at}.sloPercentile`, t.sloPercentile));

  if (t.tpu === null) {
    if (kOk && t.k !== 0) problems.push(expected('an Edge TPU stage (k > 0)', `${at}.tpu`, t.tpu));
  } else if (!isObject(t.tpu)) {
    problems.push(expected('a TpuStage object or null', `${at}.tpu`, t.tpu));
  } else {
    if (kOk && t.k === 0)
      problems.push(expected('null (k = 0: nothing runs on the Edge TPU)', `${at}.tpu`, 'a TpuStage'));
    const s = t.tpu;
    if (typeof s.token !== 'string' || s.token.length === 0)
      problems.push(expected('a non-empty caching token', `${at}.tpu.token`, s.token));
    if (!isFiniteNonNegative(s.serviceMs))
      problems.push(expected('a finite time ≥ 0 (ms)', `${at}.tpu.serviceMs`, s.serviceMs));
    if (!isFiniteNonNegative(s.serviceVarianceMs2))
      problems.push(
        expected('a finite variance ≥ 0 (ms²)', `${at}.tpu.serviceVarianceMs2`, s.serviceVarianceMs2),
      );
    if (!isFiniteNonNegative(s.reloadMs))
      problems.push(expected('a finite time ≥ 0 (ms)', `${at}.tpu.reloadMs`, s.reloadMs));
    if (!SOURCES.includes(s.source as string))
      problems.push(expected(`one of ${SOURCES.join(', ')}`, `${at}.tpu.source`, s.source));
  }

  if (t.cpu === null) {
    if (kOk && nOk && t.k !== t.n) problems.push(expected('a CPU stage (k < n)', `${at}.cpu`, t.cpu));
  } else if (!isObject(t.cpu)) {
    problems.push(expected('a CpuStage object or null', `${at}.cpu`, t.cpu));
  } else {
    if (kOk && nOk && t.k === t.n)
      problems.push(expected('null (k = n: nothing runs on the CPU)', `${at}.cpu`, 'a CpuStage'));
    const c = t.cpu;
    if (!MODES.includes(c.mode as string))
      problems.push(expected(`one of ${MODES.join(', ')}`, `${at}.cpu.mode`, c.mode));
    if (!Array.isArray(c.samplesMs) || c.samplesMs.length === 0) {
      problems.push(expected('a non-empty array of service times (ms)', `${at}.cpu.samplesMs`, c.samplesMs));
    } else {
      const bad = c.samplesMs.findIndex((x: unknown) => !isFiniteNonNegative(x));
      if (bad >= 0)
        problems.push(expected('a finite time ≥ 0 (ms)', `${at}.cpu.samplesMs[${bad}]`, c.samplesMs[bad]));
    }
    if (!SOURCES.includes(c.source as string))
      problems.push(expected(`one of ${SOURCES.join(', ')}`, `${at}.cpu.source`, c.source));
  }
}

function throwProblems(where: string, problems: string[], reason: string): never {
  const message =
    problems.length === 1
      ? problems[0]!
      : `Expected a valid SystemSetup for ${where} but received one with ${problems.length} problems:\n  ${problems.join('\n  ')}`;
  throw new InvalidArgumentError(message, { details: { reason, problems } });
}
