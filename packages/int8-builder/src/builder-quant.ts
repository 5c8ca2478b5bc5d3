/**
 * Range estimation for the int8 graph builder: per-channel activation statistics propagated analytically
 * through each op, and the choice of an int8 (scale, zero point) from an estimated range. Internal to the
 * builder; not part of the package's public API.
 *
 * Why analytic: the converter calibrates on a representative dataset, which for a generated 25 M-weight
 * network would mean a float forward pass in JS (seconds). Instead every activation carries, per channel,
 * the mean and variance it would have for the random input distribution, computed from the actual generated
 * weights, so the chosen ranges fit what the runtime really produces.
 */

/** Fused or standalone element-wise activation functions the builder knows. */
export type ActivationKind = 'none' | 'relu' | 'relu6' | 'logistic' | 'hardSwish';

/**
 * Per-channel statistics of an activation tensor, periodic along the last axis: element with last-axis
 * index j has mean `mean[j % P]` and variance `variance[j % P]`, P = `mean.length`, and P divides the last
 * dimension. P = 1 means per-tensor statistics.
 */
export interface ChannelStats {
  /** Per-channel mean. */
  mean: Float64Array;
  /** Per-channel variance (over positions, for the random input distribution). */
  variance: Float64Array;
}

/** A closed real interval [lo, hi]. */
export interface Range {
  /** Lower bound. */
  lo: number;
  /** Upper bound. */
  hi: number;
}

/** How many standard deviations of a channel the quantization range covers (calibration min/max ≈ ±4σ). */
export const RANGE_SIGMAS = 4;

/** Statistics with one channel: a constant mean and variance. */
export function uniformStats(mean: number, variance: number, channels = 1): ChannelStats {
  return { mean: new Float64Array(channels).fill(mean), variance: new Float64Array(channels).fill(variance) };
}

/** The statistics expanded to exactly `d` channels (d must be a multiple of the period). */
export function expandStats(s: ChannelStats, d: number): ChannelStats {
  const p = s.mean.length;
  if (p === d) return s;
  const mean = new Float64Array(d);
  const variance = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    mean[j] = s.mean[j % p]!;
    variance[j] = s.variance[j % p]!;
  }
  return { mean, variance };
}

/** Collapses per-channel statistics into one channel (law of total variance). */
export function pooledStats(s: ChannelStats): ChannelStats {
  const p = s.mean.length;
  let m = 0;
  let e2 = 0;
  for (let j = 0; j < p; j++) {
    const mu = s.mean[j]!;
    m += mu;
    e2 += s.variance[j]! + mu * mu;
  }
  m /= p;
  e2 /= p;
  return uniformStats(m, Math.max(0, e2 - m * m));
}

/** Statistics re-expressed for a new last dimension `d` (kept when the period divides it, else pooled). */
export function restrideStats(s: ChannelStats, d: number): ChannelStats {
  return d % s.mean.length === 0 ? s : pooledStats(s);
}

/** The value of an activation function at x. */
export function activate(kind: ActivationKind, x: number): number {
  switch (kind) {
    case 'none':
      return x;
    case 'relu':
      return Math.max(x, 0);
    case 'relu6':
      return Math.min(Math.max(x, 0), 6);
    case 'logistic':
      return 1 / (1 + Math.exp(-x));
    case 'hardSwish': {
      const r = x + 3;
      return (x * Math.min(Math.max(r, 0), 6)) / 6;
    }
  }
}

// Quadrature over a standard normal: a fixed grid on [−5, 5] weighted by the density, normalised to sum 1.
const QUAD_N = 41;
const QUAD_Z = new Float64Array(QUAD_N);
const QUAD_W = new Float64Array(QUAD_N);
{
  let total = 0;
  for (let i = 0; i < QUAD_N; i++) {
    const z = -5 + (10 * i) / (QUAD_N - 1);
    QUAD_Z[i] = z;
    QUAD_W[i] = Math.exp(-0.5 * z * z);
    total += QUAD_W[i]!;
  }
  for (let i = 0; i < QUAD_N; i++) QUAD_W[i]! /= total;
}

/** Result of passing pre-activation statistics through an activation. */
export interface ActivationResult {
  /** Statistics after the activation. */
  stats: ChannelStats;
  /** Estimated range after the activation, always containing 0. */
  range: Range;
}

/**
 * Applies an activation to Gaussian per-channel pre-activation statistics: moments by quadrature, range as
 * the image of [μ − kσ, μ + kσ] (k = {@link RANGE_SIGMAS}) under the function, unioned over channels.
 */
export function applyActivation(pre: ChannelStats, kind: ActivationKind): ActivationResult {
  const p = pre.mean.length;
  let lo = 0;
  let hi = 0;
  if (kind === 'none') {
    for (let j = 0; j < p; j++) {
      const mu = pre.mean[j]!;
      const sd = Math.sqrt(pre.variance[j]!);
      lo = Math.min(lo, mu - RANGE_SIGMAS * sd);
      hi = Math.max(hi, mu + RANGE_SIGMAS * sd);
    }
    return { stats: pre, range: { lo, hi } };
  }
  const mean = new Float64Array(p);
  const variance = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const mu = pre.mean[j]!;
    const sd = Math.sqrt(pre.variance[j]!);
    let m = 0;
    let e2 = 0;
    for (let i = 0; i < QUAD_N; i++) {
      const y = activate(kind, mu + sd * QUAD_Z[i]!);
      m += QUAD_W[i]! * y;
      e2 += QUAD_W[i]! * y * y;
    }
    mean[j] = m;
    variance[j] = Math.max(0, e2 - m * m);
    const a = activate(kind, mu - RANGE_SIGMAS * sd);
    const b = activate(kind, mu + RANGE_SIGMAS * sd);
    let cLo = Math.min(a, b);
    const cHi = Math.max(a, b);
    // hard-swish is not monotone: its minimum −0.375 sits at x = −1.5.
    if (kind === 'hardSwish' && mu - RANGE_SIGMAS * sd < -1.5 && mu + RANGE_SIGMAS * sd > -1.5) cLo = -0.375;
    lo = Math.min(lo, cLo);
    hi = Math.max(hi, cHi);
  }
  return { stats: { mean, variance }, range: { lo, hi } };
}

/** Range of statistics without an activation (±kσ per channel, unioned, containing 0). */
export function statsRange(s: ChannelStats): Range {
  return applyActivation(s, 'none').range;
}

/** An int8 affine quantization: real = scale · (q − zeroPoint). */
export interface Int8Quant {
  /** Scale (a float32 value). */
  scale: number;
  /** Zero point in [−128, 127]. */
  zeroPoint: number;
}

/** Smallest range span the builder quantizes to, so dead (all-zero) tensors still get a positive scale. */
const MIN_SPAN = 1e-3;

/**
 * The int8 quantization covering `range` the way TFLite's calibrator nudges min/max: 256 levels over
 * [lo, hi] with 0 exactly representable (the zero point is an integer in [−128, 127]); scale is a float32.
 */
export function quantForRange(range: Range): Int8Quant {
  let lo = Math.min(range.lo, 0);
  let hi = Math.max(range.hi, 0);
  if (hi - lo < MIN_SPAN) {
    if (lo === 0) hi = MIN_SPAN;
    else if (hi === 0) lo = -MIN_SPAN;
    else hi = lo + MIN_SPAN;
  }
  const scale = Math.fround((hi - lo) / 255);
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale, zeroPoint };
}

/** The union of two ranges. */
export function unionRange(a: Range, b: Range): Range {
  return { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) };
}
