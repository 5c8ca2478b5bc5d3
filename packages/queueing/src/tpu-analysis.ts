/**
 * What the Edge TPU analysis of a system yields — shared by the FIFO model (model.ts) and the switch-aware
 * discipline's (switch-aware.ts), which both produce it.
 */
import type { Moments } from './formulas.js';

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
