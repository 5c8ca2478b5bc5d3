/**
 * The CPU stages of a catalog on a modelled CPU (every `cpu.profile` but `host`): the suffix times of the
 * candidate cuts come from the analytic CPU model of `@swapless/profiler` instead of measurement, one
 * deterministic sample per thread count, marked `emulated`. docs/cpu-profiles.md.
 */
import { type CpuProfileSpec, resolveCpuProfile } from '@swapless/core';
import { type CutSelection, modelCpuProfile } from '@swapless/profiler';

/** Where a catalog's CPU stage samples come from and for which CPU. */
export interface CatalogCpu {
  /** CPU profile name: `host` (measured here) or a modelled target such as `devboard-a53`. */
  profile: string;
  source: 'measured' | 'emulated';
}

/** The modelled CPU stage of every selected cut: suffix samples by thread count (null at k = n). */
export interface ModelledCpuStages {
  cpu: CatalogCpu;
  threads: number[];
  cuts: { k: number; cpu: Map<number, readonly number[]> | null }[];
}

/** True when `spec` names a modelled CPU (not the measured host). Throws InvalidConfigError for unknown ones. */
export function isModelledCpu(spec: CpuProfileSpec | undefined): boolean {
  return resolveCpuProfile(spec ?? 'host').kind === 'model';
}

/**
 * The CPU stages of `model` on the modelled CPU `spec`, at `threads` (default 1..the target's cores; counts above
 * the target's cores are dropped: the target has no more).
 */
export async function modelledCpuStages(
  model: Uint8Array,
  spec: CpuProfileSpec,
  options: { name?: string; cuts?: CutSelection; maxCuts?: number; threads?: readonly number[] },
): Promise<ModelledCpuStages> {
  const target = resolveCpuProfile(spec);
  const cores = target.kind === 'model' ? target.cores : Number.POSITIVE_INFINITY;
  const threads = options.threads?.filter((t) => t <= cores);
  const p = await modelCpuProfile(model, spec, {
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.cuts !== undefined ? { cuts: options.cuts } : {}),
    ...(options.maxCuts !== undefined ? { maxCuts: options.maxCuts } : {}),
    ...(threads !== undefined && threads.length > 0 ? { threads } : {}),
  });
  return {
    cpu: { profile: p.cpu, source: 'emulated' },
    threads: p.threads,
    cuts: p.cuts.map((c) => ({
      k: c.k,
      cpu: c.suffixMs === null ? null : new Map(p.threads.map((t, i) => [t, [c.suffixMs![i]!]] as const)),
    })),
  };
}
