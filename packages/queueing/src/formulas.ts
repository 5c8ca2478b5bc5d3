/**
 * Closed-form building blocks of the queueing models: moments of measured samples, the Pollaczek–Khinchine
 * mean wait of an M/G/1 queue, the Erlang-C probability of waiting and the Allen–Cunneen / Lee–Longton M/G/c
 * approximation. Pure functions of numbers; every rate here is **per millisecond** and every time in ms, so the
 * callers convert λ (requests per second) once, with {@link perMs}.
 *
 * Exported so plugin authors build on the same formulas and tests can check them against M/M/1, M/D/1 and M/M/c
 * closed forms with analytic moments (docs/queueing.md).
 */

/** First and second moment of a service time, ms and ms². */
export interface Moments {
  /** E[S], ms. */
  readonly meanMs: number;
  /** E[S²], ms². */
  readonly secondMomentMs2: number;
}

/** Converts a rate in requests per second to requests per millisecond. */
export function perMs(ratePerS: number): number {
  return ratePerS / 1000;
}

/**
 * Moments of the empirical distribution of `samples` (each sample weight 1/n): E[S] = Σx/n, E[S²] = Σx²/n.
 * The population form (1/n, not n − 1) because the simulator resamples exactly these values, so the model and
 * the simulation then describe the same distribution. The caller guarantees a non-empty array of finite numbers.
 */
export function sampleMoments(samples: readonly number[]): Moments {
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    s1 += x;
    s2 += x * x;
  }
  return { meanMs: s1 / samples.length, secondMomentMs2: s2 / samples.length };
}

/**
 * Moments of `base + B · extra` with `base` of mean `meanMs` and variance `varianceMs2`, and B ~ Bernoulli(p)
 * independent of it: E = m + p·r, E[·²] = v + m² + 2·m·r·p + r²·p (B² = B).
 */
export function bernoulliExtraMoments(
  meanMs: number,
  varianceMs2: number,
  extraMs: number,
  p: number,
): Moments {
  return {
    meanMs: meanMs + p * extraMs,
    secondMomentMs2: varianceMs2 + meanMs * meanMs + 2 * meanMs * extraMs * p + extraMs * extraMs * p,
  };
}

/**
 * Pollaczek–Khinchine mean waiting time (in queue) of an M/G/1 FCFS queue: W = λ·E[S²] / (2(1 − ρ)), ρ = λ·E[S].
 * Returns Infinity when ρ ≥ 1 and 0 when λ = 0.
 * @param ratePerMs λ, arrivals per ms.
 */
export function mg1WaitMs(ratePerMs: number, m: Moments): number {
  if (ratePerMs === 0) return 0;
  const rho = ratePerMs * m.meanMs;
  if (rho >= 1) return Infinity;
  return (ratePerMs * m.secondMomentMs2) / (2 * (1 - rho));
}

/**
 * Erlang-C: probability that an arrival waits in an M/M/c queue with offered load `a` = λ/μ Erlangs, computed
 * through the Erlang-B recursion B(k) = a·B(k−1) / (k + a·B(k−1)) (no factorials, stable for large c), then
 * C = B / (1 − (a/c)(1 − B)). Returns 1 when a ≥ c (every arrival waits, the queue is unstable).
 */
export function erlangC(servers: number, offeredLoad: number): number {
  if (offeredLoad <= 0) return 0;
  if (offeredLoad >= servers) return 1;
  let b = 1;
  for (let k = 1; k <= servers; k++) b = (offeredLoad * b) / (k + offeredLoad * b);
  const rho = offeredLoad / servers;
  return b / (1 - rho * (1 - b));
}

/**
 * Mean wait of an M/G/c FCFS queue by the Allen–Cunneen (Lee–Longton for Poisson arrivals) approximation: the
 * exact M/M/c wait, W_MMc = C(c, a)·E[S] / (c − a), scaled by (1 + C_s²)/2 with C_s² = E[S²]/E[S]² − 1. That
 * simplifies to W = C(c, a)·E[S²] / (2·E[S]·(c − a)). Exact for M/M/c (C_s² = 1) and, at c = 1, identical to
 * Pollaczek–Khinchine. Returns Infinity when a = λE[S] ≥ c, 0 when λ = 0 or E[S] = 0.
 */
export function mgcWaitMs(ratePerMs: number, m: Moments, servers: number): number {
  if (ratePerMs === 0 || m.meanMs === 0) return 0;
  const a = ratePerMs * m.meanMs;
  if (a >= servers) return Infinity;
  return (erlangC(servers, a) * m.secondMomentMs2) / (2 * m.meanMs * (servers - a));
}
