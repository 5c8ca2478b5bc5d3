/**
 * A tenant's catalog: for each candidate cut of its model, what the Edge TPU stage costs (from the device
 * model: one call, the reload after a token switch, the caching token) and what the CPU stage costs (measured
 * suffix times per thread count, from the profiler). Everything the search needs about one model, computed
 * once: configurations are then assembled from it without touching the model again.
 */
import { defaultVariantStore, type StoredModel, type VariantStore } from '@swapless/compiler';
import type { TpuStage } from '@swapless/contracts';
import {
  type CpuProfileSpec,
  expected,
  InvalidArgumentError,
  type ProgressListener,
  UnsupportedModelError,
} from '@swapless/core';
import { type ProfileOptions, type ProfileResult, profileModel } from '@swapless/profiler';
import { cutPoints } from '@swapless/tflite';
import {
  type CompileReport,
  callBreakdown,
  type DeviceProfile,
  reloadMs as deviceReloadMs,
  getProfile,
  resolveProfile,
} from '@swapless/tpu-emulator';
import { type CatalogCpu, isModelledCpu, modelledCpuStages } from './catalog-cpu.js';
import { assertServable, classifyModel, type TenantClassKind } from './classes.js';

/**
 * How the controller may place a tenant: `partitioned` (it chooses the cut and the cores), `cpu-only` (cut 0
 * only: the whole model on the CPU; it chooses the cores), `compiled` (one fixed choice: the whole compiled
 * model on a real Edge TPU, no CPU stage).
 */
export type TenantKind = Exclude<TenantClassKind, 'unrunnable'>;

/** One candidate cut of a model. */
export interface CutCandidate {
  k: number;
  /** The Edge TPU stage at this cut; null for k = 0. */
  tpu: TpuStage | null;
  /** Measured suffix times per thread count (ms samples); null for k = n. */
  cpu: ReadonlyMap<number, readonly number[]> | null;
  /** Bytes crossing the cut (TPU output → CPU input). */
  boundaryBytes: number;
  /** Share of the model's MACs in the TPU part. */
  tpuMacsShare: number;
  /**
   * Mean time a request spends at this cut outside every queue and stage the latency model knows, ms — e.g. an
   * emulated head's outputs arriving after the device's modelled end (learned online by `ServiceCorrection`). It
   * adds to the tenant's response and holds no server busy. Absent: 0.
   */
  delayMs?: number;
  /**
   * Host compute of this cut's head by the functional emulator's pool, ms (its service time there): set by
   * `ServiceCorrection` when the service runs a functional emulator, absent otherwise. The latency model sees the
   * pool as a queue shared by every tenant's head (see `delayedPredictor`).
   */
  emulationMs?: number;
  /**
   * Squared coefficient of variation of that compute (variance / mean²), learned with it; absent: 0 (a
   * deterministic compute). A shared host's compute times vary, and the pool's queue grows with their spread.
   */
  emulationCv2?: number;
  /**
   * How much longer than the pool's modelled wait this tenant's heads wait (a ratio learned by `ServiceCorrection`);
   * absent: 1.
   */
  emulationWaitFactor?: number;
  /**
   * The head's emulated compile report and the profile it was made for (absent for k = 0 and for a compiled
   * model): what co-compiling this head with other tenants' heads starts from (see cocompile.ts).
   */
  head?: { readonly report: CompileReport; readonly profile: DeviceProfile };
}

/** Everything the search needs about one model on one device. */
export interface TenantCatalog {
  /** Label of the model (zoo name or path). */
  model: string;
  sha256: string;
  /** Compute ops (cut points are 0..n). */
  n: number;
  /**
   * End of the Edge-TPU-mappable prefix: the whole-model-on-TPU cut of the default compiler (0 for a
   * `cpu-only` tenant, n for a `compiled` one).
   */
  edgetpuPrefix: number;
  /** How the controller may place the tenant (see {@link TenantKind}). */
  kind: TenantKind;
  /**
   * Why the tenant is not `partitioned`, one user sentence (e.g. `float model: nothing maps to the Edge TPU`);
   * null for `partitioned`.
   */
  reason: string | null;
  /** Device profile the TPU stages were computed for. */
  device: string;
  /** Thread counts the CPU stages were measured (or modelled) at (ascending). */
  threads: readonly number[];
  /** The CPU the CPU stages are for and whether they were measured (`host`) or modelled. Absent: measured on the host. */
  cpu?: CatalogCpu;
  /**
   * Candidates by ascending k; always includes 0 and `edgetpuPrefix` (only 0 for `cpu-only`, only n for
   * `compiled`).
   */
  cuts: readonly CutCandidate[];
  /**
   * The profile the CPU samples come from (for reports and caching); null for `compiled` (no CPU stage) and on a
   * modelled CPU (nothing is measured).
   */
  profile: ProfileResult | null;
  /**
   * The same tenant on the host's devices of other profiles, by device id (see `withDeviceCatalogs`): each has
   * the same cuts and CPU stages and the Edge TPU stages of its device's profile. Absent: every device is planned
   * with this catalog (one profile, or a host with one device).
   */
  onDevice?: Readonly<Record<string, TenantCatalog>>;
}

