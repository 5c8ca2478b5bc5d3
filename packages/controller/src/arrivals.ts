/**
 * Seeded Poisson arrival traces with piecewise-constant rates: the same seed gives the same arrival times to
 * every policy and every oracle candidate (common random numbers).
 */
import { Xoshiro128 } from '@swapless/core';

/** From `atS` (or `atMs`) on, the listed tenants arrive at these rates (req/s); others keep theirs. */
export interface RatePhase {
  atS?: number;
  atMs?: number;
  rates: Readonly<Record<string, number>>;
}

/** Options of {@link poissonArrivals}. */
export interface ArrivalOptions {
  durationMs: number;
  seed?: number;
  phases?: readonly RatePhase[];
}

/** The rate of `name` at time `tMs` (ms) given its base rate and the phases. */
export function rateAt(name: string, base: number, phases: readonly RatePhase[], tMs: number): number {
  let r = base;
  for (const p of phases) {
    const at = p.atMs ?? (p.atS ?? 0) * 1000;
    if (at > tMs) break;
    const v = p.rates[name];
    if (v !== undefined) r = v;
  }
  return r;
}

/**
 * Arrival times (ms, increasing, in [0, durationMs)) per tenant: a Poisson process per tenant whose rate
 * changes at the phases (memorylessness: the next gap is redrawn at a change). Tenant i uses stream i of the seed.
 */
export function poissonArrivals(
  tenants: readonly { name: string; rate: number }[],
  options: ArrivalOptions,
): Record<string, Float64Array> {
  const phases = options.phases ?? [];
  const changes = phases.map((p) => p.atMs ?? (p.atS ?? 0) * 1000);
  const out: Record<string, Float64Array> = {};
  tenants.forEach((t, i) => {
    const rng = new Xoshiro128(options.seed ?? 1, 1000 + i);
    const times: number[] = [];
    let now = 0;
    while (now < options.durationMs) {
      const next = changes.find((c) => c > now) ?? Number.POSITIVE_INFINITY;
      const rate = rateAt(t.name, t.rate, phases, now);
      if (!(rate > 0)) {
        now = next;
        continue;
      }
      const at = now + (rng.exponential() * 1000) / rate;
      if (at >= next) {
        now = next;
        continue;
      }
      if (at >= options.durationMs) break;
      times.push(at);
      now = at;
    }
    out[t.name] = Float64Array.from(times);
  });
  return out;
}
