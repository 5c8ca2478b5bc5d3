// Shared builders and statistics for the simulator's tests (not exported from the package).

import type { CpuStage, SystemSetup, TenantSetup, TpuStage } from '@swapless/contracts';
import { Xoshiro128 } from '@swapless/core';
import { simulate } from './simulate.js';
import type { SimOptions, SimResult } from './types.js';

/** A TPU stage; defaults: deterministic 1 ms, no reload, token = `tok`. */
export function tpu(over: Partial<TpuStage> = {}): TpuStage {
  return { token: 'tok', serviceMs: 1, serviceVarianceMs2: 0, reloadMs: 0, source: 'emulated', ...over };
}

/** A CPU stage over the given samples. */
export function cpu(samplesMs: readonly number[], mode: 'mg1' | 'mgc' = 'mg1'): CpuStage {
  return { mode, samplesMs, source: 'measured' };
}

/** A tenant at cut k = 5 of n = 10 unless tpu or cpu is null (then k = 0 or n). */
export function tenant(
  name: string,
  rate: number,
  stages: { tpu?: TpuStage | null; cpu?: CpuStage | null; cores?: number },
): TenantSetup {
  const t = stages.tpu ?? null;
  const c = stages.cpu ?? null;
  return {
    name,
    rate,
    n: 10,
    k: t === null ? 0 : c === null ? 10 : 5,
    cores: c === null ? 0 : (stages.cores ?? 1),
    tpu: t,
    cpu: c,
  };
}

/** A system of the given tenants on `cores` cores (default 8). */
export function system(tenants: TenantSetup[], cores = 8): SystemSetup {
  return { tenants, cores };
}

/** n draws of an exponential with the given mean, from a fixed seed (the "measured" samples of M/M/· tests). */
export function exponentialSamples(meanMs: number, n: number, seed = 99): number[] {
  const g = new Xoshiro128(seed, 7);
  return Array.from({ length: n }, () => meanMs * g.exponential());
}

/** Mean and second moment of samples. */
export function moments(xs: readonly number[]): { mean: number; m2: number } {
  let s = 0;
  let s2 = 0;
  for (const x of xs) {
    s += x;
    s2 += x * x;
  }
  return { mean: s / xs.length, m2: s2 / xs.length };
}

/**
 * Independent replications (seeds 1..r) of one simulation: the grand mean of `pick` and its standard error
 * from the spread of the replication means. Replication means are independent even though requests inside
 * a run are correlated, so the standard error is honest for queueing output.
 */
export function replicate(
  sys: SystemSetup,
  options: SimOptions,
  r: number,
  pick: (res: SimResult) => number,
): { mean: number; se: number; results: SimResult[] } {
  const results = Array.from({ length: r }, (_, i) => simulate(sys, { ...options, seed: 1000 + i }));
  const xs = results.map(pick);
  const mean = xs.reduce((a, b) => a + b, 0) / r;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (r - 1);
  return { mean, se: Math.sqrt(variance / r), results };
}

/** Two-sided 99.9 % Student t quantile for 9 degrees of freedom (10 replications). */
export const T_9_999 = 4.781;