/** Options of {@link buildCatalog}. */
export interface CatalogOptions {
  /** Label for reports (default: the sha256 prefix). */
  name?: string;
  /** Device profile name or object (default `usb3`). */
  device?: string | DeviceProfile;
  /** Cut selection passed to the profiler (default `auto`: cheap cuts inside the mappable prefix). */
  cuts?: ProfileOptions['cuts'];
  /** How many cuts `auto` picks (default 12). */
  maxCuts?: number;
  /** Thread counts to measure (default 1..cores of this machine). */
  threads?: readonly number[];
  /** Timed repetitions per measurement (default: the profiler's). */
  repetitions?: number;
  /** Profiler cache (default on). */
  cache?: boolean;
  onProgress?: ProgressListener;
  /**
   * The CPU the CPU stages are for (default `host`: measured here). Any other profile models the suffix times
   * from the model's ops (docs/cpu-profiles.md) and measures nothing; `InvalidConfigError` for an unknown one.
   */
  cpu?: CpuProfileSpec;
  /**
   * Where the model is parsed and each head split and compile-reported (default: `defaultVariantStore()` of
   * @swapless/compiler). Give the store the runtime uses, so a served cut is split once in the process.
   */
  variants?: VariantStore;
}

/** The TPU stage of the head [0,k) of `model` on `device` (device model: emulated), from the variant store. */
export function tpuStage(
  store: VariantStore,
  model: StoredModel,
  k: number,
  device: DeviceProfile,
): TpuStage {
  const report = store.report(model, k, device)!;
  return {
    token: report.cachingToken,
    serviceMs: callBreakdown(report, device).totalMs,
    serviceVarianceMs2: 0,
    reloadMs: deviceReloadMs(report, device),
    source: 'emulated',
  };
}

/**
 * Builds the catalog of a model: profiles its CPU suffixes (measured, cached by the profiler) and computes the
 * TPU stage of every profiled cut inside the Edge-TPU-mappable prefix with the device model. Cuts past the
 * mappable prefix are dropped (the Edge TPU cannot run them). A model of which nothing maps (a float model) is a
 * `cpu-only` catalog: cut 0 alone. Refused up front, before any profiling (`UnsupportedModelError` naming
 * `options.name`): a custom op nothing here runs, and a compiled model (its catalog is
 * {@link compiledCatalog}'s, from measurements on a real Edge TPU).
 */
