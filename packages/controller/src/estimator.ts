/**
 * Arrival-rate and mix estimation from observed arrival times, with a change detector.
 *
 * Each tenant keeps the arrival times of its current *regime* (at most `longWindowMs`). The rate estimate is
 * the regime's count over its length — a sliding window that restarts at a detected change. At every
 * {@link RateEstimator.update} the last `w` ms (w in `testWindowsMs`, e.g. 1, 2, 4, 8 s) are compared with the
 * regime before them by a two-sample Poisson likelihood-ratio (G) test ({@link poissonG2}; conditioned on the
 * total, the split between reference and window is binomial), asymptotically χ²₁. G above `threshold` is a change: the regime
 * restarts at the start of that test window, so the estimate follows the new rate at once. Several window
 * lengths catch large steps fast (short windows) and small ones surely (long windows).
 *
 * Mixes change together: a load step usually moves several tenants at once, and a drop shows later than a rise
 * (it takes longer for missing arrivals to become evidence). So once a tenant's change is detected at a split
 * point, every other tenant is tested at that same split against the lower `jointThreshold`: a change that is
 * likely given the first one is taken on less evidence, and the controller re-plans once for the new mix instead
 * of once for a half-updated one and again when the rest shows.
 */
import { expected, InvalidArgumentError } from '@swapless/core';

/** Options of {@link RateEstimator}. */
export interface RateEstimatorOptions {
  /** Longest history a rate estimate uses, ms (default 30,000). */
  longWindowMs?: number;
  /** Lengths of the recent windows tested against the regime, ms (default [1000, 2000, 4000, 8000]). */
  testWindowsMs?: readonly number[];
  /**
   * G-statistic threshold (default 20, i.e. χ²₁ tail ≈ 8·10⁻⁶ per test: with 4 windows tested each second,
   * about one false alarm per 8 hours per tenant on a stationary stream).
   */
  threshold?: number;
  /** A test window is only used when the reference part of the regime is at least this long, ms (default 2,000). */
  minReferenceMs?: number;
  /**
   * G threshold of the joint test: once a tenant's change is detected, the others are tested at the same split
   * against this (default 6, a χ²₁ tail ≈ 0.014; ≥ `threshold` turns the joint test off).
   */
  jointThreshold?: number;
  /** Prior rates (req/s) used before anything was observed. */
  priors?: Readonly<Record<string, number>>;
}

/** Estimates at one instant. */
export interface RateSnapshot {
  /** Virtual or wall time of the snapshot, ms. */
  timeMs: number;
  /** Estimated rate per tenant, requests per second. */
  rates: Record<string, number>;
  /** Share of each tenant in the total rate (0 for every tenant when the total is 0). */
  mix: Record<string, number>;
  /** True when a change was detected in this update for at least one tenant. */
  changed: boolean;
  /** Tenants whose rate changed in this update. */
  changedTenants: string[];
  /** Length of each tenant's current regime, ms (short right after a change: the estimate is noisier). */
  regimeMs: Record<string, number>;
}

