/**
 * Response-time distributions, not only means: the percentiles a tail-latency objective (an SLO at p95 or p99)
 * needs. Under the default model's assumptions (Poisson arrivals, the Edge TPU one FCFS server over the mixture of
 * its tenants' calls with a Bernoulli reload, each CPU stage its own queue fed as if by Poisson arrivals, the
 * stages independent), a tenant's response is the sum R = W_T + S_T + W_C + S_C of four independent parts:
 *
 * - W_T, the wait for the Edge TPU: the M/G/1 waiting time, by the Pollaczek–Khinchine (Beneš) form — with
 *   probability 1 − ρ no wait, else a geometric number of residual service times: W = Σ_{n<N} S_e,n with
 *   P(N = n) = (1 − ρ)ρⁿ, whose transform is (1 − ρ) / (1 − ρ·Ŝ_e). Exact for FCFS with independent calls, the
 *   same for every class; its positive part stretched so that its tail decays as the reload chain's
 *   ({@link reloadChainScale}).
 * - S_T, the tenant's call: its service time, plus the reload with the switch probability the mean model uses.
 * - W_C, the wait for the CPU stage: Pollaczek–Khinchine again for `mg1`; for `mgc` the usual approximation of an
 *   M/G/c wait — no wait with probability 1 − C (Erlang C), else exponential with the Allen–Cunneen mean.
 * - S_C, the CPU stage: the measured samples themselves.
 *
 * Each part is put on one grid of N points (a power of two) spanning the tenant's distribution well into its
 * tail, and the sum's distribution is the product of their discrete Fourier transforms. A point mass is split
 * between its two neighbouring grid points so that every part keeps its mean. The result is checked against the
 * simulator's quantiles (tests, and `npm run bench:model-accuracy`); docs/queueing.md states the limits.
 */

import type { CpuStage, SystemSetup, TenantSetup, TpuStage } from '@swapless/contracts';
import { mapByDevice } from './devices.js';
import { erlangC, mgcWaitMs, perMs } from './formulas.js';
import { analyzeTpu, cpuStageMoments } from './model.js';
import { validateSystem } from './validate.js';

/** A tenant's predicted response-time distribution. */
export interface ResponseDistribution {
  name: string;
  /** Its mean, ms (the grid's: the mean model's, plus what the reload chain's stretch of the Edge TPU wait adds). */
  meanMs: number;
  /** The time below which a fraction `p` (0 < p < 1) of responses finish, ms (Infinity when unstable). */
  quantileMs(p: number): number;
  /** The fraction of responses that finish within `ms` (0 when unstable). */
  cdf(ms: number): number;
}

/** Options of {@link responseDistributions}. */
export interface PercentileOptions {
  /** Grid points per tenant, a power of two from 256 to 65 536 (default 4096). */
  gridPoints?: number;
}

/** Standard deviations above the mean that a tenant's grid spans. */
const TAIL_SDS = 16;

/**
 * Each tenant's response-time distribution under the default model's assumptions (see the module comment), in
 * system order. Validates `system` first (`InvalidArgumentError`, `SWAPLESS_INVALID_ARGUMENT`).
 */
export function responseDistributions(
  system: SystemSetup,
  options: PercentileOptions = {},
): ResponseDistribution[] {
  validateSystem(system);
  const n = options.gridPoints ?? 4096;
  if (!Number.isInteger(n) || n < 256 || n > 65_536 || (n & (n - 1)) !== 0)
    throw new RangeError(`Expected gridPoints a power of two from 256 to 65536 but received ${n}`);
  // Several devices: each device's tenants wait on their own Edge TPU (devices.ts).
  return mapByDevice(system, (sub) => deviceDistributions(sub, n));
}

