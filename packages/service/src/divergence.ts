/**
 * Predicted against measured, per tenant: the ratio of the measured mean response to the predicted one over a
 * sliding window of completions, and when it has stayed more than `threshold` away from 1 for `holdMs`, a re-plan
 * (once; the condition must then hold another `holdMs` before the next). Pure bookkeeping on the times it is given
 * (epoch ms of the caller's clock), so it is tested with a simulated clock.
 */

/** What the service reports per tenant (`TenantStatus.divergence`). */
export interface TenantDivergence {
  /** Measured / predicted mean response over the window (null: too few completions or no prediction). */
  ratio: number | null;
  /** Measured mean response over the window, ms. */
  measuredMs: number | null;
  /** Predicted mean response over the same completions, ms. */
  predictedMs: number | null;
  /** Since when (epoch ms) |ratio − 1| has exceeded the threshold without a break; null while it does not. */
  sinceMs: number | null;
}

/** Options of {@link DivergenceTracker}. */
export interface DivergenceOptions {
  /** Completions considered, ms before now (default 10,000). */
  windowMs?: number;
  /** How long the divergence must hold before a re-plan, ms (default 10,000). */
  holdMs?: number;
  /** Largest |ratio − 1| still counted as agreement (default 0.25). */
  threshold?: number;
  /** Fewest completions in the window for a ratio (default 5). */
  minCompletions?: number;
}

interface Slice {
  atMs: number;
  count: number;
  /** Σ measured response of the slice's completions, ms. */
  measuredSumMs: number;
  /** Σ predicted response over the same completions (the prediction in force when they completed), ms. */
  predictedSumMs: number;
}

interface TenantTrack {
  slices: Slice[];
  status: TenantDivergence;
  /** When the current divergence was last acted on (re-plan), epoch ms; null: not yet. */
  actedMs: number | null;
}

const NONE: TenantDivergence = Object.freeze({
  ratio: null,
  measuredMs: null,
  predictedMs: null,
  sinceMs: null,
}) as TenantDivergence;

/** Per-tenant divergence of measured from predicted mean response, and when it warrants a re-plan. */
export class DivergenceTracker {
  readonly windowMs: number;
  readonly holdMs: number;
  readonly threshold: number;
  readonly minCompletions: number;
  readonly #tenants = new Map<string, TenantTrack>();

  constructor(options: DivergenceOptions = {}) {
    this.windowMs = options.windowMs ?? 10_000;
    this.holdMs = options.holdMs ?? 10_000;
    this.threshold = options.threshold ?? 0.25;
    this.minCompletions = options.minCompletions ?? 5;
  }

  /**
   * Records one tick of `tenant` ending at `atMs`: `count` completions of mean `meanMs` (null when none), while
   * `predictedMs` was the prediction (null: none), and updates its status. Returns the status.
   */
  record(
    tenant: string,
    atMs: number,
    count: number,
    meanMs: number | null,
    predictedMs: number | null,
  ): TenantDivergence {
    let t = this.#tenants.get(tenant);
    if (t === undefined) {
      t = { slices: [], status: NONE, actedMs: null };
      this.#tenants.set(tenant, t);
    }
    if (count > 0 && meanMs !== null && Number.isFinite(meanMs)) {
      // A tick without a prediction counts its completions as agreeing with... nothing: they are left out.
      if (predictedMs !== null && Number.isFinite(predictedMs) && predictedMs > 0)
        t.slices.push({ atMs, count, measuredSumMs: meanMs * count, predictedSumMs: predictedMs * count });
    }
    while (t.slices.length > 0 && t.slices[0]!.atMs <= atMs - this.windowMs) t.slices.shift();
    let count_ = 0;
    let measured = 0;
    let predicted = 0;
    for (const s of t.slices) {
      count_ += s.count;
      measured += s.measuredSumMs;
      predicted += s.predictedSumMs;
    }
    if (count_ < this.minCompletions || !(predicted > 0)) {
      t.status = NONE;
      t.actedMs = null;
      return t.status;
    }
    const ratio = measured / predicted;
    const off = Math.abs(ratio - 1) > this.threshold;
    const sinceMs = off ? (t.status.sinceMs ?? atMs) : null;
    if (!off) t.actedMs = null;
    t.status = { ratio, measuredMs: measured / count_, predictedMs: predicted / count_, sinceMs };
    return t.status;
  }

  /** The tenant's current status (all null for an unknown tenant). */
  status(tenant: string): TenantDivergence {
    return this.#tenants.get(tenant)?.status ?? NONE;
  }

  /**
   * Tenants whose divergence has held for `holdMs` at `nowMs` — since it started, or since it was last acted on.
   * When there is one, every diverging tenant is marked as acted on now: the caller re-plans the whole system once
   * for all of them, and each needs another `holdMs` of divergence before the next re-plan.
   */
  takeDue(nowMs: number): string[] {
    const due: string[] = [];
    for (const [name, t] of this.#tenants) {
      const since = t.status.sinceMs;
      if (since !== null && nowMs - Math.max(since, t.actedMs ?? since) >= this.holdMs) due.push(name);
    }
    if (due.length > 0)
      for (const t of this.#tenants.values()) if (t.status.sinceMs !== null) t.actedMs = nowMs;
    return due;
  }

  /** Forgets a tenant (removed). */
  forget(tenant: string): void {
    this.#tenants.delete(tenant);
  }
}
