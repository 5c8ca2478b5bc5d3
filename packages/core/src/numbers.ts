/** Small numeric helpers every layer needs: order statistics of sorted samples and integer option checks. */
import { expected } from './describe.js';
import { InvalidArgumentError } from './errors.js';

/**
 * How {@link quantile} reads a quantile off sorted values.
 * - `linear`: interpolation between the order statistics around rank `(n − 1)·q` (Hyndman–Fan type 7, the
 *   default of R and NumPy); smooth for small samples.
 * - `nearest-rank`: the smallest value with at least `q·n` values at or below it (Hyndman–Fan type 1, the
 *   inverse of the empirical distribution function); always one of the samples.
 */
export type QuantileMethod = 'linear' | 'nearest-rank';

/**
 * The q-quantile (0 ≤ q ≤ 1) of values already sorted ascending, by `method` (default `linear`). NaN when there
 * are no values: callers that report an empty summary as 0 or null say so themselves.
 */
export function quantile(sorted: ArrayLike<number>, q: number, method: QuantileMethod = 'linear'): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (method === 'nearest-rank') return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  return lo + 1 < n ? a + (h - lo) * (sorted[lo + 1]! - a) : a;
}

/**
 * Checks an integer option: returns `value` when it is an integer ≥ `min` (default 1), else throws
 * `InvalidArgumentError` "Expected an integer ≥ min for WHAT but received …".
 */
export function positiveInt(value: unknown, what: string, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(expected(`an integer ≥ ${min}`, what, value));
  }
  return value;
}
