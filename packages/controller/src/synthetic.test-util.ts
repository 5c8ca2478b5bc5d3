import { SeededRandom } from '@swapless/core';
import type { ProfileResult } from '@swapless/profiler';
import type { CutCandidate, TenantCatalog } from './catalog.js';

/** Deterministic pseudo-random numbers in [0, 1) for test instances (the project's SeededRandom). */
export function rand(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.nextFloat();
}

/**
 * A synthetic catalog with `cuts` cut points: TPU call time grows with k, reload grows then saturates (the
 * on-chip cache), CPU suffix time shrinks with k; 1 and 2 threads measured (2 threads ≈ 0.6×).
 */
export function syntheticCatalog(
  name: string,
  opts: { n?: number; cuts?: number; tpuMs?: number; cpuMs?: number; reloadMs?: number; seed?: number } = {},
): TenantCatalog {
  const n = opts.n ?? 30;
  const count = Math.min(opts.cuts ?? 6, n + 1);
  const r = rand(opts.seed ?? 1);
  const tpuMs = opts.tpuMs ?? 6;
  const cpuMs = opts.cpuMs ?? 40;
  const reloadMs = opts.reloadMs ?? 5;
  const ks = [...new Set(Array.from({ length: count }, (_, i) => Math.round((i * n) / (count - 1))))];
  const cuts: CutCandidate[] = ks.map((k) => {
    const f = k / n;
    const cpu = cpuMs * (1 - f) ** (0.7 + 0.6 * r());
    return {
      k,
      tpu:
        k === 0
          ? null
          : {
              token: `${name}@${k}`,
              serviceMs: 0.4 + tpuMs * f ** (1 + 0.5 * r()),
              serviceVarianceMs2: 0,
              reloadMs: reloadMs * Math.min(1, 1.6 * f),
              source: 'emulated' as const,
            },
      cpu:
        k === n
          ? null
          : new Map([
              [1, [cpu * 0.9, cpu, cpu * 1.1]],
              [2, [cpu * 0.55, cpu * 0.6, cpu * 0.65]],
            ]),
      boundaryBytes: 1000,
      tpuMacsShare: f,
    };
  });
  return {
    model: name,
    sha256: name,
    n,
    edgetpuPrefix: n,
    kind: 'partitioned',
    reason: null,
    device: 'usb3',
    threads: [1, 2],
    cuts,
    profile: {} as ProfileResult,
  };
}
