/**
 * The server config's `cpu` section: which CPU the CPU stages are for (docs/cpu-profiles.md). The server runs
 * its CPU stages on this machine, so a modelled profile is validated and reported but not applied to serving
 * (the runtime does not stretch CPU stages to the target's time): plan and simulate with `swapless plan/bench
 * --cpu` instead.
 */
import {
  type CpuProfileSpec,
  InvalidConfigError,
  resolveCpuProfile,
  validCpuProfilesSentence,
} from '@swapless/core';

/** The server config's `cpu` section. */
export interface ServerCpuConfig {
  /** `host` (default), `devboard-a53`, `rpi4-a72` or a custom profile object. */
  readonly profile: CpuProfileSpec;
}

/** JSON Schema of the `cpu` section (the profile itself is checked by {@link cpuConfigProblems}). */
export const CPU_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: { profile: { anyOf: [{ type: 'string' }, { type: 'object' }], default: 'host' } },
  default: {},
} as const;

/** Problems of a `cpu` section, as `<path>: <what>` lines naming the valid profiles; empty when fine. */
export function cpuConfigProblems(cpu: { profile?: unknown } | undefined): string[] {
  try {
    resolveCpuProfile(cpu?.profile ?? 'host', '/cpu/profile');
    return [];
  } catch (err) {
    if (!(err instanceof InvalidConfigError)) throw err;
    return err.problems.map((p) => `${p} (valid: ${validCpuProfilesSentence()})`);
  }
}

/** The warning for a modelled profile: the server serves on this host's CPU. */
export function cpuConfigWarnings(cpu: ServerCpuConfig): string[] {
  const p = resolveCpuProfile(cpu.profile);
  if (p.kind === 'host') return [];
  return [
    `cpu.profile ${JSON.stringify(p.name)} is for planning only: the server runs and measures its CPU stages on this machine (use swapless plan/bench --cpu ${p.name})`,
  ];
}
