/**
 * Offline planning: the best configuration of a workload under a latency model, beside the baselines
 * (whole model on the Edge TPU as the default compiler does, CPU only, a fixed middle cut), each optionally
 * checked in the simulator.
 */
import type { DeviceSetup, Prediction, SloPercentile, SystemSetup, TenantChoice } from '@swapless/contracts';
import { type DeviceUtilization, deviceUtilizations, responseDistributions } from '@swapless/queueing';
import type { SimResult } from '@swapless/sim';
import { fastSearchApplicable } from './fast.js';
import {
  hasSeveralDevices,
  perDevicePredictor,
  placedSystem,
  searchPlacement,
  spreadOverDevices,
} from './placement.js';
import { type BaselinePolicy, baselineChoices, type Predictor, searchConfiguration } from './search.js';
import { type PlannedTenant, systemSetup } from './setup.js';
import {
  DEFAULT_SLO_PERCENTILE,
  hasSlo,
  type SloPlan,
  simulatedAttainment,
  sloLevel,
  sloPlan,
} from './slo.js';

/** Simulated latency of one tenant. */
export interface SimulatedTenant {
  name: string;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  completed: number;
  /** Response-time quantiles at the simulator's `CDF_LEVELS` (0.01 … 0.99, 0.999), ms. */
  cdfMs?: number[];
  /** Simulated fraction of responses within the tenant's `sloMs` (absent without one). */
  withinSlo?: number;
  /** Whether the simulated quantile at the SLO's percentile is within `sloMs` (absent without an SLO). */
  sloMet?: boolean;
}

/** Simulated latency of a whole configuration. */
export interface SimulatedSystem {
  meanResponseMs: number;
  tenants: SimulatedTenant[];
  swaps: number;
}

/** What {@link SimulatedSystem} keeps of a simulator run (`@swapless/sim`'s `simulate`). */
export function simulatedSystem(r: SimResult): SimulatedSystem {
  return {
    meanResponseMs: r.meanResponseMs,
    swaps: r.swaps,
    tenants: r.tenants.map((t) => ({
      name: t.name,
      meanMs: t.meanResponseMs,
      p50Ms: t.p50Ms,
      p95Ms: t.p95Ms,
      p99Ms: t.p99Ms,
      completed: t.completed,
      cdfMs: t.cdfMs,
    })),
  };
}

/** Runs one configuration in the simulator (injected so planning stays independent of how it is simulated). */
export type Simulator = (system: SystemSetup) => SimulatedSystem;

/** The plan of one policy. */
export interface PolicyPlan {
  policy: 'swapless' | BaselinePolicy;
  /** Null when the policy cannot run this workload (see `reason`). */
  choices: TenantChoice[] | null;
  prediction: Prediction | null;
  /**
   * Predicted tails per tenant (`responseDistributions` of `@swapless/queueing`: the default model's assumptions,
   * whatever `model` predicted the means), with the share of responses within the tenant's `sloMs` when it has
   * one; null without a configuration or when it is unstable.
   */
  tails: PredictedTail[] | null;
  simulated: SimulatedSystem | null;
  reason?: string;
  /** With several devices: each device's tenants and predicted Edge TPU utilisation (choices carry `device`). */
  devices?: DeviceUtilization[];
  /**
   * SwapLess's plan when a tenant has an SLO: whether the search's bound meets them all, the admitted fraction
   * per tenant (1: nothing shed) and what the SLOs changed ('' when nothing).
   */
  slo?: { feasible: boolean; admit: number[]; reason: string };
}

/** One tenant's predicted tail latency. */
export interface PredictedTail {
  name: string;
  p95Ms: number;
  p99Ms: number;
  /** The tenant's latency objective, ms (null: none). */
  sloMs: number | null;
  /** Predicted fraction of responses within `sloMs` (null without one). */
  withinSlo: number | null;
  /** The percentile `sloMs` bounds (null without an SLO). */
  sloPercentile: SloPercentile | null;
  /** Predicted response time at that percentile, ms (null without an SLO). */
  sloQuantileMs: number | null;
  /** Whether it is within `sloMs` (null without an SLO). */
  sloMet: boolean | null;
}

/** The predicted tails of a configured system (null when a tenant is unstable). */
export function predictTails(system: SystemSetup): PredictedTail[] | null {
  const dists = responseDistributions(system);
  if (dists.some((d) => !Number.isFinite(d.meanMs))) return null;
  return dists.map((d, i) => {
    const t = system.tenants[i]!;
    const slo = t.sloMs;
    const at = slo === undefined ? null : d.quantileMs(sloLevel(t.sloPercentile));
    return {
      name: d.name,
      p95Ms: d.quantileMs(0.95),
      p99Ms: d.quantileMs(0.99),
      sloMs: slo ?? null,
      withinSlo: slo === undefined ? null : d.cdf(slo),
      sloPercentile: slo === undefined ? null : (t.sloPercentile ?? DEFAULT_SLO_PERCENTILE),
      sloQuantileMs: at,
      sloMet: at === null ? null : at <= slo!,
    };
  });
}

