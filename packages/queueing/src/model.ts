/**
 * The default analytic latency model (`mg1-default`, DESIGN.md "Queueing model"): the Edge TPU is one
 * multi-class M/G/1 FCFS server whose per-tenant service includes a Bernoulli token-switch reload, and every
 * tenant's CPU stage is its own M/G/1 or M/G/c queue. Under the switch-aware discipline (`system.discipline`) the
 * Edge TPU terms come from switch-aware.ts instead. The pieces ({@link analyzeTpu}, {@link analyzeCpu},
 * {@link buildPrediction}) are exported so that refinements such as plugins can replace one term and keep the
 * rest. Equations and their limits: docs/queueing.md.
 */

import type {
  CpuStage,
  Instability,
  LatencyModel,
  Prediction,
  SystemSetup,
  TenantPrediction,
  TenantSetup,
} from '@swapless/contracts';
import { reorderBudgetMs } from '@swapless/core';
import { predictByDevice } from './devices.js';
import {
  bernoulliExtraMoments,
  type Moments,
  mg1WaitMs,
  mgcWaitMs,
  perMs,
  sampleMoments,
} from './formulas.js';
import { analyzeSwitchAwareTpu } from './switch-aware.js';
import { validateSystem } from './validate.js';

/** Name of the default model in the registry and in {@link Prediction.model}. */
export const DEFAULT_MODEL_NAME = 'mg1-default';

/** One tenant's share of the Edge TPU mixture. */
export interface TpuClass {
  /** Index of the tenant in `system.tenants`. */
  readonly index: number;
  /** λ_i, requests per ms. */
  readonly ratePerMs: number;
  /** p_i: probability that the call before this tenant's call had another caching token. */
  readonly switchProbability: number;
  /** Moments of S_T,i = serviceMs + B·reloadMs, B ~ Bernoulli(p_i). */
  readonly moments: Moments;
}

/** The Edge TPU as one M/G/1 server over the mixture of every tenant that uses it. */
export interface TpuAnalysis {
  /** Λ, total arrival rate at the Edge TPU, requests per ms. */
  readonly ratePerMs: number;
  /** Mixture moments E[S] = Σ(λ_i/Λ)E[S_i], E[S²] = Σ(λ_i/Λ)E[S_i²] (0 when Λ = 0). */
  readonly moments: Moments;
  /** ρ_T = Λ·E[S]. */
  readonly utilization: number;
  /** Pollaczek–Khinchine wait Λ·E[S²] / (2(1 − ρ_T)), ms (Infinity when ρ_T ≥ 1). */
  readonly pkWaitMs: number;
  /** Tenants with a TPU stage, in system order. */
  readonly classes: readonly TpuClass[];
}

/** One tenant's CPU stage as a queue. */
export interface CpuAnalysis {
  /** Mean wait in the CPU queue, ms (Infinity when unstable; 0 without a CPU stage). */
  readonly waitMs: number;
  /** E[S_C], ms (0 without a CPU stage). */
  readonly serviceMs: number;
  /** Per-server utilisation λE[S]/c for `mgc`, λE[S] for `mg1` (Infinity with 0 cores). */
  readonly utilization: number;
  /** Set when the stage cannot keep up. */
  readonly unstable?: Instability;
}

/**
 * Switch probabilities to use instead of the token-share estimate, by tenant name (used by fitted models).
 * Values outside [0, 1] are clamped.
 */
export type SwitchProbabilityOverrides = ReadonlyMap<string, number>;

/**
 * The Edge TPU side of the default model. p_i = 1 − Λ_g(i)/Λ where Λ_g(i) is the total rate of the tenants
 * sharing tenant i's caching token: with Poisson arrivals served FCFS, the tenant of the previous call is
 * independent of the current one and distributed as λ_j/Λ, so this is the exact probability that the device
 * holds another token (the device keeps its token while idle). A single token, or Λ = 0, gives 0.
 * The caller validates `system` first.
 */
