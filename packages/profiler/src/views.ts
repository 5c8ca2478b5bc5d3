/**
 * Read-only views of a profile for the queueing model, the controller, the simulator, the bench and the CLI.
 * They accept any validated profile (from `profileModel`, `loadProfile` or `validateProfile`).
 */
import { expected, InvalidArgumentError, InvalidCutError } from '@swapless/core';
import type { CutProfile, Measurement, PartName, Profile } from './types.js';

/** The cut points a profile holds, ascending. */
export function profiledCuts(profile: Profile): number[] {
  return profile.cuts.map((c) => c.k);
}

/** The thread counts a profile holds, ascending. */
export function profiledThreads(profile: Profile): number[] {
  return [...profile.settings.threads];
}

/** The profiled cut k; `InvalidCutError` listing the profiled cuts when k was not profiled. */
export function cutProfile(profile: Profile, k: number): CutProfile {
  const cut = profile.cuts.find((c) => c.k === k);
  if (cut === undefined) {
    const list = profiledCuts(profile);
    throw new InvalidCutError(
      expected(
        `one of the profiled cut points (${list.join(', ')})`,
        `a profile of ${profile.model.n} ops`,
        k,
      ),
      { details: { k: typeof k === 'number' ? k : String(k), profiled: list } },
    );
  }
  return cut;
}

/**
 * An empty side of a cut (the prefix at k = 0, the suffix at k = n) costs nothing on the CPU: a measurement of
 * `repetitions` zero samples, so a simulator drawing from `samples` needs no special case.
 */
function zeroMeasurement(profile: Profile, threads: number): Measurement {
  return Object.freeze({
    threads,
    samples: Object.freeze(new Array<number>(profile.settings.repetitions).fill(0)) as number[],
    median: 0,
    mean: 0,
    std: 0,
    min: 0,
    max: 0,
    p10: 0,
    p90: 0,
  });
}

/**
 * The measurement of one side of cut k at a thread count. An empty side gives a zero measurement.
 * `InvalidCutError` for an unprofiled k, `InvalidArgumentError` for an unprofiled thread count.
 */
export function partTime(profile: Profile, k: number, part: PartName, threads: number): Measurement {
  const cut = cutProfile(profile, k);
  if (!profile.settings.threads.includes(threads)) {
    throw new InvalidArgumentError(
      expected(
        `one of the profiled thread counts (${profile.settings.threads.join(', ')})`,
        'threads',
        threads,
      ),
      { details: { threads, profiled: profile.settings.threads } },
    );
  }
  const side = cut[part];
  if (side === null) return zeroMeasurement(profile, threads);
  return side.measurements.find((m) => m.threads === threads)!;
}

/** CPU service time of the suffix [k,n) at `threads` (zero at k = n). See {@link partTime} for errors. */
export function suffixTime(profile: Profile, k: number, threads: number): Measurement {
  return partTime(profile, k, 'suffix', threads);
}

/** CPU time of the prefix [0,k) at `threads` (zero at k = 0): CPU-only and reference runs. */
export function prefixTime(profile: Profile, k: number, threads: number): Measurement {
  return partTime(profile, k, 'prefix', threads);
}

/** One place where a part's time moves the wrong way between two consecutive profiled cuts. */
export interface MonotonicityViolation {
  threads: number;
  /** The smaller cut of the pair. */
  from: number;
  /** The next profiled cut. */
  to: number;
  /** Median at `from` and at `to`, ms. */
  fromMedian: number;
  toMedian: number;
  /** How much the time grew in the wrong direction, ms (positive), and as a fraction of the smaller median. */
  excessMs: number;
  excessRatio: number;
}

/** Options of {@link monotonicity}. */
export interface MonotonicityOptions {
  /** `suffix` (default): time must not increase with k. `prefix`: time must not decrease with k. */
  part?: PartName;
  /**
   * Minimum relative change counted as a violation (default 0.05): below it a difference is within what
   * timer resolution and per-invoke overhead make of tiny parts, whatever the spread says.
   */
  tolerance?: number;
}

/** Result of {@link monotonicity}. */
export interface MonotonicityReport {
  part: PartName;
  /** True when no violation was found at any thread count. */
  monotone: boolean;
  /** Number of consecutive cut pairs compared (over all thread counts). */
  pairs: number;
  tolerance: number;
  violations: MonotonicityViolation[];
}

/**
 * Checks that the suffix time does not grow as k grows (or the prefix time does not shrink), per thread
 * count, between consecutive profiled cuts with a non-empty side. A pair is a violation only when it is
 * beyond noise on both counts: the medians differ by more than `tolerance` (relative), and the two
 * distributions are separated (the later cut's p10 is above the earlier cut's p90 for the suffix, the other
 * way round for the prefix). A violation means a larger part ran measurably faster than a smaller one —
 * a real effect worth knowing (XNNPACK partitioning, a cut that adds an extra graph input, thread-pool
 * overhead on a tiny part) or a noisy machine; either way the queueing model should not trust the pair.
 */
export function monotonicity(profile: Profile, options: MonotonicityOptions = {}): MonotonicityReport {
  const part = options.part ?? 'suffix';
  const tolerance = options.tolerance ?? 0.05;
  if (part !== 'suffix' && part !== 'prefix') {
    throw new InvalidArgumentError(expected("'suffix' or 'prefix'", 'options.part', part));
  }
  if (typeof tolerance !== 'number' || !(tolerance >= 0) || !Number.isFinite(tolerance)) {
    throw new InvalidArgumentError(expected('a finite number ≥ 0', 'options.tolerance', tolerance));
  }
  const violations: MonotonicityViolation[] = [];
  let pairs = 0;
  const cuts = profile.cuts.filter((c) => c[part] !== null);
  for (const threads of profile.settings.threads) {
    for (let i = 1; i < cuts.length; i++) {
      const a = partTime(profile, cuts[i - 1]!.k, part, threads);
      const b = partTime(profile, cuts[i]!.k, part, threads);
      pairs += 1;
      // For the suffix the later cut (b) should be faster; for the prefix the earlier one (a).
      const [small, large] = part === 'suffix' ? [b, a] : [a, b];
      const excessMs = small.median - large.median;
      if (excessMs > tolerance * large.median && small.p10 > large.p90) {
        violations.push({
          threads,
          from: cuts[i - 1]!.k,
          to: cuts[i]!.k,
          fromMedian: a.median,
          toMedian: b.median,
          excessMs,
          // A zero-time part cannot occur for a non-empty side; 0 keeps the report JSON-safe regardless.
          excessRatio: large.median > 0 ? excessMs / large.median : 0,
        });
      }
    }
  }
  return { part, monotone: violations.length === 0, pairs, tolerance, violations };
}
