/**
 * Response-time recorders: exact (every value kept, sorted once at the end) or a fixed-size log-bucket sketch
 * (DDSketch-style) for runs too long to keep every value. Both keep the exact count, sum, min and max, so means
 * are exact either way; only quantiles differ.
 */

import { quantile } from '@swapless/core';

/**
 * Quantile of sorted values by linear interpolation between order statistics (type 7, as R and NumPy); NaN when
 * empty.
 * @deprecated Use `quantile(sorted, q)` from `@swapless/core`, which this is.
 */
export const quantileSorted: (sorted: ArrayLike<number>, q: number) => number = quantile;

/** What the result needs from a recorder. */
export interface Recorder {
  /** Records one response time (ms). */
  add(value: number): void;
  /** Values recorded. */
  readonly count: number;
  /** The q-quantile (0 ≤ q ≤ 1) of the recorded values; NaN when none. */
  quantile(q: number): number;
}

/** Keeps every value in a growable Float64Array; quantiles are exact (type 7). 8 bytes per value. */
export class ExactRecorder implements Recorder {
  private values = new Float64Array(1024);
  count = 0;
  private sorted = false;

  add(value: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = value;
    this.sorted = false;
  }

  quantile(q: number): number {
    const view = this.values.subarray(0, this.count);
    if (!this.sorted) {
      view.sort();
      this.sorted = true;
    }
    return quantile(view, q);
  }
}

/** Relative accuracy of {@link SketchRecorder}: a reported quantile is within ±0.5 % of a true order statistic. */
export const SKETCH_RELATIVE_ACCURACY = 0.005;

const GAMMA = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** Values below this (ms) share one bucket; 1 ns is far below any service time the simulator sees. */
const MIN_VALUE = 1e-6;
/** Values above this (ms, ~11.6 days) share the last bucket; a response that long means a broken setup. */
const MAX_VALUE = 1e9;
const BUCKETS = Math.ceil(Math.log(MAX_VALUE / MIN_VALUE) / LOG_GAMMA) + 2;

/**
 * Log-bucket quantile sketch with bounded memory (~3,500 buckets, 28 KB per tenant whatever the run length).
 * Bucket i holds values in (MIN·γ^(i−1), MIN·γ^i] with γ = (1+α)/(1−α); a quantile is answered with the
 * bucket's point 2·MIN·γ^i/(γ+1), which is within relative α of every value in the bucket — so within α of
 * the nearest-rank order statistic (DDSketch, Masson et al. 2019). Results are clamped to the exact min/max.
 */
export class SketchRecorder implements Recorder {
  private readonly buckets = new Float64Array(BUCKETS);
  count = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  add(value: number): void {
    let i = value <= MIN_VALUE ? 0 : Math.ceil(Math.log(value / MIN_VALUE) / LOG_GAMMA);
    if (i >= BUCKETS) i = BUCKETS - 1;
    this.buckets[i]!++;
    this.count++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    // Nearest rank on the sorted values (0-based rank round(q·(n−1))), matching type 7 at the order statistics.
    const rank = Math.round(q * (this.count - 1));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.buckets[i]!;
      if (seen > rank) {
        const point = i === 0 ? MIN_VALUE : (2 * MIN_VALUE * GAMMA ** i) / (GAMMA + 1);
        return Math.min(this.max, Math.max(this.min, point));
      }
    }
    return this.max;
  }
}
