/**
 * SLO attainment of a bench run per tenant: the share of its responses within `sloMs` — simulated or measured
 * (from the run's CDF quantiles) and predicted (the default model's distributions for the run's last configuration
 * at the workload's first rates) — and whether the quantile at the SLO's percentile is within it.
 */
import type { TenantChoice } from '@swapless/contracts';
import {
  DEFAULT_SLO_PERCENTILE,
  fractionWithin,
  type PlannedTenant,
  predictTails,
  sloLevel,
  systemSetup,
} from '@swapless/controller';

/** One tenant's SLO in a bench result (absent without `sloMs`). */
export interface BenchSlo {
  sloMs: number;
  percentile: 'p95' | 'p99';
  /** Share of the run's responses within `sloMs`. */
  withinSlo: number;
  /** The run's quantile at the percentile is within `sloMs`. */
  met: boolean;
  /** Predicted share within `sloMs` (null when the configuration has no finite prediction). */
  predictedWithinSlo: number | null;
  /** Share of the tenant's requests admitted by the run's last decision. */
  admit: number;
}

/** The SLO of every tenant of a run, in tenant order (null for a tenant without one). */
export function benchSlos(
  tenants: readonly PlannedTenant[],
  cores: number,
  last: readonly TenantChoice[] | undefined,
  run: { p95Ms: number; p99Ms: number; cdf: readonly number[] }[],
): (BenchSlo | null)[] {
  if (!tenants.some((t) => t.sloMs !== undefined)) return tenants.map(() => null);
  let predicted: (number | null)[] = tenants.map(() => null);
  if (last !== undefined && last.length === tenants.length) {
    try {
      predicted = predictTails(systemSetup(tenants, last, cores))?.map((t) => t.withinSlo) ?? predicted;
    } catch {
      // A configuration outside the catalogs (cannot happen for the built-in policies): no prediction.
    }
  }
  return tenants.map((t, j) => {
    if (t.sloMs === undefined) return null;
    const percentile = t.sloPercentile ?? DEFAULT_SLO_PERCENTILE;
    const r = run[j]!;
    return {
      sloMs: t.sloMs,
      percentile,
      withinSlo: r.cdf.length > 0 ? fractionWithin(r.cdf, t.sloMs) : Number.NaN,
      met: (sloLevel(percentile) === 0.95 ? r.p95Ms : r.p99Ms) <= t.sloMs,
      predictedWithinSlo: predicted[j] ?? null,
      admit: last?.[j]?.admit ?? 1,
    };
  });
}
