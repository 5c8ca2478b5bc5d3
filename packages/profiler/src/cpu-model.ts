/**
 * The analytic CPU model behind every CPU profile but `host`: the time of a model part on a target CPU,
 * computed from the part's ops (never measured, so host-independent). Each op costs its work divided by its op
 * type's one-thread throughput, over the Amdahl speed-up of its type at t threads, plus a fixed per-op cost that
 * does not parallelise. Parameters and calibration: docs/cpu-profiles.md; the profiles: `@swapless/core`.
 */
import { createHash } from 'node:crypto';
import {
  type CpuModelProfile,
  type CpuOpRates,
  type CpuProfileSpec,
  expected,
  InvalidArgumentError,
  InvalidConfigError,
  modelBytes,
  resolveCpuProfile,
} from '@swapless/core';
import { analyzeModel, cutPoints, type ModelAnalysis, readModel, type TfliteModel } from '@swapless/tflite';
import { type CutSelection, DEFAULT_MAX_CUTS, selectCuts } from './cuts.js';

/** The op types the model distinguishes (the keys of {@link CpuOpRates}). */
export type CpuOpClass = keyof CpuOpRates;

/** Work of one op for the CPU model: its class and its work (MACs, or output elements for `elementwise`). */
export interface CpuOpWork {
  cls: CpuOpClass;
  work: number;
}

function elements(shape: readonly number[] | undefined): number {
  let n = 1;
  for (const d of shape ?? []) n *= d > 0 ? d : 1;
  return n;
}

/** Classifies every compute op of `analysis` (op order) and gives its work. */
export function cpuOpWork(model: TfliteModel, analysis: ModelAnalysis): CpuOpWork[] {
  const tensors = model.subgraphs[0]!.tensors;
  return analysis.ops.map((op): CpuOpWork => {
    switch (op.type) {
      case 'CONV_2D': {
        const f = tensors[op.inputs[1] ?? -1]?.shape;
        const spatial = f !== undefined && f.length === 4 && (f[1] ?? 1) * (f[2] ?? 1) > 1;
        return { cls: spatial ? 'conv' : 'conv1x1', work: op.macs };
      }
      case 'TRANSPOSE_CONV':
        return { cls: 'conv', work: op.macs };
      case 'DEPTHWISE_CONV_2D':
        return { cls: 'depthwise', work: op.macs };
      case 'FULLY_CONNECTED':
      case 'BATCH_MATMUL':
        return { cls: 'fullyConnected', work: op.macs };
      default: {
        let out = 0;
        for (const t of op.outputs) if (t >= 0) out += elements(tensors[t]?.shape);
        return { cls: 'elementwise', work: out };
      }
    }
  });
}

/** Amdahl speed-up of an op class at `threads` threads. */
function speedup(p: number, threads: number): number {
  return 1 / (1 - p + p / threads);
}

/** Modelled time of each op at `threads` threads on `profile`, ms (op order). */
export function modelledOpMs(
  work: readonly CpuOpWork[],
  profile: CpuModelProfile,
  threads: number,
): number[] {
  if (!Number.isInteger(threads) || threads < 1)
    throw new InvalidArgumentError(expected('a thread count of 1 or more', 'the CPU model', threads));
  return work.map(
    (w) => profile.fixedMsPerOp + w.work / profile.rates[w.cls] / speedup(profile.parallel[w.cls], threads),
  );
}

/** Sum of `opMs` over the op-order range [start, end). */
export function modelledPartMs(opMs: readonly number[], start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s += opMs[i]!;
  return s;
}

/**
 * Whole-model time of a parsed model on a modelled CPU at `threads` (default: the profile's calibration thread
 * count), ms. `InvalidConfigError` for `host` or an unknown profile.
 */
export function modelledModelMs(model: TfliteModel, spec: CpuProfileSpec, threads?: number): number {
  const profile = modelProfileOf(spec);
  const analysis = analyzeModel(model);
  const opMs = modelledOpMs(cpuOpWork(model, analysis), profile, threads ?? profile.calibratedThreads);
  return modelledPartMs(opMs, 0, analysis.n);
}