/** {@link responseDistributions} of a system whose tenants share one Edge TPU. */
function deviceDistributions(system: SystemSetup, n: number): ResponseDistribution[] {
  const tpu = analyzeTpu(system);
  const mixture = tpuMixture(system, tpu);
  const scale = reloadChainScale(mixture.calls, tpu.ratePerMs);
  return system.tenants.map((t, i) => {
    const cls = tpu.classes.find((c) => c.index === i);
    const unstableTpu = cls !== undefined && tpu.utilization >= 1;
    const cpu = cpuQueue(t);
    if (unstableTpu || cpu === 'unstable') return unstable(t.name);
    // The grid: the sum's mean plus TAIL_SDS of its standard deviations, and past every point mass.
    const parts: Part[] = [];
    if (cls !== undefined && t.tpu !== null) {
      const wait = pkWaitPart(
        tpu.utilization,
        tpu.ratePerMs,
        mixture.m2,
        mixture.m3,
        mixture.fill,
        mixture.reach,
        scale,
      );
      parts.push(tpuStagePart(wait, t.tpu, cls.switchProbability, mixture.calls, tpu.ratePerMs));
    }
    if (cpu !== null) parts.push(...cpu);
    const mean = parts.reduce((s, p) => s + p.mean, 0);
    const variance = parts.reduce((s, p) => s + p.variance, 0);
    const reach = Math.max(...parts.map((p) => p.reach), 0);
    const span = Math.max(mean + TAIL_SDS * Math.sqrt(variance), reach * 1.05, 1e-3);
    const h = span / n;
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    re.fill(1);
    for (const p of parts) {
      const [pr, pi] = p.transform(h, n);
      for (let j = 0; j < n; j++) {
        const a = re[j]!;
        const b = im[j]!;
        re[j] = a * pr[j]! - b * pi[j]!;
        im[j] = a * pi[j]! + b * pr[j]!;
      }
    }
    fft(re, im, true);
    return gridDistribution(t.name, re, h);
  });
}

/**
 * The predicted `levels` quantiles (e.g. 0.95, 0.99) of every tenant's response, ms, in system order (Infinity
 * for an unstable tenant).
 */
export function predictQuantiles(
  system: SystemSetup,
  levels: readonly number[],
  options?: PercentileOptions,
): { name: string; quantilesMs: number[] }[] {
  for (const p of levels)
    if (!(p > 0 && p < 1)) throw new RangeError(`Expected quantile levels in (0, 1) but received ${p}`);
  return responseDistributions(system, options).map((d) => ({
    name: d.name,
    quantilesMs: levels.map((p) => d.quantileMs(p)),
  }));
}

// --- parts --------------------------------------------------------------------------------------------------------

/** One independent part of a response: its mean, variance, largest point of its support, and its transform. */
interface Part {
  mean: number;
  variance: number;
  /** Where its bulk ends (the largest point mass, or 0 for an unbounded tail the standard deviations cover). */
  reach: number;
  /** Its probabilities on the grid jh (j < n), Fourier-transformed. */
  transform(h: number, n: number): [Float64Array, Float64Array];
}

/**
 * E[S²], E[S³] of the Edge TPU's service over the mixture of its tenants' calls (class c with weight λ_c/Λ), and
 * how to put that mixture on a grid.
 */
function tpuMixture(
  system: SystemSetup,
  tpu: ReturnType<typeof analyzeTpu>,
): { m2: number; m3: number; reach: number; calls: TpuCall[]; fill: (pmf: Float64Array, h: number) => void } {
  let m2 = 0;
  let m3 = 0;
  const total = tpu.ratePerMs;
  const calls: TpuCall[] = [];
  for (const c of tpu.classes) {
    const stage = system.tenants[c.index]!.tpu!;
    const w = total > 0 ? c.ratePerMs / total : 0;
    const x = callMoments(stage.serviceMs, stage.serviceVarianceMs2, stage.reloadMs, c.switchProbability);
    m2 += w * x.m2;
    m3 += w * x.m3;
    calls.push({
      w,
      token: stage.token,
      m: stage.serviceMs,
      v: stage.serviceVarianceMs2,
      r: stage.reloadMs,
      p: c.switchProbability,
    });
  }
  const fill = (pmf: Float64Array, h: number): void => {
    for (const c of calls) addCall(pmf, h, c, c.w);
  };
  const reach = Math.max(0, ...calls.map((c) => c.m + c.r + 6 * Math.sqrt(c.v)));
  return { m2, m3, reach, calls, fill };
}