/** Per-tenant arrival history: a growable ring of sorted times. */
class History {
  times: number[] = [];
  head = 0;
  regimeStart: number;
  changedOnce = false;
  constructor(
    public readonly prior: number | undefined,
    start: number,
  ) {
    this.regimeStart = start;
  }
  push(t: number): void {
    const n = this.times.length;
    if (n > this.head && t < this.times[n - 1]!) {
      // Out of order (e.g. batches from several workers): insert in place, keeps the array sorted.
      let i = n;
      while (i > this.head && this.times[i - 1]! > t) i--;
      this.times.splice(i, 0, t);
    } else this.times.push(t);
  }
  /** Arrivals with time in [from, to). */
  count(from: number, to: number): number {
    return this.lowerBound(to) - this.lowerBound(from);
  }
  private lowerBound(x: number): number {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  dropBefore(t: number): void {
    this.head = this.lowerBound(t);
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}

/** Poisson likelihood-ratio statistic of n observed against mean μ. */
export function poissonG(n: number, mu: number): number {
  if (mu <= 0) return n > 0 ? Infinity : 0;
  return 2 * ((n > 0 ? n * Math.log(n / mu) : 0) - (n - mu));
}

/**
 * Two-sample Poisson likelihood-ratio statistic: n1 arrivals in t1 against n2 in t2 (same rate under H0).
 * Conditioned on n1 + n2 the split is binomial, so the reference's own noise is accounted for (a one-sample
 * test against a short, noisy reference raises false alarms).
 */
export function poissonG2(n1: number, t1: number, n2: number, t2: number): number {
  const n = n1 + n2;
  if (n === 0) return 0;
  const e1 = (n * t1) / (t1 + t2);
  const e2 = n - e1;
  return 2 * ((n1 > 0 ? n1 * Math.log(n1 / e1) : 0) + (n2 > 0 ? n2 * Math.log(n2 / e2) : 0));
}

/**
 * Sliding-window rate estimator with a multi-window Poisson change detector. Feed it arrival times
 * ({@link observe}), ask for estimates ({@link update}) at any cadence, e.g. every controller tick.
 */
export class RateEstimator {
  private readonly histories = new Map<string, History>();
  private readonly longWindowMs: number;
  private readonly testWindows: readonly number[];
  private readonly threshold: number;
  private readonly minReferenceMs: number;
  private readonly jointThreshold: number;

  /** @param tenants Tenant names (fixed). @param startMs Time observation starts (default 0). */
  constructor(tenants: readonly string[], options: RateEstimatorOptions = {}, startMs = 0) {
    this.longWindowMs = options.longWindowMs ?? 30_000;
    this.testWindows = [...(options.testWindowsMs ?? [1000, 2000, 4000, 8000])].sort((a, b) => a - b);
    this.threshold = options.threshold ?? 20;
    this.minReferenceMs = options.minReferenceMs ?? 2000;
    this.jointThreshold = options.jointThreshold ?? 6;
    if (
      !(this.longWindowMs > 0) ||
      this.testWindows.some((w) => !(w > 0)) ||
      !(this.threshold > 0) ||
      !(this.jointThreshold > 0)
    )
      throw new InvalidArgumentError(
        expected('positive windows and threshold', 'RateEstimator options', options),
      );
    for (const t of tenants) this.histories.set(t, new History(options.priors?.[t], startMs));
  }

  /** Records one arrival of `tenant` at `timeMs`. Unknown tenants are ignored (returns false). */
  observe(tenant: string, timeMs: number): boolean {
    const h = this.histories.get(tenant);
    if (h === undefined) return false;
    h.push(timeMs);
    return true;
  }

  /** Estimates at `nowMs`, running the change test first. Arrivals at or after `nowMs` are not counted yet. */
  update(nowMs: number): RateSnapshot {
    const rates: Record<string, number> = {};
    const regimeMs: Record<string, number> = {};
    const changedTenants: string[] = [];
    const changes = new Map<string, number>();
    for (const [name, h] of this.histories) {
      h.regimeStart = Math.max(h.regimeStart, nowMs - this.longWindowMs);
      h.dropBefore(h.regimeStart);
      // Shortest test window first: the fastest detection, and a change point that surely lies after the
      // step (a longer window would mix pre-change arrivals into the new regime).
      for (const w of this.testWindows) {
        if (this.#differs(h, nowMs - w, nowMs, this.threshold)) {
          changes.set(name, nowMs - w);
          break;
        }
      }
    }
    // The joint test: the others at the earliest detected split, on less evidence.
    if (changes.size > 0 && this.jointThreshold < this.threshold) {
      const split = Math.min(...changes.values());
      for (const [name, h] of this.histories) {
        if (!changes.has(name) && this.#differs(h, split, nowMs, this.jointThreshold))
          changes.set(name, split);
      }
    }
    for (const [name, h] of this.histories) {
      const changeAt = changes.get(name) ?? null;
      if (changeAt !== null) {
        h.regimeStart = changeAt;
        h.dropBefore(changeAt);
        changedTenants.push(name);
      }
      const len = nowMs - h.regimeStart;
      regimeMs[name] = len;
      const n = h.count(h.regimeStart, nowMs);
      if (changeAt !== null || h.changedOnce) h.changedOnce = true;
      // Before the first change, a prior acts as one second of pseudo-observations at the prior rate.
      const pseudoMs = h.prior !== undefined && !h.changedOnce ? 1000 : 0;
      const pseudo = pseudoMs > 0 ? h.prior! : 0;
      rates[name] = len + pseudoMs > 0 ? (n * 1000 + pseudo * pseudoMs) / (len + pseudoMs) : 0;
    }
    const total = Object.values(rates).reduce((s, r) => s + r, 0);
    const mix: Record<string, number> = {};
    for (const name of Object.keys(rates)) mix[name] = total > 0 ? rates[name]! / total : 0;
    return { timeMs: nowMs, rates, mix, changed: changedTenants.length > 0, changedTenants, regimeMs };
  }

  /** Whether the arrivals of [split, now) differ from the regime before `split` (G > `threshold`). */
  #differs(h: History, split: number, nowMs: number, threshold: number): boolean {
    const refMs = split - h.regimeStart;
    if (refMs < this.minReferenceMs || !(nowMs > split)) return false;
    return poissonG2(h.count(h.regimeStart, split), refMs, h.count(split, nowMs), nowMs - split) > threshold;
  }
}