/** The modelled profile `spec` names; `InvalidConfigError` for `host` (measured, not modelled). */
export function modelProfileOf(spec: CpuProfileSpec): CpuModelProfile {
  const profile = resolveCpuProfile(spec);
  if (profile.kind === 'host') {
    throw new InvalidConfigError(
      'Expected a modelled CPU profile but received "host" (the host is measured: use profileModel)',
      ['cpu.profile: "host" is measured, not modelled'],
    );
  }
  return profile;
}

/** The modelled part times of one cut. */
export interface ModelledCut {
  k: number;
  /** Suffix [k,n) time per thread count (same order as `threads`), ms; null at k = n. */
  suffixMs: number[] | null;
  /** Prefix [0,k) time per thread count, ms; null at k = 0. */
  prefixMs: number[] | null;
}

/** What {@link modelCpuProfile} returns: the whole model and the selected cuts on a modelled CPU. */
export interface ModelledCpuProfile {
  /** Profile name, e.g. `devboard-a53`. */
  cpu: string;
  description: string;
  /** How the profile's parameters were obtained. */
  basis: string;
  /** Every time here is modelled, never measured. */
  source: 'emulated';
  model: { name?: string; sha256: string; n: number; macs: number };
  /** Thread counts modelled (ascending). */
  threads: number[];
  /** Whole model on the CPU at `wholeModelThreads` (the profile's calibration thread count), ms. */
  wholeModelMs: number;
  wholeModelThreads: number;
  /** Whole model at every modelled thread count. */
  wholeModel: { threads: number; ms: number }[];
  cuts: ModelledCut[];
}

/** Options of {@link modelCpuProfile}. */
export interface ModelCpuProfileOptions {
  name?: string;
  /** Cut selection as for `profileModel` (default `auto`). */
  cuts?: CutSelection;
  maxCuts?: number;
  /** Thread counts (default 1..the profile's cores). */
  threads?: readonly number[];
}

/**
 * Models a whole model and its cuts on the CPU of `spec` (a built-in name or custom profile; `host` is refused
 * with `InvalidConfigError`: the host is measured by `profileModel`). Pure and fast: nothing runs.
 */
export async function modelCpuProfile(
  model: Uint8Array | string,
  spec: CpuProfileSpec,
  options: ModelCpuProfileOptions = {},
): Promise<ModelledCpuProfile> {
  const profile = modelProfileOf(spec);
  const bytes = await modelBytes(model);
  const parsed = readModel(bytes);
  const analysis = analyzeModel(parsed);
  const threads = [...(options.threads ?? Array.from({ length: profile.cores }, (_, i) => i + 1))].sort(
    (a, b) => a - b,
  );
  const work = cpuOpWork(parsed, analysis);
  const perThreads = threads.map((t) => modelledOpMs(work, profile, t));
  const n = analysis.n;
  const ks = selectCuts(
    options.cuts ?? 'auto',
    cutPoints(parsed),
    analysis,
    options.maxCuts ?? DEFAULT_MAX_CUTS,
  );
  const at = profile.calibratedThreads;
  return {
    cpu: profile.name,
    description: profile.description,
    basis: profile.basis,
    source: 'emulated',
    model: {
      ...(options.name !== undefined ? { name: options.name } : {}),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      n,
      macs: analysis.totals.macs,
    },
    threads,
    wholeModelMs: modelledPartMs(modelledOpMs(work, profile, at), 0, n),
    wholeModelThreads: at,
    wholeModel: threads.map((t, i) => ({ threads: t, ms: modelledPartMs(perThreads[i]!, 0, n) })),
    cuts: ks.map((k) => ({
      k,
      suffixMs: k < n ? perThreads.map((ms) => modelledPartMs(ms, k, n)) : null,
      prefixMs: k > 0 ? perThreads.map((ms) => modelledPartMs(ms, 0, k)) : null,
    })),
  };
}