/** One class of Edge TPU calls: share of the calls, token, service mean and variance, reload, switch probability. */
export interface TpuCall {
  /** Share of the Edge TPU's calls that are of this class (the classes' shares sum to 1). */
  w: number;
  /** Caching token of the class's head (calls of one token never reload after each other). */
  token: string;
  /** Mean call time without a reload, ms, and its variance, ms². */
  m: number;
  v: number;
  /** Reload time, ms. */
  r: number;
  /** Probability that a call of this class reloads (the previous call had another token). */
  p: number;
}

/** Adds weight `w` of one call of class `c`: gamma(m, v) without reload (1 − p), with reload r (p). */
function addCall(pmf: Float64Array, h: number, c: Omit<TpuCall, 'w' | 'token'>, w: number): void {
  addGamma(pmf, h, c.m, c.v, w * (1 - c.p));
  if (c.p > 0) addGamma(pmf, h, c.m + c.r, c.v, w * c.p);
}

/**
 * The Edge TPU stage, wait and call together. Taken apart they are not independent: a call reloads when the call
 * before it had another token, and that call is also what the arrival may wait for — a long wait behind a call of
 * one's own token ends in a call without reload. In FCFS with Poisson arrivals the call before a request is the
 * previous arrival's, of class j with probability λ_j/Λ whatever came before, so the stage is the mixture over j of
 * W | j = (W' + S_j − A)⁺ (Lindley's recursion: W' the previous arrival's wait, from the Pollaczek–Khinchine–Beneš
 * distribution; S_j its call with its own reload; A ~ Exp(Λ) the time between the two arrivals) followed by this
 * request's call, with the reload exactly when j's token differs from its own.
 */
function tpuStagePart(
  wait: Part,
  own: TpuStage,
  switchProbability: number,
  calls: readonly TpuCall[],
  ratePerMs: number,
): Part {
  const x = callMoments(own.serviceMs, own.serviceVarianceMs2, own.reloadMs, switchProbability);
  return {
    mean: wait.mean + x.m1,
    variance: wait.variance + Math.max(0, x.m2 - x.m1 * x.m1),
    reach: Math.max(wait.reach, own.serviceMs + own.reloadMs + 6 * Math.sqrt(own.serviceVarianceMs2)),
    transform(h, n) {
      const [wr, wi] = wait.transform(h, n);
      // This request's call, with or without its reload: two transforms whatever the number of classes.
      const mine = new Map<boolean, [Float64Array, Float64Array]>();
      const ownCall = (reload: boolean): [Float64Array, Float64Array] => {
        let t = mine.get(reload);
        if (t === undefined) {
          const pmf = new Float64Array(n);
          addGamma(pmf, h, own.serviceMs + (reload ? own.reloadMs : 0), own.serviceVarianceMs2, 1);
          t = transformed(pmf);
          mine.set(reload, t);
        }
        return t;
      };
      // The mixture over the previous call's class, summed in the transform domain.
      const tr = new Float64Array(n);
      const ti = new Float64Array(n);
      for (const prev of calls) {
        if (prev.w <= 0) continue;
        // W' + S_j: the previous call with its own reload (decided by the call before it, independent of j).
        const s = new Float64Array(n);
        addCall(s, h, prev, 1);
        const [xr, xi] = transformed(s);
        multiplyInto(xr, xi, wr, wi);
        fft(xr, xi, true);
        const [ar, ai] = transformed(lindleyStep(xr, h, ratePerMs));
        // Then this request's call: a reload exactly when the previous call had another token.
        const [br, bi] = ownCall(prev.token !== own.token);
        multiplyInto(ar, ai, br, bi);
        for (let j = 0; j < n; j++) {
          tr[j] = tr[j]! + prev.w * ar[j]!;
          ti[j] = ti[j]! + prev.w * ai[j]!;
        }
      }
      return [tr, ti];
    },
  };
}

