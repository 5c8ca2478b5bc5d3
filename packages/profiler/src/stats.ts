/**
 * Summary statistics of timing samples. Percentiles use linear interpolation between order statistics
 * (Hyndman–Fan type 7, the default of R and NumPy) so small sample counts still give sensible spreads.
 */
import { expected, InvalidArgumentError, quantile } from '@swapless/core';
import type { Measurement } from './types.js';

/**
 * Builds a {@link Measurement} from samples in milliseconds (kept in the given order). Throws
 * `InvalidArgumentError` for an empty list or a non-finite or negative sample: a profile never stores NaN.
 */
export function summarize(threads: number, samples: readonly number[]): Measurement {
  if (samples.length === 0) {
    throw new InvalidArgumentError(expected('at least one sample', 'a measurement', samples));
  }
  let sum = 0;
  for (const s of samples) {
    if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) {
      throw new InvalidArgumentError(expected('finite non-negative times in ms', 'the samples', s));
    }
    sum += s;
  }
  const n = samples.length;
  const mean = sum / n;
  let squares = 0;
  for (const s of samples) squares += (s - mean) * (s - mean);
  const sorted = Float64Array.from(samples).sort();
  return {
    threads,
    samples: [...samples],
    median: quantile(sorted, 0.5),
    mean,
    std: n > 1 ? Math.sqrt(squares / (n - 1)) : 0,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
  };
}