export async function buildCatalog(model: Uint8Array, options: CatalogOptions = {}): Promise<TenantCatalog> {
  if (!(model instanceof Uint8Array))
    throw new InvalidArgumentError(expected('model bytes (Uint8Array)', 'buildCatalog', model));
  const device =
    typeof options.device === 'object'
      ? resolveProfile(options.device)
      : getProfile(options.device ?? 'usb3');
  const store = variantStoreOf(options.variants);
  const stored = store.model(model);
  const { model: parsed, analysis, sha256 } = stored;
  const cls = classifyModel(parsed, analysis);
  assertServable(cls, `model ${JSON.stringify(options.name ?? 'model')}`);
  const prefix = analysis.edgetpuPrefix.length;
  const label = options.name ?? sha256.slice(0, 12);
  const total = analysis.totals.macs || 1;
  const fixed = {
    model: label,
    sha256,
    n: analysis.n,
    edgetpuPrefix: prefix,
    kind: cls.kind === 'cpu-only' ? ('cpu-only' as const) : ('partitioned' as const),
    reason: cls.kind === 'cpu-only' ? cls.reason : null,
    device: device.name,
  };
  const cut = (
    k: number,
    cpu: CutCandidate['cpu'],
    boundaryBytes: number,
    prefixMacs: number,
  ): CutCandidate => ({
    k,
    tpu: k === 0 ? null : tpuStage(store, stored, k, device),
    ...(k === 0 ? {} : { head: { report: store.report(stored, k, device)!, profile: device } }),
    cpu,
    boundaryBytes,
    tpuMacsShare: prefixMacs / total,
  });
  if (isModelledCpu(options.cpu)) {
    // A modelled CPU: nothing is measured (the host's times say nothing about the target).
    const points = cutPoints(parsed);
    const modelled = await modelledCpuStages(model, options.cpu!, {
      name: label,
      cuts: options.cuts ?? 'auto',
      ...(options.maxCuts !== undefined ? { maxCuts: options.maxCuts } : {}),
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
    });
    return {
      ...fixed,
      threads: modelled.threads,
      cpu: modelled.cpu,
      cuts: modelled.cuts
        .filter((c) => c.k <= prefix)
        .map((c) => cut(c.k, c.cpu, points[c.k]!.bytes, points[c.k]!.prefixMacs)),
      profile: null,
    };
  }
  const profile = await profileModel(model, {
    name: label,
    cuts: options.cuts ?? 'auto',
    ...(options.maxCuts !== undefined ? { maxCuts: options.maxCuts } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.repetitions !== undefined ? { repetitions: options.repetitions } : {}),
    ...(options.cache !== undefined ? { cache: options.cache } : {}),
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
  });
  const cuts: CutCandidate[] = [];
  for (const c of profile.cuts) {
    if (c.k > prefix) continue;
    const cpu =
      c.suffix === null ? null : new Map(c.suffix.measurements.map((m) => [m.threads, m.samples] as const));
    cuts.push(cut(c.k, cpu, c.boundaryBytes, c.prefixMacs));
  }
  return {
    ...fixed,
    threads: [...profile.settings.threads].sort((a, b) => a - b),
    cpu: { profile: 'host', source: 'measured' },
    cuts,
    profile,
  };
}

/** Options of {@link compiledCatalog}. */
export interface CompiledCatalogOptions {
  /** Label for reports (default: the sha256 prefix). */
  name?: string;
  /** Device profile name the rest of the system is planned with (reports only). */
  device?: string;
  /** The Edge TPU stage of the whole compiled model: measured on the real device (`source: 'measured'`). */
  tpu: TpuStage;
  /** Where the model is parsed (default: `defaultVariantStore()` of @swapless/compiler). */
  variants?: VariantStore;
}

/**
 * The catalog of a compiled `*_edgetpu.tflite` served whole on a real Edge TPU: one fixed choice (k = n, the
 * whole model in the Edge TPU stage, no CPU stage), so the controller plans the other tenants around it and
 * never moves it. The TPU stage is what the caller measured on the device. `UnsupportedModelError` for a model
 * that is not compiled.
 */
export function compiledCatalog(model: Uint8Array, options: CompiledCatalogOptions): TenantCatalog {
  if (!(model instanceof Uint8Array))
    throw new InvalidArgumentError(expected('model bytes (Uint8Array)', 'compiledCatalog', model));
  const { model: parsed, analysis, sha256 } = variantStoreOf(options.variants).model(model);
  const cls = classifyModel(parsed, analysis);
  const name = options.name ?? sha256.slice(0, 12);
  if (cls.kind !== 'compiled') {
    throw new UnsupportedModelError(
      `Expected a model compiled by edgetpu_compiler for the compiled catalog of ${name} but received a ${cls.kind} model`,
    );
  }
  return {
    model: name,
    sha256,
    n: analysis.n,
    edgetpuPrefix: analysis.n,
    kind: 'compiled',
    reason: cls.reason,
    device: options.device ?? 'edgetpu',
    threads: [],
    cuts: [
      {
        k: analysis.n,
        tpu: options.tpu,
        cpu: null,
        boundaryBytes: analysis.totals.outputBytes,
        tpuMacsShare: 1,
      },
    ],
    profile: null,
  };
}

/** The store a catalogue reads its model and heads from. InvalidArgumentError for a value that is not one. */
export function variantStoreOf(store: VariantStore | undefined): VariantStore {
  if (store === undefined) return defaultVariantStore();
  if (typeof store?.report !== 'function' || typeof store.model !== 'function') {
    throw new InvalidArgumentError(expected('a VariantStore', 'the catalog variants', store));
  }
  return store;
}