export function analyzeTpu(system: SystemSetup, overrides?: SwitchProbabilityOverrides): TpuAnalysis {
  const rateOfToken = new Map<string, number>();
  let total = 0;
  system.tenants.forEach((t) => {
    if (t.tpu === null) return;
    const r = perMs(t.rate);
    total += r;
    rateOfToken.set(t.tpu.token, (rateOfToken.get(t.tpu.token) ?? 0) + r);
  });
  const classes: TpuClass[] = [];
  let m1 = 0;
  let m2 = 0;
  system.tenants.forEach((t, index) => {
    if (t.tpu === null) return;
    const ratePerMs = perMs(t.rate);
    const shared = rateOfToken.get(t.tpu.token) ?? 0;
    const estimate = total > 0 ? Math.max(0, 1 - shared / total) : 0;
    const override = overrides?.get(t.name);
    const p =
      override === undefined || Number.isNaN(override) ? estimate : Math.min(1, Math.max(0, override));
    const moments = bernoulliExtraMoments(t.tpu.serviceMs, t.tpu.serviceVarianceMs2, t.tpu.reloadMs, p);
    classes.push({ index, ratePerMs, switchProbability: p, moments });
    m1 += ratePerMs * moments.meanMs;
    m2 += ratePerMs * moments.secondMomentMs2;
  });
  // m1 = Λ·E[S] = ρ_T and m2 = Λ·E[S²] directly; divide by Λ only for the reported mixture moments.
  const utilization = m1;
  const pkWaitMs = total === 0 ? 0 : utilization >= 1 ? Infinity : m2 / (2 * (1 - utilization));
  return {
    ratePerMs: total,
    moments:
      total > 0 ? { meanMs: m1 / total, secondMomentMs2: m2 / total } : { meanMs: 0, secondMomentMs2: 0 },
    utilization,
    pkWaitMs,
    classes,
  };
}

const momentCache = new WeakMap<readonly number[], Moments>();

/** Moments of a CPU stage's samples (cached per samples array: an optimiser evaluates the same stages often). */
export function cpuStageMoments(stage: CpuStage): Moments {
  let m = momentCache.get(stage.samplesMs);
  if (m === undefined) {
    m = sampleMoments(stage.samplesMs);
    momentCache.set(stage.samplesMs, m);
  }
  return m;
}

/**
 * One tenant's CPU stage: `mg1` → Pollaczek–Khinchine with the samples at `cores` threads; `mgc` → the
 * Allen–Cunneen M/G/c approximation with `cores` single-thread workers. No CPU stage → all zero. A CPU stage
 * with 0 cores, or utilisation ≥ 1, is unstable.
 */
export function analyzeCpu(tenant: TenantSetup): CpuAnalysis {
  const cpu = tenant.cpu;
  if (cpu === null) return { waitMs: 0, serviceMs: 0, utilization: 0 };
  const m = cpuStageMoments(cpu);
  if (tenant.cores === 0) {
    return {
      waitMs: Infinity,
      serviceMs: m.meanMs,
      utilization: Infinity,
      unstable: {
        stage: 'cpu',
        utilization: Infinity,
        reason: `CPU stage of tenant ${JSON.stringify(tenant.name)} has 0 cores`,
      },
    };
  }
  const lambda = perMs(tenant.rate);
  const servers = cpu.mode === 'mgc' ? tenant.cores : 1;
  const utilization = (lambda * m.meanMs) / servers;
  if (utilization >= 1) {
    return {
      waitMs: Infinity,
      serviceMs: m.meanMs,
      utilization,
      unstable: {
        stage: 'cpu',
        utilization,
        reason: `CPU stage of tenant ${JSON.stringify(tenant.name)} utilisation ${utilization.toFixed(3)} ≥ 1 (${cpu.mode}, ${tenant.cores} cores)`,
      },
    };
  }
  const waitMs = cpu.mode === 'mgc' ? mgcWaitMs(lambda, m, servers) : mg1WaitMs(lambda, m);
  return { waitMs, serviceMs: m.meanMs, utilization };
}

/**
 * Assembles a {@link Prediction} from a TPU analysis and the TPU waiting time a model chose for it (the
 * default passes `tpu.pkWaitMs`; a refinement passes its own), adding each tenant's CPU stage from
 * {@link analyzeCpu}; `tenantWaitMs` (by tenant index) overrides the wait of the tenants it lists (a discipline
 * that is not FIFO waits differently per tenant). R_i = W_T + E[S_T,i] + W_C,i + E[S_C,i]; the objective is Σλ_i R_i / Σλ_i (the plain mean
 * when every rate is 0); any unstable queue makes its tenants' R_i, the objective, and `stable` infinite/false.
 * Never produces NaN: infinities are only ever added, never multiplied by 0.
 */