/**
 * How much longer the Edge TPU wait's tail is than the mixture of independent calls says. A call reloads when the
 * call before it had another token, so the calls' times form a Markov chain over the classes, not independent
 * draws: runs of alternating tenants reload call after call. The wait's tail decays as e^{−γx} with γ the
 * Lundberg root of the Lindley walk, Λ/(Λ + γ)·M(γ) = 1: M the mixture's MGF for independent calls, the Perron root
 * of Q_ab(γ) = w_b·E[e^{γS_b} | previous call of class a] for the chain. Returns γ_independent / γ_chain (1 when
 * either has no root, e.g. one class), by which the positive part of the wait is stretched: the same decay rate as
 * the chain (and, to first order, its mean: the lag-1 covariance of the calls adds what the stretch adds).
 * @internal Exported for tests; not part of the package's API.
 */
export function reloadChainScale(calls: readonly TpuCall[], ratePerMs: number): number {
  const live = calls.filter((c) => c.w > 0);
  if (live.length < 2 || !(ratePerMs > 0)) return 1;
  // The calls' MGF without the reload: a gamma (a point when v = 0), finite below 1/scale.
  const base = (c: TpuCall, g: number): number =>
    c.v > 0 ? (1 - (g * c.v) / c.m) ** (-(c.m * c.m) / c.v) : Math.exp(g * c.m);
  const limit = Math.min(...live.map((c) => (c.v > 0 ? c.m / c.v : Infinity)));
  const independent = (g: number): number =>
    live.reduce((sum, c) => sum + c.w * base(c, g) * (1 - c.p + c.p * Math.exp(g * c.r)), 0);
  const chain = (g: number): number => {
    const q = live.map((b) =>
      live.map((a) => b.w * base(b, g) * (a.token !== b.token ? Math.exp(g * b.r) : 1)),
    );
    // Power iteration (a positive matrix: its Perron root); q[b][a] is Q_ab.
    let v = live.map(() => 1);
    let root = 1;
    for (let it = 0; it < 200; it++) {
      const next = live.map((_, a) => q.reduce((sum, row, b) => sum + row[a]! * v[b]!, 0));
      const top = Math.max(...next);
      v = next.map((x) => x / top);
      if (Math.abs(top - root) <= 1e-13 * top) return top;
      root = top;
    }
    return root;
  };
  const gi = lundbergRoot(independent, ratePerMs, limit);
  const gc = lundbergRoot(chain, ratePerMs, limit);
  return gi > 0 && gc > 0 ? Math.min(2, Math.max(0.5, gi / gc)) : 1;
}