/** Result of {@link planWorkload}. */
export interface PlanResult {
  model: string;
  cores: number;
  /** SwapLess first, then the baselines. */
  plans: PolicyPlan[];
  search: { method: string; evaluated: number; ms: number };
}

/** Options of {@link planWorkload}. */
export interface PlanOptions {
  device?: string;
  /** The host's Edge TPUs: with several, the plan also places each tenant on one (see `searchPlacement`). */
  devices?: readonly DeviceSetup[];
  simulate?: Simulator;
  exhaustiveLimit?: number;
}

/** Plans a workload: SwapLess's choice under `model`, and the three baselines, predicted and (optionally) simulated. */
export function planWorkload(
  tenants: readonly PlannedTenant[],
  cores: number,
  model: Predictor,
  options: PlanOptions = {},
): PlanResult {
  const started = performance.now();
  const devices = options.devices;
  const several = hasSeveralDevices(devices);
  const found = several
    ? multiDeviceSearch(tenants, cores, model, devices ?? [], options)
    : searchConfiguration(tenants, cores, model, {
        ...(options.device !== undefined ? { device: options.device } : {}),
        ...(options.exhaustiveLimit !== undefined ? { exhaustiveLimit: options.exhaustiveLimit } : {}),
      });
  // With SLOs (fast path, one device), SwapLess's plan is the SLO-constrained one, with admission control.
  const slo: SloPlan | null =
    !several && hasSlo(tenants) && fastSearchApplicable(tenants)
      ? sloPlan(tenants, cores, found.choices, { bestMeanMs: found.prediction.meanResponseMs })
      : null;
  const ms = performance.now() - started;
  const plans: PolicyPlan[] = [];
  const predictor = several ? perDevicePredictor(model) : model;
  const finish = (
    policy: PolicyPlan['policy'],
    choices: TenantChoice[] | null,
    prediction: Prediction | null,
    reason?: string,
    sloPart?: SloPlan,
  ) => {
    const system =
      choices === null
        ? null
        : several
          ? { ...placedSystem(tenants, choices, cores, devices ?? []), ...deviceOf(options) }
          : systemSetup(tenants, choices, cores, options.device);
    const predicted = prediction ?? (system === null ? null : predictor.predict(system));
    const simulated = system === null || options.simulate === undefined ? null : options.simulate(system);
    plans.push({
      policy,
      choices,
      prediction: predicted,
      tails: system === null ? null : predictTails(system),
      simulated: simulated === null ? null : simulatedAttainment(simulated, system!),
      ...(reason !== undefined ? { reason } : {}),
      ...(several && system !== null && predicted !== null
        ? { devices: deviceUtilizations(system, predicted) }
        : {}),
      ...(sloPart
        ? { slo: { feasible: sloPart.feasible, admit: sloPart.admit, reason: sloPart.reason } }
        : {}),
    });
  };
  if (slo === null || slo.reason === '')
    finish('swapless', found.choices, found.prediction, undefined, slo ?? undefined);
  else finish('swapless', slo.choices, null, undefined, slo);
  for (const policy of ['default', 'cpu', 'fixed'] as const) {
    const base = baselineChoices(policy, tenants, cores);
    const choices = base !== null && several ? spreadOverDevices(tenants, base, devices ?? []) : base;
    finish(
      policy,
      choices,
      null,
      choices === null ? `needs a CPU core per tenant: ${tenants.length} tenants, ${cores} cores` : undefined,
    );
  }
  return {
    model: model.name,
    cores,
    plans,
    search: { method: found.method, evaluated: found.evaluated, ms },
  };
}

const deviceOf = (options: PlanOptions) => (options.device !== undefined ? { device: options.device } : {});

/** {@link planWorkload}'s search on several devices: placement, cuts and cores ({@link searchPlacement}). */
function multiDeviceSearch(
  tenants: readonly PlannedTenant[],
  cores: number,
  model: Predictor,
  devices: readonly DeviceSetup[],
  options: PlanOptions,
): { choices: TenantChoice[]; prediction: Prediction; method: string; evaluated: number } {
  const r = searchPlacement(tenants, cores, devices, {
    model,
    ...(options.exhaustiveLimit !== undefined ? { exhaustiveLimit: options.exhaustiveLimit } : {}),
  });
  const system = { ...placedSystem(tenants, r.choices, cores, devices), ...deviceOf(options) };
  return {
    choices: r.choices,
    prediction: perDevicePredictor(model).predict(system),
    method: `placement (${r.placements} placements, ${r.pruned} pruned)`,
    evaluated: r.searches,
  };
}