export function buildPrediction(
  model: string,
  system: SystemSetup,
  tpu: TpuAnalysis,
  tpuWaitMs: number,
  tenantWaitMs?: ReadonlyMap<number, number>,
): Prediction {
  const byIndex = new Map(tpu.classes.map((c) => [c.index, c]));
  const tpuUnstable = tpu.utilization >= 1 || tpuWaitMs === Infinity;
  const tenants: TenantPrediction[] = system.tenants.map((t, i) => {
    const cls = byIndex.get(i);
    const cpu = analyzeCpu(t);
    const usesTpu = cls !== undefined;
    const tpuWait = usesTpu ? (tpuUnstable ? Infinity : (tenantWaitMs?.get(i) ?? tpuWaitMs)) : 0;
    const tpuService = cls?.moments.meanMs ?? 0;
    let unstable: Instability | undefined;
    if (usesTpu && tpuUnstable) {
      unstable = {
        stage: 'tpu',
        utilization: tpu.utilization,
        reason: `Edge TPU utilisation ${tpu.utilization.toFixed(3)} ≥ 1`,
      };
    } else if (cpu.unstable) {
      unstable = cpu.unstable;
    }
    const p: TenantPrediction = {
      name: t.name,
      responseMs: unstable ? Infinity : tpuWait + tpuService + cpu.waitMs + cpu.serviceMs,
      tpuWaitMs: tpuWait,
      tpuServiceMs: tpuService,
      cpuWaitMs: cpu.waitMs,
      cpuServiceMs: cpu.serviceMs,
      tpuUtilization: tpu.utilization,
      cpuUtilization: cpu.utilization,
      switchProbability: cls?.switchProbability ?? 0,
    };
    if (unstable) p.unstable = unstable;
    return p;
  });
  const stable = tenants.every((t) => t.unstable === undefined);
  return { model, tenants, meanResponseMs: stable ? objectiveMs(system, tenants) : Infinity, stable };
}

/**
 * The objective Σλ_iR_i / Σλ_i of per-tenant predictions in system order (the plain mean when every rate is 0).
 */
export function objectiveMs(system: SystemSetup, tenants: readonly TenantPrediction[]): number {
  const totalRate = system.tenants.reduce((s, t) => s + t.rate, 0);
  return totalRate > 0
    ? tenants.reduce((s, p, i) => s + system.tenants[i]!.rate * p.responseMs, 0) / totalRate
    : tenants.reduce((s, p) => s + p.responseMs, 0) / tenants.length;
}

/** Options of {@link createDefaultModel} (none yet; the object is validated against an empty schema). */
export type DefaultModelOptions = Record<string, never>;

/** JSON Schema of the default model's options (the registry validates against it). */
export const DEFAULT_MODEL_OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {},
} as const;

/**
 * Predicts with the default model. Validates `system` first ({@link validateSystem}: a malformed setup throws
 * `InvalidArgumentError`, `SWAPLESS_INVALID_ARGUMENT`).
 */
export function predictDefault(system: SystemSetup): Prediction {
  validateSystem(system);
  // Several devices: one M/G/1 per device over its own tenants (devices.ts); one device: as it always was.
  const budgetMs = reorderBudgetMs(system.discipline, 'system.discipline');
  return predictByDevice(system, DEFAULT_MODEL_NAME, (sub) => {
    if (budgetMs > 0) {
      // Switch-aware discipline: fewer reloads, and calls without reload jump the queue (switch-aware.ts).
      const tpu = analyzeSwitchAwareTpu(sub, budgetMs);
      return buildPrediction(DEFAULT_MODEL_NAME, sub, tpu, tpu.pkWaitMs, tpu.waitByIndex);
    }
    const tpu = analyzeTpu(sub);
    return buildPrediction(DEFAULT_MODEL_NAME, sub, tpu, tpu.pkWaitMs);
  });
}

/** Creates an instance of the default model (stateless: every instance predicts the same). */
export function createDefaultModel(_options: DefaultModelOptions = {}): LatencyModel {
  return Object.freeze({ name: DEFAULT_MODEL_NAME, predict: predictDefault });
}

/** The default analytic model, ready to use: `defaultModel.predict(system)`. */
export const defaultModel: LatencyModel = createDefaultModel();