/** The positive root γ < limit of Λ/(Λ + γ)·mgf(γ) = 1 (bisection), or 0 when there is none. */
function lundbergRoot(mgf: (g: number) => number, rate: number, limit: number): number {
  const above = (g: number): boolean => (rate / (rate + g)) * mgf(g) > 1;
  let lo = 0;
  let hi = 1e-6 * rate;
  while (!above(hi)) {
    lo = hi;
    hi *= 2;
    if (hi >= limit || hi > 1e6) {
      hi = limit * (1 - 1e-9);
      if (!Number.isFinite(hi) || !above(hi)) return 0;
      break;
    }
  }
  for (let i = 0; i < 100 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (above(mid)) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}

/** (re, im) ← (re, im) × (br, bi), element by element. */
function multiplyInto(re: Float64Array, im: Float64Array, br: Float64Array, bi: Float64Array): void {
  for (let j = 0; j < re.length; j++) {
    const a = re[j]!;
    const b = im[j]!;
    re[j] = a * br[j]! - b * bi[j]!;
    im[j] = a * bi[j]! + b * br[j]!;
  }
}

/**
 * One step of Lindley's recursion on the grid: the distribution of (X − A)⁺ for X given by its probabilities `x`
 * at the grid points and A ~ Exp(λ) independent: P((X − A)⁺ ≤ t) = P(X ≤ t) + Σ_{x > t} P(X = x)·e^{−λ(x − t)}.
 */
function lindleyStep(x: Float64Array, h: number, ratePerMs: number): Float64Array {
  const n = x.length;
  const decay = Math.exp(-ratePerMs * h);
  const cdf = new Float64Array(n);
  // Above: Σ_{m > k} x_m e^{−λ(m − k)h}, from the top down.
  let above = 0;
  for (let k = n - 1; k >= 0; k--) {
    cdf[k] = above;
    above = decay * (above + Math.max(0, x[k]!));
  }
  let below = 0;
  for (let k = 0; k < n; k++) {
    below += Math.max(0, x[k]!);
    cdf[k] = cdf[k]! + below;
  }
  const out = new Float64Array(n);
  out[0] = cdf[0]!;
  for (let k = 1; k < n; k++) out[k] = Math.max(0, cdf[k]! - cdf[k - 1]!);
  return out;
}

/**
 * Moments of X + B·r, X gamma-distributed with mean m and variance v (a point mass when v = 0), B ~ Bernoulli(p):
 * E[X³] = m³ + 3mv + 2v²/m for a gamma.
 */
function callMoments(m: number, v: number, r: number, p: number): { m1: number; m2: number; m3: number } {
  const x2 = v + m * m;
  const x3 = m * m * m + 3 * m * v + (m > 0 ? (2 * v * v) / m : 0);
  return {
    m1: m + p * r,
    m2: x2 + 2 * p * r * m + p * r * r,
    m3: x3 + 3 * p * r * x2 + 3 * p * r * r * m + p * r * r * r,
  };
}

/**
 * An M/G/1 FCFS wait (Pollaczek–Khinchine–Beneš) for utilisation ρ, arrival rate λ (per ms) and service moments
 * m1..m3: E[W] = λm2 / (2(1 − ρ)), E[W²] = 2E[W]² + λm3 / (3(1 − ρ)). The residual service is built from the
 * service's own grid distribution, given by `service`. With `scale` ≠ 1 the positive part of the wait is
 * stretched by it (W = 0 keeps its probability 1 − ρ): see {@link reloadChainScale}.
 */
function pkWaitPart(
  rho: number,
  lambda: number,
  m2: number,
  m3: number,
  service: (pmf: Float64Array, h: number) => void,
  serviceReach: number,
  scale = 1,
): Part {
  if (rho <= 0) return pointPart(0);
  const w1 = (lambda * m2) / (2 * (1 - rho));
  const w2 = 2 * w1 * w1 + (lambda * m3) / (3 * (1 - rho));
  return {
    mean: scale * w1,
    variance: Math.max(0, scale * scale * (w2 - w1 * w1)),
    // The residual service lives up to the longest service.
    reach: scale * serviceReach,
    transform(h, n) {
      const q = new Float64Array(n);
      // On a grid of step h/scale, every service time lands at scale times its value.
      service(q, h / scale);
      // Residual: P(S_e ∈ [jh, (j+1)h)) = h·P(S > jh)/E[S] on the grid's S, split between j and j + 1.
      let mean = 0;
      for (let j = 0; j < n; j++) mean += j * q[j]!;
      const e = new Float64Array(n);
      let above = 1 - q[0]!;
      for (let j = 0; j < n - 1 && mean > 0; j++) {
        const mass = above / mean;
        e[j] = e[j]! + mass / 2;
        e[j + 1] = e[j + 1]! + mass / 2;
        above -= q[j + 1]!;
      }
      const [er, ei] = transformed(e);
      // (1 − ρ) / (1 − ρ·ê), element by element.
      for (let j = 0; j < n; j++) {
        const a = 1 - rho * er[j]!;
        const b = -rho * ei[j]!;
        const d = a * a + b * b;
        er[j] = ((1 - rho) * a) / d;
        ei[j] = (-(1 - rho) * b) / d;
      }
      return [er, ei];
    },
  };
}

/** A point mass at `x` ms. */
function pointPart(x: number): Part {
  return {
    mean: x,
    variance: 0,
    reach: x,
    transform(h, n) {
      const pmf = new Float64Array(n);
      addPoint(pmf, h, x, 1);
      return transformed(pmf);
    },
  };
}

/** The CPU stage's wait and service as parts; null without a CPU stage; 'unstable' when it cannot keep up. */
function cpuQueue(t: TenantSetup): Part[] | null | 'unstable' {
  const cpu = t.cpu;
  if (cpu === null) return null;
  if (t.cores === 0) return 'unstable';
  const m = cpuStageMoments(cpu);
  const lambda = perMs(t.rate);
  const servers = cpu.mode === 'mgc' ? t.cores : 1;
  if ((lambda * m.meanMs) / servers >= 1) return 'unstable';
  const service = samplesPart(cpu);
  if (cpu.mode === 'mg1' || servers === 1) {
    const m3 = thirdMoment(cpu.samplesMs);
    const rho = lambda * m.meanMs;
    return [
      pkWaitPart(
        rho,
        lambda,
        m.secondMomentMs2,
        m3,
        (pmf, h) => addSamples(pmf, h, cpu.samplesMs),
        Math.max(...cpu.samplesMs),
      ),
      service,
    ];
  }
  // M/G/c: wait with probability C (Erlang C), then exponential with the Allen–Cunneen mean given a wait.
  const c = erlangC(servers, lambda * m.meanMs);
  const mean = mgcWaitMs(lambda, m, servers);
  return [exponentialWaitPart(c, c > 0 ? mean / c : 0), service];
}

/** No wait with probability 1 − c, else exponential with mean `given`. */
function exponentialWaitPart(c: number, given: number): Part {
  if (c <= 0 || given <= 0) return pointPart(0);
  return {
    mean: c * given,
    variance: c * 2 * given * given - (c * given) ** 2,
    reach: 0,
    transform(h, n) {
      const pmf = new Float64Array(n);
      pmf[0] = 1 - c;
      // Mass of [jh, (j+1)h), split between j and j + 1.
      let prev = 1;
      for (let j = 0; j < n - 1; j++) {
        const next = Math.exp((-(j + 1) * h) / given);
        const mass = c * (prev - next);
        pmf[j] = pmf[j]! + mass / 2;
        pmf[j + 1] = pmf[j + 1]! + mass / 2;
        prev = next;
      }
      return transformed(pmf);
    },
  };
}

/** The CPU stage's measured samples, each with weight 1/n. */
function samplesPart(cpu: CpuStage): Part {
  const m = cpuStageMoments(cpu);
  return {
    mean: m.meanMs,
    variance: Math.max(0, m.secondMomentMs2 - m.meanMs * m.meanMs),
    reach: Math.max(...cpu.samplesMs),
    transform(h, n) {
      const pmf = new Float64Array(n);
      addSamples(pmf, h, cpu.samplesMs);
      return transformed(pmf);
    },
  };
}

function thirdMoment(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x * x * x;
  return s / xs.length;
}

// --- the grid -----------------------------------------------------------------------------------------------------

/** Adds mass `w` at `x` ms, split between its two neighbouring grid points (mean kept); clamped to the grid. */
function addPoint(pmf: Float64Array, h: number, x: number, w: number): void {
  const u = x / h;
  const j = Math.floor(u);
  if (j >= pmf.length - 1) {
    pmf[pmf.length - 1] = pmf[pmf.length - 1]! + w;
    return;
  }
  const f = u - j;
  pmf[j] = pmf[j]! + w * (1 - f);
  pmf[j + 1] = pmf[j + 1]! + w * f;
}

function addSamples(pmf: Float64Array, h: number, xs: readonly number[]): void {
  const w = 1 / xs.length;
  for (const x of xs) addPoint(pmf, h, x, w);
}

/**
 * Adds mass `w` distributed as a gamma of mean m and variance v (a point when it is narrower than the grid):
 * the density at the grid points, normalised.
 */
function addGamma(pmf: Float64Array, h: number, m: number, v: number, w: number): void {
  if (w <= 0) return;
  const sd = Math.sqrt(v);
  if (sd < 2 * h || m <= 0) {
    addPoint(pmf, h, m, w);
    return;
  }
  const shape = (m * m) / v;
  const scale = v / m;
  const from = Math.max(1, Math.floor((m - 8 * sd) / h));
  const to = Math.min(pmf.length - 1, Math.ceil((m + 8 * sd) / h));
  const dens: number[] = [];
  let sum = 0;
  for (let j = from; j <= to; j++) {
    const x = j * h;
    const d = Math.exp((shape - 1) * Math.log(x) - x / scale - shape * Math.log(scale) - logGamma(shape));
    dens.push(d);
    sum += d;
  }
  if (!(sum > 0)) {
    addPoint(pmf, h, m, w);
    return;
  }
  for (let j = from; j <= to; j++) pmf[j] = pmf[j]! + (w * dens[j - from]!) / sum;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms: about 15 significant digits). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

function transformed(pmf: Float64Array): [Float64Array, Float64Array] {
  const im = new Float64Array(pmf.length);
  fft(pmf, im, false);
  return [pmf, im];
}

/** In-place radix-2 complex FFT (inverse: conjugate transform, scaled by 1/n). */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const tr = re[i]!;
      re[i] = re[j]!;
      re[j] = tr;
      const ti = im[i]!;
      im[i] = im[j]!;
      im[j] = ti;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const xr = re[b]! * cr - im[b]! * ci;
        const xi = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
        const nr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = nr;
      }
    }
  }
  if (inverse) {
    for (let i = 0; i < n; i++) {
      re[i] = re[i]! / n;
      im[i] = im[i]! / n;
    }
  }
}

