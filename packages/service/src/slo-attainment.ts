/**
 * Live SLO attainment per tenant: of the requests completed, the share within the tenant's `sloMs` — per tick
 * window (the series) and since the tenant was added (its status), against the SLO's percentile.
 */
import type { SloPercentile } from '@swapless/contracts';
import { DEFAULT_SLO_PERCENTILE, sloLevel } from '@swapless/controller';
import { expected, InvalidArgumentError } from '@swapless/core';

/** A tenant spec's SLO percentile, checked: null without `sloMs`. */
export function sloPercentileOf(
  sloMs: number | null,
  percentile: unknown,
  name: string,
): SloPercentile | null {
  if (percentile !== undefined && percentile !== 'p95' && percentile !== 'p99')
    throw new InvalidArgumentError(expected("'p95' or 'p99'", `the sloPercentile of ${name}`, percentile));
  if (percentile !== undefined && sloMs === null)
    throw new InvalidArgumentError(expected('an sloMs with the sloPercentile', `tenant ${name}`, percentile));
  return sloMs === null ? null : ((percentile as SloPercentile | undefined) ?? DEFAULT_SLO_PERCENTILE);
}

/** The running counts of every tenant with an SLO. */
export class SloAttainment {
  readonly #counts = new Map<string, { within: number; completed: number }>();

  /** Counts a tick's completed latencies of tenant `name`; the window's fraction within `sloMs` (null: none). */
  record(name: string, sloMs: number | null, latenciesMs: readonly number[]): number | null {
    if (sloMs === null || latenciesMs.length === 0) return null;
    let within = 0;
    for (const l of latenciesMs) if (l <= sloMs) within++;
    const c = this.#counts.get(name) ?? { within: 0, completed: 0 };
    c.within += within;
    c.completed += latenciesMs.length;
    this.#counts.set(name, c);
    return within / latenciesMs.length;
  }

  /** The SLO part of a tenant's status (null without an SLO). */
  status(
    name: string,
    sloMs: number | null,
    percentile: SloPercentile | null,
  ): { percentile: SloPercentile; attainment: number | null; completed: number; met: boolean | null } | null {
    if (sloMs === null || percentile === null) return null;
    const c = this.#counts.get(name);
    const attainment = c === undefined || c.completed === 0 ? null : c.within / c.completed;
    return {
      percentile,
      attainment,
      completed: c?.completed ?? 0,
      met: attainment === null ? null : attainment >= sloLevel(percentile),
    };
  }

  /** Forgets a removed tenant. */
  forget(name: string): void {
    this.#counts.delete(name);
  }
}