/** A distribution from its probabilities at the grid points jh (tiny negative round-off clamped to 0). */
function gridDistribution(name: string, pmf: Float64Array, h: number): ResponseDistribution {
  const n = pmf.length;
  const cum = new Float64Array(n);
  let s = 0;
  let mean = 0;
  for (let j = 0; j < n; j++) {
    const p = Math.max(0, pmf[j]!);
    s += p;
    mean += p * j * h;
    cum[j] = s;
  }
  const total = s > 0 ? s : 1;
  for (let j = 0; j < n; j++) cum[j] = cum[j]! / total;
  return {
    name,
    meanMs: mean / total,
    quantileMs(p) {
      // The first grid point whose cumulative mass reaches p, interpolated linearly from the one before.
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid]! >= p) hi = mid;
        else lo = mid + 1;
      }
      if (lo === 0) return 0;
      const a = cum[lo - 1]!;
      const b = cum[lo]!;
      return (lo - 1 + (b > a ? (p - a) / (b - a) : 1)) * h;
    },
    cdf(ms) {
      if (!(ms >= 0)) return 0;
      const u = ms / h;
      const j = Math.floor(u);
      if (j >= n - 1) return 1;
      const a = cum[j]!;
      return a + (cum[j + 1]! - a) * (u - j);
    },
  };
}

function unstable(name: string): ResponseDistribution {
  return {
    name,
    meanMs: Number.POSITIVE_INFINITY,
    quantileMs: () => Number.POSITIVE_INFINITY,
    cdf: () => 0,
  };
}
