/**
 * Tail-latency objectives (SLOs) in the search: minimise the mean response subject to every tenant's
 * `sloPercentile` of responses finishing within its `sloMs`, and when no configuration meets them all, admit only
 * part of the load — from the tenants without an SLO first.
 *
 * Why not the percentiles themselves: `responseDistributions` (@swapless/queueing) costs milliseconds per
 * tenant and configuration, and the search looks at hundreds. Inside the search every tenant's miss probability
 * P(R > sloMs) is approximated by the Lugannani–Rice saddlepoint formula from the cumulant generating function
 * K = log E[e^{θR}] of the response R = W_T + S_T + W_C + S_C as the default model sees it (independent parts):
 *
 * - W_T, the Edge TPU wait: the Pollaczek–Khinchine transform E[e^{θW}] = (1 − ρ)θ / (θ − Σ_j λ_j (M_j(θ) − 1)),
 *   with M_j the MGF of tenant j's call (service x_j, plus the reload r_j with the probability p_j = 1 − λ_j/Λ);
 * - S_T, the tenant's own call, M_i(θ);
 * - W_C and S_C, the CPU stage: Pollaczek–Khinchine over the measured samples (`mg1`), or the M/G/c model's
 *   "no wait with probability 1 − C, else exponential" (`mgc`); the samples' own MGF; a cut's `delayMs` as a
 *   constant.
 *
 * K, K′ and K″ are sums over tenants of per-option terms at a grid of θ (32 values per SLO tenant, from
 * 0.25/sloMs to 320/sloMs), computed once per option and decision, so one configuration costs O(tenants × grid)
 * flops. K′ grows with θ, so the grid point past sloMs is bisected for (5 steps), and the saddlepoints K′(θ_g)
 * that bracket sloMs give the tail, interpolated in log.
 * It is an approximation, not a bound: a configuration passes when its miss probability is at most
 * {@link SLO_MARGIN} × (1 − level). `npm run bench:slo` compares it with the exact percentiles and the simulator.
 */
import type { Decision, SloPercentile, SystemSetup, TenantChoice } from '@swapless/contracts';
import { expected, InvalidArgumentError } from '@swapless/core';
import { erlangC, mgcWaitMs, perMs, sampleMoments } from '@swapless/queueing';
import type { TenantCatalog } from './catalog.js';
import {
  type FastModel,
  fastObjective,
  fastSearchApplicable,
  fastSearchPrepared,
  ownTerm,
  prepareFastModel,
} from './fast.js';
import { type PlannedTenant, tenantSetup } from './setup.js';

/** The percentile an `sloMs` bounds when a tenant gives none. */
export const DEFAULT_SLO_PERCENTILE: SloPercentile = 'p99';

/** The fraction of responses an SLO percentile asks to finish within `sloMs`: 0.95 or 0.99. */
export function sloLevel(percentile: SloPercentile | undefined): number {
  const p = percentile ?? DEFAULT_SLO_PERCENTILE;
  if (p === 'p95') return 0.95;
  if (p === 'p99') return 0.99;
  throw new InvalidArgumentError(expected("'p95' or 'p99'", 'an SLO percentile', p));
}

/** True when some tenant carries an `sloMs`. */
export function hasSlo(tenants: readonly { sloMs?: number }[]): boolean {
  return tenants.some((t) => t.sloMs !== undefined);
}

/** θ grid per SLO tenant: c/sloMs for c = 0.25·2^(g/3), g = 0..GRID−1 (0.25 to ≈ 320). */
const GRID = 32;
const GRID_C = Array.from({ length: GRID }, (_, g) => 0.25 * 2 ** (g / 3));

/**
 * Safety factor on the allowed miss probability: a configuration passes when its approximated miss probability
 * is at most this share of 1 − level (for an exponential-like tail about 4 % on the quantile at p99). It covers the
 * saddlepoint approximation's error and the model's (`npm run bench:slo` measures both against the simulator).
 */
export const SLO_MARGIN = 0.7;

/** Per-option terms of one tenant at the whole θ grid (every SLO tenant's θs, concatenated). */
interface OptionTerms {
  /** λ per ms on the Edge TPU (0 without a TPU stage). */
  lam: number;
  /** Mean TPU call without the reload, and the reload, ms. */
  x: number;
  r: number;
  /**
   * Per θ (6 numbers each): C·R, (C·R)', (C·R)'' and C·(R − 1), (C·(R − 1))', (C·(R − 1))'' with C = e^{θx + θ²v/2}
   * the call and R = e^{θr} the reload (empty without a TPU stage): the call's MGF is C·(1 + p·(R − 1)).
   */
  tpu: Float64Array;
  /**
   * For an SLO tenant only, per θ of its own grid (6 numbers each): the cumulant K, K′ and K″ of its CPU stage +
   * cut delay, then of its CPU wait (K = Infinity where the transform diverges); null for a tenant without an SLO.
   */
  own: Float64Array | null;
  /** P(W_C = 0), the CPU wait's atom (1 without a CPU stage). */
  cpuAtom: number;
  /** The largest CPU stage + cut delay, ms (the largest sample plus the delay). */
  cpuSup: number;
  /**
   * For an SLO tenant only, per θ of its grid (3 numbers each): K, K′, K″ of F — its own call, CPU stage and cut
   * delay — at the total Edge TPU rate `fAt` (the own call's reload probability depends on it); computed on first
   * use (`fDone`).
   */
  f: Float64Array | null;
  fDone: Uint8Array | null;
  fAt: number;
  /** The TPU call's variance, ms² (a call of variance 0 is bounded by x + r). */
  v: number;
}

/** What {@link SloScreen} evaluates: the configuration's terms, one SLO tenant and one component of its response. */
interface EvaluationContext {
  terms: readonly OptionTerms[];
  /** The SLO tenant's terms, its index among the SLO tenants, and its switch probability. */
  o: OptionTerms;
  s: number;
  /** Λ per ms and ρ of the Edge TPU. */
  L: number;
  rho: number;
  p: number;
  /** The component: bit 1 with the Edge TPU wait, bit 2 with the CPU wait. */
  c: number;
}

/** Placeholder terms of an empty {@link EvaluationContext}. */
const NO_TERMS: OptionTerms = {
  lam: 0,
  x: 0,
  r: 0,
  v: 0,
  tpu: new Float64Array(0),
  own: null,
  cpuAtom: 1,
  cpuSup: 0,
  f: null,
  fDone: null,
  fAt: Number.NaN,
};

/** Mean of e^{θx}, x·e^{θx}, x²·e^{θx} over samples. */
function samplesMgf(xs: readonly number[], theta: number): [number, number, number] {
  let m0 = 0;
  let m1 = 0;
  let m2 = 0;
  for (const x of xs) {
    const e = Math.exp(theta * x);
    m0 += e;
    m1 += x * e;
    m2 += x * x * e;
  }
  return [m0 / xs.length, m1 / xs.length, m2 / xs.length];
}

/**
 * Cumulants of a Pollaczek–Khinchine wait W at θ given W > 0 (P(W > 0) = ρ): E[e^{θW}] = (1 − ρ)θ / D, D = θ − G,
 * G = Σ λ(M − 1), so E[e^{θW} | W > 0] = (E[e^{θW}] − (1 − ρ)) / ρ = (1 − ρ)G / (ρD), with g0 = G, g1 = G′,
 * g2 = G″. Writes K, K′, K″ to out[at..at+2] (K = Infinity where D ≤ 0).
 */
function pkPositive(
  rho: number,
  theta: number,
  g0: number,
  g1: number,
  g2: number,
  out: Float64Array,
  at: number,
) {
  const d = theta - g0;
  if (!(d > 0) || !(g0 > 0) || rho >= 1) {
    out[at] = Infinity;
    return;
  }
  const d1 = (1 - g1) / d;
  const r1 = g1 / g0;
  out[at] = Math.log(((1 - rho) * g0) / (rho * d));
  out[at + 1] = r1 - d1;
  out[at + 2] = g2 / g0 - r1 * r1 + g2 / d + d1 * d1;
}

/**
 * {@link samplesMgf} of a sample list at every θ of a grid (3 numbers each), kept per list for the last grid asked
 * (grids differ by their first θ): the samples and the SLOs stay, so every decision's screen asks the same.
 */
const mgfCache = new WeakMap<readonly number[], { from: number; mgf: Float64Array }>();

function samplesMgfOf(xs: readonly number[], theta: ArrayLike<number>): Float64Array {
  const hit = mgfCache.get(xs);
  if (hit !== undefined && hit.from === theta[0] && hit.mgf.length === 3 * theta.length) return hit.mgf;
  const mgf = new Float64Array(3 * theta.length);
  for (let g = 0; g < theta.length; g++) mgf.set(samplesMgf(xs, theta[g]!), 3 * g);
  mgfCache.set(xs, { from: theta[0]!, mgf });
  return mgf;
}

/**
 * The CPU stage of a tenant at every θ of `theta`, in two parts per θ (6 numbers each, from 0): K, K′, K″ of its
 * service (the samples' MGF) into out[6g..6g+2] and of its wait given that it waits into out[6g+3..6g+5] (0s
 * without a CPU stage or wait; K = Infinity where the transform diverges). Returns the wait's atom P(W_C = 0):
 * 1 − ρ_C for `mg1`, 1 − C for `mgc` (1 without a CPU stage, 0 when it cannot keep up).
 */
function cpuCumulants(
  setup: ReturnType<typeof tenantSetup>,
  theta: ArrayLike<number>,
  out: Float64Array,
): number {
  out.fill(0);
  const cpu = setup.cpu;
  if (cpu === null) return 1;
  const lam = perMs(setup.rate);
  const xs = cpu.samplesMs;
  const m = sampleMoments(xs);
  const servers = cpu.mode === 'mgc' ? setup.cores : 1;
  const rho = (lam * m.meanMs) / servers;
  // M/G/c as the model: no wait with probability 1 − c, else exponential with the Allen–Cunneen mean (a = c/mean);
  // θ-independent, so computed once.
  const c = servers > 1 && lam > 0 && rho < 1 ? erlangC(servers, rho * servers) : 0;
  const mean = c > 0 ? mgcWaitMs(lam, m, servers) : 0;
  const a = c > 0 && mean > 0 ? c / mean : Infinity;
  const mgf = samplesMgfOf(xs, theta);
  for (let g = 0; g < theta.length; g++) {
    const th = theta[g]!;
    const at = 6 * g;
    const m0 = mgf[3 * g]!;
    const m1 = mgf[3 * g + 1]!;
    const m2 = mgf[3 * g + 2]!;
    // The service: log of the samples' MGF.
    out[at] = Math.log(m0);
    out[at + 1] = m1 / m0;
    out[at + 2] = m2 / m0 - (m1 / m0) ** 2;
    if (!(lam > 0)) continue;
    if (rho >= 1) out[at + 3] = Infinity;
    else if (servers === 1) pkPositive(rho, th, lam * (m0 - 1), lam * m1, lam * m2, out, at + 3);
    else if (!Number.isFinite(a)) continue;
    else if (th >= a) out[at + 3] = Infinity;
    else {
      out[at + 3] = Math.log(a / (a - th));
      out[at + 4] = 1 / (a - th);
      out[at + 5] = 1 / (a - th) ** 2;
    }
  }
  if (!(lam > 0)) return 1;
  if (rho >= 1) return 0;
  if (servers === 1) return 1 - rho;
  return Number.isFinite(a) ? 1 - c : 1;
}

/**
 * The Edge TPU's calls as a Markov chain of classes (a call reloads when the one before had another token), not
 * independent draws: the per-call MGF that governs the wait is the largest eigenvalue μ(θ) of
 * Q_ab = π_b·E[e^{θS} | previous a, this b] = u_b − δ_ab·d_b (u_b = π_b C_b R_b, d_b = π_b C_b (R_b − 1)), the root of
 * Σ_b u_b / (μ + d_b) = 1 above −min d_b. Its pole in the Pollaczek–Khinchine form is the exact decay rate of the
 * wait's tail (the Lundberg root of the Markov-modulated walk), which the mixture of independent calls puts too
 * far: runs of alternating tenants reload call after call. μ, μ′, μ″ into out, with `x` scratch space of six
 * numbers per tenant; false when it does not settle.
 */
function markovMgf(
  terms: readonly OptionTerms[],
  m: number,
  L: number,
  out: Float64Array,
  x: Float64Array,
): boolean {
  // x[6b..6b+5] = u_b, u_b′, u_b″, d_b, d_b′, d_b″ of the tenants on the Edge TPU; the root starts at
  // Σ u_b − Σ u_b d_b / Σ u_b, exact to first order in d (Σ u_b/μ · (1 − d_b/μ) = 1).
  let n = 0;
  let U = 0;
  let ud = 0;
  let dMin = Infinity;
  for (const t of terms) {
    if (t.lam === 0) continue;
    const pi = t.lam / L;
    const v = t.tpu;
    const at = 6 * n;
    for (let j = 0; j < 6; j++) x[at + j] = pi * v[m + j]!;
    U += x[at]!;
    ud += x[at]! * x[at + 3]!;
    if (x[at + 3]! < dMin) dMin = x[at + 3]!;
    n++;
  }
  let mu = U - ud / U;
  if (n === 2) {
    // (μ + d₀)(μ + d₁) = u₀(μ + d₁) + u₁(μ + d₀): the larger root of μ² + Bμ + C.
    const B = x[3]! + x[9]! - U;
    const C = x[3]! * x[9]! - x[0]! * x[9]! - x[6]! * x[3]!;
    const disc = B * B - 4 * C;
    if (disc >= 0) mu = B < 0 ? (-B + Math.sqrt(disc)) / 2 : (-2 * C) / (B + Math.sqrt(disc));
  }
  let a = 0;
  for (let it = 0; it < 20; it++) {
    let f = -1;
    a = 0;
    for (let b = 0; b < 6 * n; b += 6) {
      const s = mu + x[b + 3]!;
      const q = x[b]! / s;
      f += q;
      a += q / s;
    }
    if (Math.abs(f) <= 1e-10) break;
    const step = f / a;
    const next = mu + step;
    mu = next > -dMin ? next : (mu - dMin) / 2;
    // Newton converges quadratically: after a step under 10⁻⁷ the error is far below what the tail needs (and a
    // from the step before is as good).
    if (Math.abs(step) <= 1e-7 * Math.abs(mu)) break;
    if (it === 19) return false;
  }
  // a = Σ u/s² (s = μ + d): μ′·a = Σ (u′/s − u d′/s²); μ″·a = Σ (u″/s − 2u′(μ′ + d′)/s² − u d″/s² + 2u(μ′ + d′)²/s³).
  let b1 = 0;
  for (let b = 0; b < 6 * n; b += 6) {
    const s = mu + x[b + 3]!;
    b1 += (x[b + 1]! - (x[b]! * x[b + 4]!) / s) / s;
  }
  const mu1 = b1 / a;
  let b2 = 0;
  for (let b = 0; b < 6 * n; b += 6) {
    const s = mu + x[b + 3]!;
    const e = mu1 + x[b + 4]!;
    b2 += (x[b + 2]! - (2 * x[b + 1]! * e + x[b]! * x[b + 5]!) / s + (2 * x[b]! * e * e) / (s * s)) / s;
  }
  out[0] = mu;
  out[1] = mu1;
  out[2] = b2 / a;
  return Number.isFinite(mu) && Number.isFinite(mu1) && Number.isFinite(out[2]!);
}

/** Upper tail of the standard normal, 1 − Φ(z) (Abramowitz & Stegun 7.1.26 through erfc; |error| < 1.5e−7). */
function normalTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
    Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/**
 * The Lugannani–Rice saddlepoint approximation of P(X > x) at the saddlepoint θ (K′(θ) = x):
 * 1 − Φ(w) + φ(w)·(1/u − 1/w), w = √(2(θx − K)), u = θ·√K″.
 */
function lugannaniRice(theta: number, k: number, k1: number, k2: number): number {
  const w = Math.sqrt(Math.max(0, 2 * (theta * k1 - k)));
  const u = theta * Math.sqrt(k2);
  if (!(w > 1e-6 && u > 0)) return 0.5;
  const p = normalTail(w) + (Math.exp(-0.5 * w * w) / Math.sqrt(2 * Math.PI)) * (1 / u - 1 / w);
  return Math.min(1, Math.max(0, p));
}

/**
 * The Edge TPU terms of options (`OptionTerms.tpu`) by catalog and stage, for the θ grid they were computed at
 * (the last one per catalog): they depend on neither rates nor decisions, so every screen of the same SLOs shares
 * them, and one array per distinct stage is what the wait cache of {@link SloScreen} compares.
 */
const tpuTermsCache = new WeakMap<TenantCatalog, { grid: string; byStage: Map<string, Float64Array> }>();

/** The `tpu` arrays of a catalog's stages at the θ grid `grid` ({@link tpuTermsCache}). */
function tpuArraysOf(catalog: TenantCatalog, grid: string): Map<string, Float64Array> {
  const hit = tpuTermsCache.get(catalog);
  if (hit?.grid === grid) return hit.byStage;
  const byStage = new Map<string, Float64Array>();
  tpuTermsCache.set(catalog, { grid, byStage });
  return byStage;
}

/** Each catalog's cut delays (`delayMs`, 0 when absent) by k. */
const delayCache = new WeakMap<TenantCatalog, Map<number, number>>();

/** The `delayMs` of the catalog's cut k (0 when absent or no such cut). */
function delayOf(catalog: TenantCatalog, k: number): number {
  let byK = delayCache.get(catalog);
  if (byK === undefined) {
    byK = new Map();
    // The first cut of each k, as a search of the list would find.
    for (const c of catalog.cuts) if (!byK.has(c.k)) byK.set(c.k, c.delayMs ?? 0);
    delayCache.set(catalog, byK);
  }
  return byK.get(k) ?? 0;
}

/** What {@link SloScreen.evaluate} says of one configuration. */
export interface SloCheck {
  /** Per tenant (system order): the approximated P(R > sloMs), in [0, 1]; null for a tenant without an SLO. */
  miss: (number | null)[];
  /** Σ over SLO tenants of max(0, ln(miss / (margin × allowed miss))): 0 exactly when every SLO passes. */
  violation: number;
}

/**
 * The saddlepoint screen of one decision: the tenants (at the rates they are planned at) and their options'
 * terms, computed on first use and kept. Evaluate any choice per tenant.
 */
export class SloScreen {
  readonly tenants: readonly PlannedTenant[];
  /** Indices of the tenants with an SLO. */
  readonly sloIndex: readonly number[];
  /** Allowed miss probability 1 − level of each tenant, times the margin (NaN without an SLO). */
  readonly allowed: Float64Array;
  /** θ (per ms) of the whole grid: GRID values per SLO tenant, in `sloIndex` order. */
  readonly theta: Float64Array;
  readonly #terms: Map<string, OptionTerms>[];
  readonly #byObject: WeakMap<TenantChoice, OptionTerms>[];
  readonly #k = new Float64Array(3);
  /** The screen this one was {@link rescaled} from: its option terms are shared where the rates allow. */
  #parent: SloScreen | null = null;
  /** Per SLO tenant (s) and grid point (g), at [3(s·GRID + g)..]: K, K′, K″ of the Edge TPU wait given W > 0. */
  readonly #wait: Float64Array;
  /** Which of #wait hold values for the Edge TPU stages in #waitOf[s] (1) or not yet (0). */
  readonly #waitDone: Uint8Array;
  /** Per SLO tenant, the Edge TPU stages (`tpu` arrays, null off the Edge TPU) #wait was computed for. */
  readonly #waitOf: (Float64Array | null)[][];
  /** The θ grid as its SLOs (θ = c/sloMs): the key of {@link tpuTermsCache}. */
  readonly #grid: string;
  /** Per component of {@link SloScreen.#tail}, where its bisection starts; and where the last one ended. */
  readonly #from = new Int32Array(4);
  /** μ, μ′, μ″ of {@link markovMgf}. */
  readonly #mu = new Float64Array(3);
  /** Scratch space of {@link markovMgf}: six numbers per tenant. */
  readonly #x: Float64Array;
  /** The SLO tenant being evaluated, and the component of its response (see {@link SloScreen.#tail}). */
  readonly #at: EvaluationContext = { terms: [], o: NO_TERMS, s: 0, L: 0, rho: 0, p: 0, c: 0 };
  #lo = 0;
  /** Per SLO tenant and component (4s + c), where the last evaluation's first grid point past sloMs was. */
  readonly #last: Int32Array;
  /** The choice per tenant of the last configuration evaluated, and its terms (see #configuration). */
  readonly #lastChoice: (TenantChoice | null)[];
  readonly #lastTerms: OptionTerms[];

  constructor(tenants: readonly PlannedTenant[], margin = SLO_MARGIN) {
    this.tenants = tenants;
    this.sloIndex = tenants.flatMap((t, i) => (t.sloMs !== undefined ? [i] : []));
    this.allowed = Float64Array.from(tenants, (t) =>
      t.sloMs === undefined ? Number.NaN : margin * (1 - sloLevel(t.sloPercentile)),
    );
    this.theta = new Float64Array(this.sloIndex.length * GRID);
    this.sloIndex.forEach((ti, s) => {
      for (let g = 0; g < GRID; g++) this.theta[s * GRID + g] = GRID_C[g]! / tenants[ti]!.sloMs!;
    });
    this.#wait = new Float64Array(3 * GRID * this.sloIndex.length);
    this.#waitDone = new Uint8Array(GRID * this.sloIndex.length);
    this.#waitOf = this.sloIndex.map(() => tenants.map(() => null));
    this.#grid = this.sloIndex.map((i) => tenants[i]!.sloMs).join(',');
    this.#last = new Int32Array(4 * this.sloIndex.length);
    this.#x = new Float64Array(6 * tenants.length);
    this.#terms = tenants.map(() => new Map());
    this.#byObject = tenants.map(() => new WeakMap());
    this.#lastChoice = tenants.map(() => null);
    this.#lastTerms = tenants.map(() => NO_TERMS);
  }

  /**
   * The same tenants at other rates (`tenants`: the same names, catalogs, devices and SLOs, e.g. with part of a
   * tenant's load shed), sharing this screen's option terms: a tenant at its rate here takes them as they are, one
   * without an SLO at another rate takes them with its new arrival rate (its Edge TPU terms do not depend on it);
   * only an SLO tenant at another rate has its own terms computed again. What admission control's search
   * evaluates at every step.
   * @throws InvalidArgumentError for tenants that are not these at other rates.
   */
  rescaled(tenants: readonly PlannedTenant[]): SloScreen {
    const same = (a: PlannedTenant, b: PlannedTenant): boolean =>
      a.name === b.name &&
      a.catalog === b.catalog &&
      a.device === b.device &&
      a.sloMs === b.sloMs &&
      a.sloPercentile === b.sloPercentile;
    if (tenants.length !== this.tenants.length || tenants.some((t, i) => !same(t, this.tenants[i]!))) {
      throw new InvalidArgumentError(
        expected(
          'the same tenants at other rates',
          'SloScreen.rescaled',
          tenants.map((t) => t.name),
        ),
      );
    }
    const out = new SloScreen(tenants);
    // The margin is the parent's (the constructor's default may differ from it).
    out.allowed.set(this.allowed);
    out.#parent = this.#parent ?? this;
    return out;
  }

  /** Tenant i's terms at `choice` from the parent screen, when its rate allows (null: compute them). */
  #inherited(i: number, choice: TenantChoice): OptionTerms | null {
    const parent = this.#parent;
    if (parent === null) return null;
    const rate = this.tenants[i]!.rate;
    if (parent.tenants[i]!.rate === rate) return parent.#termsOf(i, choice);
    if (this.tenants[i]!.sloMs !== undefined) return null;
    // λ is the only rate in the terms of a tenant without an SLO (0 without an Edge TPU stage).
    const terms = parent.#termsOf(i, choice);
    return tenantSetup(this.tenants[i]!, choice).tpu === null ? terms : { ...terms, lam: perMs(rate) };
  }

  #termsOf(i: number, choice: TenantChoice): OptionTerms {
    // By identity first: the search hands the same option objects again and again.
    const byObject = this.#byObject[i]!.get(choice);
    if (byObject !== undefined) return byObject;
    const key = `${choice.k}/${choice.cores}/${choice.mode}`;
    const cached = this.#terms[i]!.get(key) ?? this.#inherited(i, choice);
    if (cached !== null && cached !== undefined) {
      this.#terms[i]!.set(key, cached);
      this.#byObject[i]!.set(choice, cached);
      return cached;
    }
    const t = this.tenants[i]!;
    const setup = tenantSetup(t, choice);
    const T = this.theta.length;
    const stage = setup.tpu;
    // One array per distinct Edge TPU stage: options that differ in their CPU stage only share it (and the
    // wait computed from it, see #tail).
    const tpuKey = stage === null ? '' : `${stage.serviceMs}/${stage.reloadMs}/${stage.serviceVarianceMs2}`;
    const byStage = tpuArraysOf(t.catalog, this.#grid);
    const shared = byStage.get(tpuKey);
    const tpu = shared ?? new Float64Array(stage === null ? 0 : 6 * T);
    byStage.set(tpuKey, tpu);
    if (stage !== null && shared === undefined) {
      const { serviceMs: x, reloadMs: r, serviceVarianceMs2: v } = stage;
      for (let q = 0; q < T; q++) {
        const th = this.theta[q]!;
        const c = Math.exp(th * x + 0.5 * th * th * v);
        const cr = c * Math.exp(th * r);
        const a = x + th * v; // C′/C
        const b = a + r; // (C·R)′/(C·R)
        tpu[6 * q] = cr;
        tpu[6 * q + 1] = cr * b;
        tpu[6 * q + 2] = cr * (b * b + v);
        tpu[6 * q + 3] = cr - c;
        tpu[6 * q + 4] = cr * b - c * a;
        tpu[6 * q + 5] = cr * (b * b + v) - c * (a * a + v);
      }
    }
    let own: Float64Array | null = null;
    let cpuAtom = 1;
    const delay = delayOf(t.catalog, choice.k);
    const s = this.sloIndex.indexOf(i);
    if (s >= 0) {
      own = new Float64Array(6 * GRID);
      cpuAtom = cpuCumulants(setup, this.theta.subarray(s * GRID, (s + 1) * GRID), own);
      for (let g = 0; g < GRID; g++) {
        const th = this.theta[s * GRID + g]!;
        own[6 * g] = own[6 * g]! + th * delay;
        own[6 * g + 1] = own[6 * g + 1]! + delay;
      }
    }
    const terms: OptionTerms = {
      lam: stage === null ? 0 : perMs(t.rate),
      x: stage?.serviceMs ?? 0,
      r: stage?.reloadMs ?? 0,
      v: stage?.serviceVarianceMs2 ?? 0,
      tpu,
      own,
      cpuAtom,
      cpuSup: delay + (setup.cpu === null ? 0 : largestOf(setup.cpu.samplesMs)),
      f: own === null ? null : new Float64Array(3 * GRID),
      fDone: own === null ? null : new Uint8Array(GRID),
      fAt: Number.NaN,
    };
    this.#terms[i]!.set(key, terms);
    this.#byObject[i]!.set(choice, terms);
    return terms;
  }

  /** The approximated miss probability of every SLO tenant at one choice per tenant (in the order of `tenants`). */
  evaluate(choices: readonly TenantChoice[]): SloCheck {
    const { terms, L, rho } = this.#configuration(choices, 'SloScreen.evaluate');
    const miss: (number | null)[] = Array.from({ length: this.tenants.length }, () => null);
    let violation = 0;
    this.sloIndex.forEach((i, s) => {
      const tail = this.#tail(terms, i, s, L, rho);
      miss[i] = tail;
      const ratio = tail / this.allowed[i]!;
      if (ratio > 1) violation += Math.log(ratio);
    });
    return { miss, violation };
  }

  /**
   * {@link SloScreen.evaluate}'s `violation` when it is at most `bound`, else a number above `bound` that it is at
   * least: the SLO tenants' terms are summed in the same order, and the sum stops once past `bound`. What a search
   * needs to reject a candidate that cannot beat the best it holds, without every SLO tenant's tail.
   */
  violationWithin(choices: readonly TenantChoice[], bound: number): number {
    const { terms, L, rho } = this.#configuration(choices, 'SloScreen.violationWithin');
    let violation = 0;
    for (let s = 0; s < this.sloIndex.length && !(violation > bound); s++) {
      const i = this.sloIndex[s]!;
      const ratio = this.#tail(terms, i, s, L, rho) / this.allowed[i]!;
      if (ratio > 1) violation += Math.log(ratio);
    }
    return violation;
  }

  /** The option terms of one choice per tenant, Λ per ms and ρ of the Edge TPU. */
  #configuration(
    choices: readonly TenantChoice[],
    what: string,
  ): { terms: OptionTerms[]; L: number; rho: number } {
    const n = this.tenants.length;
    if (choices.length !== n)
      throw new InvalidArgumentError(expected(`${n} choices (one per tenant)`, what, choices.length));
    // Consecutive configurations of a search differ in one or two tenants: the others' terms are the last ones.
    const terms = this.#lastTerms;
    for (let i = 0; i < n; i++) {
      const c = choices[i]!;
      if (this.#lastChoice[i] !== c) {
        this.#lastChoice[i] = c;
        terms[i] = this.#termsOf(i, c);
      }
    }
    let L = 0;
    for (const o of terms) L += o.lam;
    // ρ of the Edge TPU with p_j = 1 − λ_j/Λ (as the mean model).
    let rho = 0;
    for (const o of terms) if (o.lam > 0) rho += o.lam * (o.x + (1 - o.lam / L) * o.r);
    return { terms, L, rho };
  }

  /**
   * P(R > sloMs) of SLO tenant i (the s-th), split at the waits' atoms: R = F + W_T + W_C with F the own call, the
   * CPU stage and the cut delay, and each wait 0 or positive. A wait's atom (1 − ρ) makes R a mixture whose
   * modes — "no wait", a narrow peak, and the waits' long tails — a single saddlepoint fits badly (it said 10⁻³⁰⁰
   * for a true 1 % behind an M/G/c wait that only 1.4 % of the calls meet), so the tail is the weighted sum of the
   * four components', each by the saddlepoint.
   */
  #tail(terms: readonly OptionTerms[], i: number, s: number, L: number, rho: number): number {
    const o = terms[i]!;
    const slo = this.tenants[i]!.sloMs!;
    const p = o.lam > 0 ? 1 - o.lam / L : 0;
    const at = this.#at;
    at.terms = terms;
    at.o = o;
    at.s = s;
    at.L = L;
    at.rho = rho;
    at.p = p;
    // The Edge TPU wait depends on the Edge TPU stages only: kept while they stay the same.
    const of = this.#waitOf[s]!;
    let same = true;
    for (let j = 0; j < terms.length; j++) {
      const stage = terms[j]!.lam > 0 ? terms[j]!.tpu : null;
      if (of[j] !== stage) {
        of[j] = stage;
        same = false;
      }
    }
    if (!same) this.#waitDone.fill(0, s * GRID, (s + 1) * GRID);
    // The atoms P(W = 0); a wait positive with probability under 10⁻⁶ counts as a miss whenever positive.
    let aT = o.lam > 0 && rho > 0 ? 1 - rho : 1;
    let aC = o.cpuAtom;
    let tail = 0;
    if (aT > 1 - 1e-6) {
      tail += 1 - aT;
      aT = 1;
    }
    if (aC > 1 - 1e-6) {
      tail += 1 - aC;
      aC = 1;
    }
    // F alone is bounded when the call is deterministic: nothing of it misses past its largest value.
    const fSup = (o.v > 0 ? Infinity : o.x + (p > 0 ? o.r : 0)) + o.cpuSup;
    // Components by the waits they include (bit 1: W_T, bit 2: W_C), most first. A wait adds to K′ at every θ,
    // so a component's first grid point past sloMs is at or after that of every component with more waits.
    const from = this.#from;
    from.fill(0);
    for (let c = 3; c >= 0; c--) {
      const w = (c & 1 ? 1 - aT : aT) * (c & 2 ? 1 - aC : aC);
      const lower = Math.max(from[c]!, from[c | 1]!, from[c | 2]!);
      from[c] = lower;
      if (!(w > 0) || (c === 0 && fSup <= slo)) continue;
      at.c = c;
      tail += w * this.#componentTail(s, slo, lower);
      from[c] = this.#lo;
    }
    return Math.min(1, tail);
  }

  /**
   * K, K′, K″ of the component `#at.c` of the SLO tenant being evaluated at its grid point g into #k; false where
   * it diverges: the option's F (the own call, the CPU stage, the cut delay), plus W_T given W_T > 0 (#wait,
   * computed on first use and only for a component with W_T), plus W_C given W_C > 0 (the option's).
   */
  #cumulants(g: number): boolean {
    const { terms, o, s, L, rho, p, c } = this.#at;
    const k = this.#k;
    const own = o.own!;
    const q = s * GRID + g;
    const m = 6 * q;
    // F: kept with the option for the Λ it was computed at (the search evaluates many configurations at one Λ).
    const f = o.f!;
    if (o.fAt !== L) {
      o.fAt = L;
      o.fDone!.fill(0);
    }
    if (o.fDone![g] === 0) {
      o.fDone![g] = 1;
      for (let j = 0; j < 3; j++) f[3 * g + j] = own[6 * g + j]!;
      if (o.lam > 0) {
        // The own call: C(1 + p(R − 1)); its derivatives from the stored products.
        const v = o.tpu;
        const m0 = v[m]! - v[m + 3]! + p * v[m + 3]!;
        const m1 = v[m + 1]! - v[m + 4]! + p * v[m + 4]!;
        const m2 = v[m + 2]! - v[m + 5]! + p * v[m + 5]!;
        f[3 * g] = f[3 * g]! + Math.log(m0);
        f[3 * g + 1] = f[3 * g + 1]! + m1 / m0;
        f[3 * g + 2] = f[3 * g + 2]! + m2 / m0 - (m1 / m0) ** 2;
      }
    }
    const tw = (c & 1) === 1 && o.lam > 0;
    const parts = this.#wait;
    const w = 3 * q;
    if (tw && this.#waitDone[q] === 0) {
      this.#waitDone[q] = 1;
      // G = Λ(μ − 1) and its derivatives, μ the per-call MGF of the chain of calls (markovMgf).
      const mu = this.#mu;
      if (markovMgf(terms, m, L, mu, this.#x))
        pkPositive(rho, this.theta[q]!, L * (mu[0]! - 1), L * mu[1]!, L * mu[2]!, parts, w);
      else parts[w] = Infinity;
    }
    const cw = (c & 2) === 2;
    for (let j = 0; j < 3; j++)
      k[j] = f[3 * g + j]! + (tw ? parts[w + j]! : 0) + (cw ? own[6 * g + 3 + j]! : 0);
    return Number.isFinite(k[0]!) && Number.isFinite(k[1]!);
  }

  /**
   * P(X > slo) of the component `#at.c` of the s-th SLO tenant's response ({@link SloScreen.#cumulants}). K′
   * grows with θ, so the first grid point past sloMs is searched for from `from` on (galloping, then bisecting;
   * it is left in #lo), and the Lugannani–Rice tails of the two saddlepoints that bracket sloMs are interpolated
   * in log.
   */
  #componentTail(s: number, slo: number, from: number): number {
    const k = this.#k;
    const past = (g: number): boolean => !this.#cumulants(g) || k[1]! >= slo;
    // [lo, hi) holds the first grid point past sloMs (GRID when none is). K′ grows with θ, so there is one: the
    // last evaluation's for this component is tried first (the search's configurations differ little).
    let lo = from;
    let hi = GRID;
    const memo = 4 * s + this.#at.c;
    const last = this.#last[memo]!;
    if (last > from && last < GRID) {
      if (!past(last)) lo = last + 1;
      else if (past(last - 1)) hi = last - 1;
      else lo = hi = last;
    }
    if (lo > 0)
      for (let step = 1; lo < hi; step *= 2) {
        const probe = Math.min(lo + step - 1, hi - 1);
        if (past(probe)) {
          hi = probe;
          break;
        }
        lo = probe + 1;
      }
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (past(mid)) hi = mid;
      else lo = mid + 1;
    }
    this.#lo = lo;
    this.#last[memo] = lo;
    if (lo > 0 && lo < GRID) {
      // The usual case: sloMs between two saddlepoints.
      if (!this.#cumulants(lo - 1)) return 1;
      const k0 = k[0]!;
      const x0 = k[1]!;
      const p0 = lugannaniRice(this.theta[s * GRID + lo - 1]!, k0, x0, k[2]!);
      if (!this.#cumulants(lo)) return p0;
      const p1 = lugannaniRice(this.theta[s * GRID + lo]!, k[0]!, k[1]!, k[2]!);
      const f = (slo - x0) / (k[1]! - x0);
      return Math.exp((1 - f) * Math.log(Math.max(p0, 1e-300)) + f * Math.log(Math.max(p1, 1e-300)));
    }
    if (lo === 0) {
      // sloMs at or below the smallest saddlepoint, near or below the mean: the normal tail with the mean and
      // variance read off there (K′(θ) ≈ μ + θσ²) when that tilt is small (θσ ≤ 1/4: the component is narrow
      // beside the SLO, as a CPU stage behind a rare wait), else 1 (a wide, skewed component: most of it misses).
      if (!this.#cumulants(0)) return 1;
      const th = this.theta[s * GRID]!;
      const sd = Math.sqrt(Math.max(0, k[2]!));
      if (th * sd > 0.25) return 1;
      const mu = k[1]! - th * k[2]!;
      return sd > 0 ? normalTail((slo - mu) / sd) : slo < mu ? 1 : 0;
    }
    // Beyond the grid: the last point's tail.
    this.#cumulants(GRID - 1);
    return lugannaniRice(this.theta[s * GRID + GRID - 1]!, k[0]!, k[1]!, k[2]!);
  }
}

/** The approximated P(R > sloMs) of every tenant of a configured system with an SLO (null without one). */
export function sloMissProbabilities(system: SystemSetup): (number | null)[] {
  // A one-cut catalog per tenant: the screen works on catalogs, the system is already one choice per tenant.
  const tenants: PlannedTenant[] = system.tenants.map((t) => ({
    name: t.name,
    rate: t.rate,
    ...(t.sloMs !== undefined ? { sloMs: t.sloMs } : {}),
    ...(t.sloPercentile !== undefined ? { sloPercentile: t.sloPercentile } : {}),
    catalog: {
      model: t.name,
      n: t.n,
      edgetpuPrefix: t.k,
      cuts: [
        {
          k: t.k,
          tpu: t.tpu,
          cpu: t.cpu === null ? null : new Map([[t.cpu.mode === 'mg1' ? t.cores : 1, t.cpu.samplesMs]]),
          boundaryBytes: 0,
          tpuMacsShare: 0,
        },
      ],
    } as unknown as TenantCatalog,
  }));
  return new SloScreen(tenants).evaluate(
    system.tenants.map((t) => ({ k: t.k, cores: t.cores, mode: t.cpu?.mode ?? 'mg1' })),
  ).miss;
}

/** Options of {@link sloSearch}. */
export interface SloSearchOptions {
  /** Rounds of the repair and of the polish, each (default 12). */
  rounds?: number;
  /** Extra starts (e.g. the configuration in effect). */
  starts?: readonly (readonly TenantChoice[])[];
  /** Stop at the first configuration that passes every SLO, without polishing its mean (default false). */
  feasibility?: boolean;
  /**
   * Options per tenant the moves consider: for each core count, with and without the Edge TPU, this many with the
   * lowest own term (default 3), plus the one in effect.
   */
  shortlist?: number;
  /** At most this many configurations evaluated (default 1500); the best found so far is the answer. */
  budget?: number;
  /** Spaces (product of the tenants' option counts) up to this size are searched exhaustively (default 2000). */
  exhaustiveLimit?: number;
}

/** Result of {@link sloSearch}. */
export interface SloSearchResult {
  choices: TenantChoice[];
  /** Predicted mean response (default model), ms, at the rates searched. */
  meanResponseMs: number;
  /** True when the screen passes every SLO. */
  feasible: boolean;
  check: SloCheck;
  /** Configurations evaluated. */
  evaluated: number;
}

/**
 * Shortlists by table and length: a table depends on its tenant's rate only, and admission control's searches
 * share the tables of the tenants it does not shed (`prepareFastModel`'s `like`).
 */
const shortlistCache = new WeakMap<FastModel['tables'][number], Map<number, number[]>>();

/** Per table, the first option index of each (k, cores), by k·4096 + cores. */
const firstCache = new WeakMap<FastModel['tables'][number], Map<number, number>>();

/** The index of the table's first option at cut k with `cores` cores (−1 when none). */
function firstWith(table: FastModel['tables'][number], k: number, cores: number): number {
  let byKey = firstCache.get(table);
  if (byKey === undefined) {
    byKey = new Map();
    for (let o = table.choices.length - 1; o >= 0; o--) {
      const c = table.choices[o]!;
      byKey.set(c.k * 4096 + c.cores, o);
    }
    firstCache.set(table, byKey);
  }
  if (Number.isInteger(k) && Number.isInteger(cores) && cores >= 0 && cores < 4096)
    return byKey.get(k * 4096 + cores) ?? -1;
  return table.choices.findIndex((x) => x.k === k && x.cores === cores);
}

/** Per tenant, the option indices the moves consider (see {@link SloSearchOptions.shortlist}). */
function shortlists(model: FastModel, keep: number): number[][] {
  return model.tables.map((t, i) => {
    const byKeep = shortlistCache.get(t) ?? new Map<number, number[]>();
    shortlistCache.set(t, byKeep);
    const known = byKeep.get(keep);
    if (known !== undefined) return known;
    const groups = new Map<number, { o: number; v: number }[]>();
    for (let o = 0; o < t.choices.length; o++) {
      const key = 2 * t.cores[o]! + (t.tok[o]! >= 0 ? 1 : 0);
      const g = groups.get(key) ?? [];
      g.push({ o, v: ownTerm(model, i, o) });
      groups.set(key, g);
    }
    const out: number[] = [];
    for (const g of groups.values()) {
      g.sort((a, b) => a.v - b.v);
      for (const x of g.slice(0, keep)) if (Number.isFinite(x.v)) out.push(x.o);
    }
    out.sort((a, b) => a - b);
    byKeep.set(keep, out);
    return out;
  });
}

/**
 * The best configuration by mean among those the screen passes for every SLO, by local search over a shortlist
 * of each tenant's options: from the mean-optimal configuration (and `starts`), first repair (the single-tenant
 * move, or pair of moves handing cores from one tenant to another, that lowers the violation most, ties by mean;
 * when stuck, any pair of a failing tenant's and another tenant's options), then polish (moves that lower the mean
 * and keep the SLOs). Not exact: `npm run bench:slo` compares it with an exhaustive search.
 */
export function sloSearch(
  model: FastModel,
  screen: SloScreen,
  start: readonly TenantChoice[],
  options: SloSearchOptions = {},
): SloSearchResult {
  const tables = model.tables;
  const m = tables.length;
  const rounds = options.rounds ?? 12;
  const budget = options.budget ?? 1500;
  const short = shortlists(model, options.shortlist ?? 3);
  let evaluated = 0;
  const indexOf = (i: number, c: TenantChoice): number =>
    tables[i]!.choices.findIndex((x) => x.k === c.k && x.cores === c.cores && x.mode === c.mode);
  const choicesOf = (p: readonly number[]): TenantChoice[] => p.map((o, i) => tables[i]!.choices[o]!);
  const coresOf = (p: readonly number[]): number => p.reduce((s, o, i) => s + tables[i]!.cores[o]!, 0);
  // The repair meets the same configurations again (the moves of the tenant that just moved, the pair moves):
  // each is scored once. A repeat still counts against the budget, so the search is the same, only faster.
  // A candidate only has to beat the best held (`bound`: the violation it must not exceed): the screen stops once
  // past it, and the score kept is then a lower bound (`exact` false), screened again when a later bound needs more.
  const seen = new Map<number | string, { v: number; mean: number; exact: boolean }>();
  const keyOf = configKey(tables);
  const score = (p: number[], bound = Infinity): { v: number; mean: number } => {
    evaluated++;
    const key = keyOf(p);
    const known = seen.get(key);
    if (known !== undefined && (known.exact || known.v > bound)) return known;
    const mean = known?.mean ?? fastObjective(model, p);
    const v = Number.isFinite(mean) ? screen.violationWithin(choicesOf(p), bound) : Infinity;
    const s = { v, mean, exact: !(v > bound) || !Number.isFinite(mean) };
    seen.set(key, s);
    return s;
  };
  /** The bound of a candidate that {@link better} compares with `b`: above it, it cannot be better. */
  const beating = (b: { v: number } | undefined): number => (b === undefined ? Infinity : b.v + 1e-12);
  const better = (a: { v: number; mean: number }, b: { v: number; mean: number }): boolean =>
    a.v < b.v - 1e-12 || (Math.abs(a.v - b.v) <= 1e-12 && a.mean < b.mean);
  let best: { p: number[]; s: { v: number; mean: number } } | null = null;
  if (tables.reduce((n, t) => n * t.choices.length, 1) <= (options.exhaustiveLimit ?? 2000)) {
    // A small space: every configuration within the core budget, exactly (under the screen).
    forEachWithin(tables, model.cores, (p) => {
      const sp = score(p, beating(best?.s));
      if (best === null || better(sp, best.s)) best = { p: [...p], s: sp };
    });
  }
  for (const st of best === null ? [start, ...(options.starts ?? [])] : []) {
    // Feasibility asks for one configuration that passes: found from an earlier start, the rest are moot.
    if (evaluated >= budget || (options.feasibility === true && best?.s.v === 0)) break;
    const p0 = st.map((c, i) => indexOf(i, c));
    if (p0.some((o) => o < 0) || coresOf(p0) > model.cores) continue;
    let p = p0;
    let s = score(p);
    // Repair, then polish: the same moves, accepted by (violation, mean) — once the violation is 0 only moves
    // that keep it 0 and lower the mean are better.
    for (let round = 0; round < 2 * rounds && evaluated < budget; round++) {
      if (options.feasibility === true && s.v === 0) break;
      let move: { p: number[]; s: { v: number; mean: number } } | null = null;
      // The candidates are written into one scratch copy of p (and put back): only an accepted move is copied.
      const q = [...p];
      const consider = (): void => {
        if (evaluated >= budget || coresOf(q) > model.cores) return;
        const bar = move?.s ?? s;
        // Polishing (the violation to beat ≈ 0, and none is below 0): only a lower mean can be better, so a
        // candidate whose mean is not lower is not screened (still counted, so the search stays the same).
        if (bar.v <= 1e-12 && !seen.has(keyOf(q)) && !(fastObjective(model, q) < bar.mean)) {
          evaluated++;
          return;
        }
        const sq = score(q, beating(bar));
        if (better(sq, bar)) move = { p: [...q], s: sq };
      };
      for (let i = 0; i < m; i++) {
        for (const o of short[i]!) {
          if (o === p[i]) continue;
          q[i] = o;
          if (coresOf(q) <= model.cores) consider();
          else {
            // Hand cores over: another tenant j keeps its cut with as many fewer cores as needed.
            const need = coresOf(q) - model.cores;
            for (let j = 0; j < m; j++) {
              if (j === i) continue;
              const cj = tables[j]!.choices[p[j]!]!;
              const want = tables[j]!.cores[p[j]!]! - need;
              if (want < 1) continue;
              const oj = firstWith(tables[j]!, cj.k, want);
              if (oj < 0) continue;
              q[j] = oj;
              consider();
              q[j] = p[j]!;
            }
          }
          q[i] = p[i]!;
        }
      }
      if (move === null && s.v > 0) {
        // Stuck while an SLO is broken: move two tenants at once, a tenant whose SLO fails and any other (e.g.
        // the one holding the cores it needs), over their shortlists.
        const failing = screen
          .evaluate(choicesOf(p))
          .miss.flatMap((x, i) => (x !== null && x > screen.allowed[i]! ? [i] : []));
        for (const i of failing)
          for (let j = 0; j < m; j++) {
            if (j === i) continue;
            for (const o of short[i]!)
              for (const oj of short[j]!) {
                if (o === p[i] && oj === p[j]) continue;
                q[i] = o;
                q[j] = oj;
                consider();
                q[i] = p[i]!;
                q[j] = p[j]!;
              }
          }
      }
      if (move === null) break;
      p = (move as { p: number[] }).p;
      s = (move as { s: { v: number; mean: number } }).s;
    }
    if (best === null || better(s, best.s)) best = { p, s };
  }
  if (best === null)
    throw new InvalidArgumentError(expected('a start that fits the core budget', 'sloSearch', start.length));
  const choices = choicesOf(best.p);
  const check = screen.evaluate(choices);
  return { choices, meanResponseMs: best.s.mean, feasible: check.violation === 0, check, evaluated };
}

/** A key per configuration (one option index per table): a number while the space allows, else a string. */
function configKey(
  tables: readonly { choices: readonly unknown[] }[],
): (p: readonly number[]) => number | string {
  if (!(tables.reduce((n, t) => n * t.choices.length, 1) < 2 ** 52)) return (p) => p.join(',');
  return (p) => {
    let key = 0;
    for (let i = 0; i < tables.length; i++) key = key * tables[i]!.choices.length + p[i]!;
    return key;
  };
}

/**
 * Calls `visit` with every configuration (one option index per table) whose cores fit `cores`, in lexicographic
 * order; the array is reused between calls (copy it to keep it).
 */
function forEachWithin(
  tables: readonly { choices: readonly unknown[]; cores: ArrayLike<number> }[],
  cores: number,
  visit: (p: number[]) => void,
): void {
  const walk = (i: number, p: number[], left: number): void => {
    if (i === tables.length) {
      visit(p);
      return;
    }
    for (let o = 0; o < tables[i]!.choices.length; o++) {
      if (tables[i]!.cores[o]! > left) continue;
      p.push(o);
      walk(i + 1, p, left - tables[i]!.cores[o]!);
      p.pop();
    }
  };
  walk(0, [], cores);
}

/** The largest of `xs` (Infinity for none: an empty sample list bounds nothing, so no tail is ruled out). */
function largestOf(xs: readonly number[]): number {
  if (xs.length === 0) return Number.POSITIVE_INFINITY;
  let m = Number.NEGATIVE_INFINITY;
  for (const x of xs) if (x > m) m = x;
  return m;
}

/**
 * Admission control's root finding: the largest admitted fraction in [`floor`, 1] that passes, to about 2^−`steps`.
 * The searched violation falls with the admitted fraction: regula falsi (Illinois) on the signed violation between
 * the floor (passes, `gFloor`) and all admitted (fails; `gAll`, NaN when unknown). Each step aims tol/2 past its
 * estimate of the root, on the side the last step did not move, so that a good estimate closes the bracket to the
 * precision of `steps` bisection steps in 2 or 3 searches instead of `steps`. It stops after `steps` + 2 searches
 * whether or not the bracket closed (a guess that keeps landing on one side leaves it wider): finishing it by
 * bisection admitted ~1 % more load in 11 of 600 benchmark decisions, at a median predicted mean 4.7× higher (what is
 * admitted runs closer to saturation), so the cap stays. It also stops when `more` says so (a decision's budget is
 * spent): the largest fraction found passing is the answer.
 */
function largestPassing(
  signed: (admit: number) => { feasible: boolean; g: number },
  floor: number,
  gFloor: number,
  gAll: number,
  steps: number,
  more: () => boolean = () => true,
): number {
  const tol = 2 ** -steps;
  let lo = floor;
  let hi = 1;
  let gLo = gFloor;
  let gHi = gAll;
  let kept = 0;
  let side = 0;
  for (let step = 0; step < steps + 2 && hi - lo > tol && more(); step++) {
    const secant = gHi > 0 && gLo < 0;
    const guess = secant ? lo + ((hi - lo) * -gLo) / (gHi - gLo) : (lo + hi) / 2;
    const mid = Math.min(hi - tol / 2, Math.max(lo + tol / 2, guess + (side * tol) / 2));
    const { feasible, g } = signed(mid);
    if (feasible) {
      lo = mid;
      gLo = g;
      side = 1;
      // The same end kept twice: halve its value so the next guess moves it (Illinois).
      if (++kept >= 2) gHi /= 2;
    } else {
      hi = mid;
      gHi = g;
      side = -1;
      kept = 0;
    }
  }
  return lo;
}

/**
 * A search result as one signed number for admission control's root finding: the violation when nothing passed
 * (> 0), else the largest ln(miss / allowed) over the SLO tenants (≤ 0: how much room the SLOs leave).
 */
function signedViolation(r: SloSearchResult, allowed: Float64Array): number {
  if (!r.feasible) return r.check.violation;
  let room = Number.NEGATIVE_INFINITY;
  r.check.miss.forEach((m, i) => {
    if (m !== null) room = Math.max(room, Math.log(Math.max(m, 1e-300) / allowed[i]!));
  });
  return Math.min(0, room);
}

/** At most this many steps from the admitted fraction in effect before admission control searches. */
const KEPT_STEPS = 4;

/**
 * The shedding in effect, kept when it still fits: the policy ticks every second at nearly the same rates, and
 * admission control's searches (≈ 1,000 configurations screened: the search at full rates that shows nothing
 * passes, then 5–7 at admitted fractions) would mostly find the plan in effect again. When `previous` sheds a
 * common fraction a < 1 of the tenants `free` (those without an SLO) and nothing of the others, its configuration
 * is kept at the fraction a ± j·`step` (j ≤ {@link KEPT_STEPS}) where it passes the screen now while one step more
 * does not, raised by bisection to its own limit within `step`/8 (where admission control's search of the
 * fraction, which is continuous, would end for it) — a few screen evaluations. `down` when it had to go below a
 * (the load rose): then another configuration may pass above it, which the caller checks. Null when there is no
 * such fraction within those steps or it passes with nothing shed (then admission control searches).
 */
function keptShedding(
  tenants: readonly PlannedTenant[],
  cores: number,
  screen: SloScreen,
  free: readonly number[],
  previous: readonly TenantChoice[] | undefined,
  step: number,
): { r: SloSearchResult; admit: number[]; down: boolean } | null {
  if (previous?.length !== tenants.length || free.length === 0) return null;
  const a = previous[free[0]!]!.admit ?? 1;
  const at = (x: number): number[] => tenants.map((_, i) => (free.includes(i) ? x : 1));
  if (!(a >= 0 && a < 1) || previous.some((c, i) => (c.admit ?? 1) !== at(a)[i])) return null;
  const scaled = (x: number): PlannedTenant[] => tenants.map((t, i) => ({ ...t, rate: t.rate * at(x)[i]! }));
  if (previous.reduce((n, c) => n + c.cores, 0) > cores) return null;
  const choices = previous.map(({ admit: _, ...c }) => c);
  let evaluated = 0;
  const checkAt = (x: number): SloCheck => {
    evaluated++;
    return (x >= 1 ? screen : screen.rescaled(scaled(x))).evaluate(choices);
  };
  let x = a;
  let check = checkAt(a);
  // Down to the first fraction at which it passes (the rates rose); the caller checks that no other
  // configuration passes one step above.
  const down = check.violation > 0;
  for (let j = 0; check.violation > 0; j++) {
    if (j === KEPT_STEPS || x <= 0) return null;
    x = Math.max(0, x - step);
    check = checkAt(x);
  }
  // Up while one step more passes (the rates fell): as far as it goes, but not to all admitted.
  for (let j = 0; !down; j++) {
    const up = Math.min(1, x + step);
    const next = checkAt(up);
    if (next.violation > 0) break;
    if (up >= 1 || j === KEPT_STEPS - 1) return null;
    x = up;
    check = next;
  }
  // The configuration's own limit between x (passes) and one step above (fails), to an eighth of a step: where
  // admission control's search of the fraction, continuous, would end for it.
  let hi = Math.min(1, x + step);
  for (let j = 0; j < 3; j++) {
    const mid = (x + hi) / 2;
    const next = checkAt(mid);
    if (next.violation > 0) hi = mid;
    else {
      x = mid;
      check = next;
    }
  }
  // The configuration as the tables hold it (the same objects a search returns), and its mean at the admitted rates.
  if (!fastSearchApplicable(scaled(x))) return null;
  const model = prepareFastModel(scaled(x), cores);
  const picks = choices.map((c, i) =>
    model.tables[i]!.choices.findIndex((y) => y.k === c.k && y.cores === c.cores && y.mode === c.mode),
  );
  if (picks.some((o) => o < 0)) return null;
  const meanResponseMs = fastObjective(model, picks);
  if (!Number.isFinite(meanResponseMs)) return null;
  return {
    r: {
      choices: picks.map((o, i) => model.tables[i]!.choices[o]!),
      meanResponseMs,
      feasible: true,
      check,
      evaluated,
    },
    admit: at(x),
    down,
  };
}

/** An SLO-constrained plan: the choices, what is admitted of each tenant, and why. */
export interface SloPlan {
  /** One choice per tenant; `admit` set (< 1) on the tenants whose load is shed. */
  choices: TenantChoice[];
  /** Predicted mean response of the admitted requests, ms. */
  meanResponseMs: number;
  /** True when the screen passes every SLO (after shedding, if any). */
  feasible: boolean;
  /** Admitted fraction per tenant (system order), 1 when nothing is shed. */
  admit: number[];
  /** Approximated P(R > sloMs) per tenant (null without an SLO), at the admitted rates. */
  miss: (number | null)[];
  /** What the SLOs changed, for the decision's reason ('' when the mean-optimal plan already met them). */
  reason: string;
  evaluated: number;
}

/** Options of {@link sloPlan}. */
export interface SloPlanOptions extends SloSearchOptions {
  /** Precision of the admitted fraction, as bisection steps: within 2^−shedSteps (default 6: within 2 %). */
  shedSteps?: number;
  /** The predicted mean of `best`, ms, when the caller has it (saves computing it again). */
  bestMeanMs?: number;
  /**
   * The admitted fractions in effect (the previous decision's): when shedding, they are tried first, and kept
   * when they still meet the SLOs and 2 points more would not — a steady load then costs two searches, not a
   * search of the fraction.
   */
  previousAdmit?: readonly number[];
  /**
   * The configuration in effect, with its admitted fractions (the previous decision's). When it sheds a common
   * fraction of the tenants without an SLO, it is kept at the fraction near that one where it passes the screen
   * now and one step (2^−shedSteps) more would not, without admission control's searches ({@link keptShedding}:
   * when that fraction is lower, after one search one step above it that finds nothing passing).
   */
  previous?: readonly TenantChoice[];
  /**
   * At most about this many configurations evaluated by the decision (default: no limit). Admission control then
   * stops when the budget is spent and returns the largest admitted fraction it found passing the screen (safe:
   * it sheds more rather than less; its configuration the feasibility search's when no budget is left to polish
   * the mean), and a decision whose `previous` and `previousAdmit` shed a common fraction of the tenants without
   * an SLO continues from there — that fraction, when it still passes, as the lower end of the search and its
   * configuration as every search's first start, full rates searched again only once the fraction nears 1 —, so
   * over a few ticks at nearly the same rates the fraction reaches the unbudgeted one. Once the budget is spent,
   * the searches of the fraction and the polish are skipped, a search at full rates the decision still needs gets
   * {@link SHED_RESERVE} evaluations, and the search at the floor fraction, which makes the plan safe, is never cut
   * short (it stops at the first configuration that passes): a decision evaluates at most the budget, 2 ×
   * SHED_RESERVE and that search.
   */
  shedBudget?: number;
  /**
   * Also shed load of the tenants with an SLO when shedding all the others is not enough (default false: then the
   * configuration closest to the SLOs is kept and nothing of an SLO tenant is refused).
   */
  shedSloTenants?: boolean;
  /**
   * When the shortlist search finds nothing that passes, search once more over every option before shedding
   * (default true; the policy's per-tick hook turns it off to bound a decision's time).
   */
  wide?: boolean;
}

/** The plan of a search result `r` at the admitted fractions `admit`, for the reason `why`. */
function planOf(r: SloSearchResult, admit: number[], why: string, evaluated: number): SloPlan {
  return {
    choices: r.choices.map((c, i) => (admit[i]! < 1 ? { ...c, admit: admit[i]! } : c)),
    meanResponseMs: r.meanResponseMs,
    feasible: r.feasible,
    admit,
    miss: r.check.miss,
    reason: why,
    evaluated,
  };
}

/** The reason of a plan that sheds `admit` of the tenants `free` (those without an SLO). */
function shedReason(
  tenants: readonly PlannedTenant[],
  free: readonly number[],
  admit: readonly number[],
): string {
  const names = free.map((i) => tenants[i]!.name).join(', ');
  return `SLOs (${slos(tenants)}) not met by any configuration: shed ${pct(1 - admit[free[0]!]!)} of the requests of ${names} (no SLO)`;
}

const pct = (x: number): string => `${(100 * x).toFixed(x > 0.995 || x < 0.005 ? 1 : 0)} %`;

/** The SLOs of tenants, for reasons: "a p99 ≤ 40 ms, b p95 ≤ 80 ms". */
function slos(tenants: readonly PlannedTenant[]): string {
  return tenants
    .filter((t) => t.sloMs !== undefined)
    .map((t) => `${t.name} ${t.sloPercentile ?? DEFAULT_SLO_PERCENTILE} ≤ ${t.sloMs} ms`)
    .join(', ');
}

/**
 * Screen evaluations a search that a budgeted decision ({@link SloPlanOptions.shedBudget}) needs (the search at
 * full rates, which decides whether to shed at all) still gets once the budget is spent: about one round of the
 * search's moves.
 */
export const SHED_RESERVE = 32;

/**
 * The `shedBudget` of the policy's per-tick decision ({@link withSlos}): configurations evaluated. A cold shedding
 * decision of 4 tenants in `npm run bench:controller` section 4 then takes ≈ 1 ms after its fast search when what
 * the screen builds per rate is cached (≈ 0.45 ms fixed: the screen's terms and the searches' models, then ≈ 3 µs
 * per configuration), 4–5 ms at new rates — short of the 2 ms p99 it aims at; at steady rates it admits what the unbudgeted decision does (within 2^−6) at the first tick in
 * about half of them, within 5 ticks in 99 %.
 */
export const SHED_BUDGET = 200;

/**
 * With a {@link SloPlanOptions.shedBudget}, the share of it the search at full rates may spend, and each
 * feasibility search of the fraction: one that finds nothing passing within it counts as failing (it sheds more;
 * the next tick, starting from the configuration in effect, searches on).
 */
const PLAIN_SHARE = 0.4;
const PROBE_SHARE = 0.2;
/**
 * With a budget, the share of it a kept shedding's search one step above may spend (when continuing). Half the
 * budget: in `bench:controller`'s section 4 as converged as with all of it (0.3 too, 0.2 left 20 of 104 decisions
 * short after 10 ticks), for about half the cost of a steady tick.
 */
const KEPT_PROBE_SHARE = 0.5;

/** One decision's searches at admitted fractions ({@link sloPlan}): the models, starts, and evaluations spent. */
class Admission {
  /** Configurations evaluated so far (the screen of `best` included). */
  evaluated = 1;
  /** The fast model at full rates, once built: it lends the tables of the tenants not shed. */
  #fullRates: FastModel | undefined;
  /**
   * With a budget, the configuration in effect when continuing ({@link Admission.continuing}), then the last one
   * found passing: the first start of the next search.
   */
  #held: TenantChoice[] | null = null;

  constructor(
    readonly tenants: readonly PlannedTenant[],
    readonly cores: number,
    readonly best: readonly TenantChoice[],
    readonly options: SloPlanOptions,
    readonly screen: SloScreen,
  ) {}

  /** Evaluations left of the decision's budget (Infinity without one). */
  get left(): number {
    return (this.options.shedBudget ?? Number.POSITIVE_INFINITY) - this.evaluated;
  }

  /**
   * With a budget, when the configuration in effect sheds a common fraction a < 1 of the tenants `free` and
   * nothing of the others: a, where admission control continues from (the last tick's budget ran out, or the
   * rates moved); its configuration becomes every search's first start. Null otherwise.
   */
  continuing(free: readonly number[]): number | null {
    const { previous, previousAdmit, shedBudget } = this.options;
    if (shedBudget === undefined || !Number.isFinite(shedBudget) || free.length === 0) return null;
    if (previous?.length !== this.tenants.length || previousAdmit?.length !== this.tenants.length)
      return null;
    const a = previousAdmit[free[0]!]!;
    const common = previousAdmit.every((x, i) => x === (free.includes(i) ? a : 1));
    if (!(a >= 0 && a < 1) || !common) return null;
    this.#held = previous.map(({ admit: _, ...c }) => c);
    return a;
  }

  /**
   * The SLO search at the admitted fractions `admit` (null when nothing is admitted at all). `feasibility`: stop at
   * the first configuration that passes; `needed`: made even when the budget is spent (then with at least
   * {@link SHED_RESERVE} evaluations), else skipped (null); `safe`: the search that makes the plan safe (at the
   * floor fraction), given the per-search budget whatever is left; `bestFirst`: from `best` before the
   * configuration held; `share`: of the budget at most (default: the full rates' search {@link PLAIN_SHARE}, a
   * feasibility search made only with budget left {@link PROBE_SHARE}, else all that is left).
   */
  attempt(
    admit: readonly number[],
    { feasibility = false, needed = true, safe = false, bestFirst = false, share = Number.NaN } = {},
  ): SloSearchResult | null {
    if (!needed && !(this.left > 0)) return null;
    const { tenants, cores, best, options } = this;
    const scaled = tenants.map((t, i) => ({ ...t, rate: t.rate * admit[i]! }));
    if (!fastSearchApplicable(scaled)) return null;
    // The tables of the tenants not shed come from the full rates' model.
    const all = admit.every((a) => a === 1);
    const model = prepareFastModel(scaled, cores, this.#fullRates);
    if (all) this.#fullRates ??= model;
    const known = (cs: readonly TenantChoice[]): boolean =>
      cs.every((c, i) =>
        model.tables[i]!.choices.some((x) => x.k === c.k && x.cores === c.cores && x.mode === c.mode),
      );
    // From the mean-optimal configuration at full rates when the pruned options still hold it (a full fast search
    // at the admitted rates only when they do not): most of a decision's time would go there.
    const start = known(best) ? best : fastSearchPrepared(model).choices;
    // With a budget, the configuration held (in effect, or the last found passing) first, unless `bestFirst`.
    const held = this.#held !== null && known(this.#held) ? this.#held : null;
    const [first, ...then] = held === null ? [start] : bestFirst ? [start, held] : [held, start];
    // The search at full rates and each probe of the fraction get a share of the budget (the rest is left for the
    // others); the search at the floor what is left.
    const part = !Number.isNaN(share) ? share : all ? PLAIN_SHARE : feasibility && !needed ? PROBE_SHARE : 1;
    const budget =
      options.shedBudget === undefined || safe
        ? options.budget
        : Math.max(SHED_RESERVE, Math.min(options.budget ?? 1500, this.left, part * options.shedBudget));
    // The screen at these rates shares the option terms of the full rates' (only the shed tenants' λ differ).
    const r = sloSearch(model, all ? this.screen : this.screen.rescaled(scaled), first!, {
      ...options,
      ...(then.length > 0 ? { starts: [...then, ...(options.starts ?? [])] } : {}),
      ...(feasibility ? { rounds: Math.min(options.rounds ?? 6, 6) } : {}),
      ...(budget !== undefined ? { budget } : {}),
      // Exhaustive only where the whole space fits the budget (it counts every configuration).
      ...(options.shedBudget !== undefined
        ? { exhaustiveLimit: Math.min(options.exhaustiveLimit ?? 2000, budget ?? 0) }
        : {}),
      feasibility,
    });
    this.evaluated += r.evaluated;
    // With a budget, the last configuration found passing is the next search's first start (at a nearby fraction,
    // a short repair away): more of the fraction searched within the budget.
    if (options.shedBudget !== undefined && r.feasible) this.#held = r.choices;
    return r;
  }

  /** The search at full rates, and (unless `wide` is false) once more over every option when it finds nothing. */
  plain(): SloSearchResult {
    let plain = this.attempt(this.tenants.map(() => 1))!;
    if (!plain.feasible && this.options.wide !== false && this.left > 0) {
      // Before refusing any request: once more over every option, not only the shortlists.
      const model = prepareFastModel(this.tenants, this.cores);
      const wide = sloSearch(model, this.screen, plain.choices, {
        starts: [this.best],
        shortlist: Infinity,
        budget: Math.min(6000, this.left),
      });
      this.evaluated += wide.evaluated;
      if (wide.feasible || wide.check.violation < plain.check.violation) plain = wide;
    }
    return plain;
  }

  /**
   * The largest common admitted fraction in [`floor`, 1) of the tenants `group` (the others at `base`) that
   * passes, with its configuration (null when not even `floor` passes). `gAll`: the signed violation at all
   * admitted (NaN when unknown); `from`, a fraction to start from when it passes (the one in effect).
   */
  shedGroup(
    group: readonly number[],
    base: readonly number[],
    floor: number,
    gAll: number,
    from: number | undefined,
  ): { r: SloSearchResult; admit: number[] } | null {
    const allowed = this.screen.allowed;
    const at = (a: number): number[] => base.map((b, i) => (group.includes(i) ? a : b));
    // The passing configuration of the largest fraction searched (feasibility only): the plan when the budget
    // runs out before the polish, or when the polish finds nothing that passes.
    let found: { r: SloSearchResult; a: number } | null = null;
    const tried = (a: number, needed: boolean): SloSearchResult | null => {
      const r = this.attempt(at(a), { feasibility: true, needed, safe: needed });
      if (r?.feasible === true && (found === null || a > found.a)) found = { r, a };
      return r;
    };
    // Feasibility only while searching the fraction; the one found is searched again in full (its mean polished).
    const done = (a: number): { r: SloSearchResult; admit: number[] } => {
      const polished = this.attempt(at(a), { needed: false });
      const kept = found as { r: SloSearchResult; a: number } | null;
      const r = polished?.feasible !== true && kept?.a === a ? kept.r : polished;
      return { r: r!, admit: at(a) };
    };
    const budgeted = this.options.shedBudget !== undefined;
    let lo = floor;
    let gLo = Number.NaN;
    if (from !== undefined && from < 1 && from >= floor && tried(from, false)?.feasible) {
      const more = Math.min(1, from + 0.02);
      const above = tried(more, false);
      if (above?.feasible !== true) return done(from);
      if (budgeted) {
        // Continue from there: the fractions below it passed a tick ago too.
        lo = more;
        gLo = signedViolation(above, allowed);
      }
    }
    if (Number.isNaN(gLo)) {
      const none = tried(floor, true);
      if (none === null || !none.feasible) return null;
      gLo = signedViolation(none, allowed);
    }
    const signed = (a: number): { feasible: boolean; g: number } => {
      const r = tried(a, false);
      return { feasible: r?.feasible === true, g: r === null ? Infinity : signedViolation(r, allowed) };
    };
    const steps = this.options.shedSteps ?? 6;
    return done(largestPassing(signed, lo, gLo, gAll, steps, () => this.left > 0));
  }
}

/**
 * The SLO-constrained plan of tenants at their rates, from the mean-optimal configuration `best` (the fast
 * search's): `best` itself when the screen passes every SLO, else {@link sloSearch}'s; when nothing meets
 * them all, admission control sheds load — a common fraction of every tenant without an SLO (the largest that
 * still meets the SLOs, to 2^−shedSteps, by regula falsi on the signed violation), and only when shedding all of
 * them is not enough and `shedSloTenants` is set, a common fraction of the SLO tenants too; else the configuration
 * closest to the SLOs, nothing shed. Tenants need the fast path ({@link fastSearchApplicable}).
 * When `previous` sheds and its configuration passes near its fraction, it is kept without admission control's
 * searches ({@link keptShedding}). With a `shedBudget`, admission control stops when it is spent, with the largest
 * fraction found passing (see {@link SloPlanOptions.shedBudget}).
 */
export function sloPlan(
  tenants: readonly PlannedTenant[],
  cores: number,
  best: readonly TenantChoice[],
  options: SloPlanOptions = {},
): SloPlan {
  const ones = tenants.map(() => 1);
  const screen = new SloScreen(tenants);
  const first = screen.evaluate(best);
  if (first.violation === 0) {
    const meanResponseMs = options.bestMeanMs ?? Number.NaN;
    return planOf(
      { choices: [...best], meanResponseMs, feasible: true, check: first, evaluated: 1 },
      ones,
      '',
      1,
    );
  }
  const ac = new Admission(tenants, cores, best, options, screen);
  const result = (r: SloSearchResult, admit: number[], why: string): SloPlan =>
    planOf(r, admit, why, ac.evaluated);
  const names = (group: readonly number[]): string => group.map((i) => tenants[i]!.name).join(', ');
  const free = tenants.flatMap((t, i) => (t.sloMs === undefined && t.rate > 0 ? [i] : []));
  const shedFree = (shed: { r: SloSearchResult; admit: number[] }): SloPlan =>
    result(shed.r, shed.admit, shedReason(tenants, free, shed.admit));
  const step = 2 ** -(options.shedSteps ?? 6);
  // A budgeted decision continuing a shedding one searches full rates only once the fraction nears 1 again.
  const from = ac.continuing(free);
  const kept = keptShedding(tenants, cores, screen, free, options.previous, step);
  if (kept !== null) {
    ac.evaluated += kept.r.evaluated;
    // Kept lower (the load rose) only when no configuration passes one step above, as admission control's would;
    // when continuing a budgeted decision, kept at all only then (the last tick may have stopped short), searched
    // with a share of the budget.
    const up = kept.admit.map((a, i) => (free.includes(i) ? Math.min(1, a + step) : a));
    const above =
      kept.down || from !== null
        ? ac.attempt(up, { feasibility: true, needed: false, bestFirst: true, share: KEPT_PROBE_SHARE })
        : null;
    if (above?.feasible !== true) return shedFree(kept);
  }
  let plain = from === null ? ac.plain() : null;
  const changed = (r: SloSearchResult): SloPlan =>
    result(r, ones, `configuration changed for the SLOs (${slos(tenants)})`);
  if (plain?.feasible === true) return changed(plain);
  if (free.length > 0) {
    const gAll = plain === null ? Number.NaN : signedViolation(plain, screen.allowed);
    const shed = ac.shedGroup(free, ones, 0, gAll, from ?? options.previousAdmit?.[free[0]!]);
    const top = shed !== null && shed.admit[free[0]!]! >= 1 - 2 * step;
    if (plain === null && (shed === null || top)) {
      plain = ac.plain();
      if (plain.feasible) return changed(plain);
    }
    if (shed !== null) return shedFree(shed);
  }
  plain ??= ac.plain();
  const bound = tenants.flatMap((t, i) => (t.sloMs !== undefined ? [i] : []));
  const shed =
    options.shedSloTenants !== true
      ? null
      : ac.shedGroup(
          bound,
          tenants.map((t) => (t.sloMs === undefined ? 0 : 1)),
          0.01,
          Number.NaN,
          options.previousAdmit?.[bound[0]!],
        );
  if (shed !== null)
    return result(
      shed.r,
      shed.admit,
      `SLOs (${slos(tenants)}) not met even without the tenants that have none: shed ${free.length > 0 ? `all requests of ${names(free)} and ` : ''}${pct(1 - shed.admit[bound[0]!]!)} of ${names(bound)}`,
    );
  return result(
    plain,
    ones,
    `SLOs (${slos(tenants)}) cannot be met${free.length > 0 ? ` even without ${names(free)}` : ''}: configuration closest to them, nothing shed`,
  );
}

/** A search result as the policy keeps it. */
export interface SearchedPlan {
  choices: TenantChoice[];
  predictedMs: number;
  /** What the SLOs changed (absent when nothing). */
  sloReason?: string;
}

/**
 * The policy's hook after its search: without SLOs `found` as it is; with them {@link sloPlan}'s configuration,
 * admitted fractions and reason. `current`, the configuration in effect, is sloPlan's `previous` (a steady
 * overload keeps its shedding for a few screen evaluations).
 */
export function withSlos(
  tenants: readonly PlannedTenant[],
  cores: number,
  found: SearchedPlan,
  current?: readonly TenantChoice[],
): SearchedPlan {
  if (!hasSlo(tenants) || !fastSearchApplicable(tenants)) return found;
  const plan = sloPlan(tenants, cores, found.choices, {
    // A tick's decision stays bounded: shortlists and a smaller budget only (planWorkload searches wider).
    wide: false,
    budget: 600,
    shedBudget: SHED_BUDGET,
    bestMeanMs: found.predictedMs,
    ...(current?.length === tenants.length
      ? { previousAdmit: current.map((c) => c.admit ?? 1), previous: current }
      : {}),
  });
  if (plan.reason === '') return found;
  return { choices: plan.choices, predictedMs: plan.meanResponseMs, sloReason: plan.reason };
}

/** {@link sloSwitchReason} when the admitted fractions moved: acted on at once (not a breach to debounce). */
export const ADMISSION_CHANGED = 'admission control changed for the SLOs';

/**
 * Why the policy must switch from `current` to `candidate` whatever the hysteresis says (null: let it decide):
 * the configuration in effect breaks an SLO the candidate meets (by the screen, at the tenants' rates now), or the
 * admitted fractions differ by more than 5 points.
 */
export function sloSwitchReason(
  tenants: readonly PlannedTenant[],
  current: readonly TenantChoice[],
  candidate: readonly TenantChoice[],
): string | null {
  if (!hasSlo(tenants)) return null;
  const admitted = (cs: readonly TenantChoice[]) =>
    cs.map((c, i) => ({ ...tenants[i]!, rate: tenants[i]!.rate * (c.admit ?? 1) }));
  if (candidate.some((c, i) => Math.abs((c.admit ?? 1) - (current[i]!.admit ?? 1)) > 0.05))
    return ADMISSION_CHANGED;
  const now = new SloScreen(admitted(current)).evaluate(current);
  if (now.violation === 0) return null;
  const next = new SloScreen(admitted(candidate)).evaluate(candidate);
  return next.violation < now.violation ? 'the configuration in effect breaks an SLO' : null;
}

/** Fraction of responses within `ms` from quantiles at the simulator's CDF levels (0.01 … 0.99, 0.999). */
export function fractionWithin(cdfMs: readonly number[], ms: number): number {
  const levels = [...Array.from({ length: 99 }, (_, i) => (i + 1) / 100), 0.999];
  if (cdfMs.length !== levels.length)
    throw new InvalidArgumentError(expected(`${levels.length} quantiles`, 'fractionWithin', cdfMs.length));
  if (ms < cdfMs[0]!) return 0;
  for (let j = levels.length - 1; j >= 0; j--) {
    if (cdfMs[j]! <= ms) {
      if (j === levels.length - 1) return levels[j]!;
      const a = cdfMs[j]!;
      const b = cdfMs[j + 1]!;
      return b > a ? levels[j]! + ((levels[j + 1]! - levels[j]!) * (ms - a)) / (b - a) : levels[j]!;
    }
  }
  return 0;
}

/**
 * A simulated system with each SLO tenant's attainment: the fraction of its responses within `sloMs` and whether
 * the simulated quantile at its percentile is within it.
 */
export function simulatedAttainment<
  S extends { tenants: { name: string; p95Ms: number; p99Ms: number; cdfMs?: number[] }[] },
>(sim: S, system: SystemSetup): S {
  return {
    ...sim,
    tenants: sim.tenants.map((t, i) => {
      const setup = system.tenants[i];
      if (setup?.sloMs === undefined) return t;
      const q = sloLevel(setup.sloPercentile) === 0.95 ? t.p95Ms : t.p99Ms;
      return {
        ...t,
        ...(t.cdfMs !== undefined ? { withinSlo: fractionWithin(t.cdfMs, setup.sloMs) } : {}),
        sloMet: q <= setup.sloMs,
      };
    }),
  };
}

/** An arrival time past any run: the simulator never reaches it. */
const NEVER = Number.MAX_VALUE;

/**
 * Admission control in the simulator: the arrival traces the simulation reads, thinned from a decision's time on
 * by each tenant's admitted fraction (a seeded uniform per arrival, so a run is reproducible). The simulator reads
 * a trace lazily, one arrival ahead: {@link admit} rewrites only what lies beyond the next unread arrival, packing
 * the admitted ones and padding with a time past any run (no arrival). The offered traces stay untouched for the
 * policy to observe. A limit: once a tenant's trace has run out under a fraction of 0, a later higher fraction
 * cannot revive it (the simulator already holds the padding as its next arrival).
 */

export class ThinnedTraces {
  /** What the simulation reads, by tenant. */
  readonly traces: Record<string, Float64Array>;
  readonly #offered: Readonly<Record<string, ArrayLike<number>>>;
  readonly #draws: Record<string, Float64Array>;
  readonly #admit: Record<string, number> = {};

  constructor(offered: Readonly<Record<string, ArrayLike<number>>>, seed: number) {
    this.#offered = offered;
    this.traces = Object.fromEntries(Object.entries(offered).map(([n, t]) => [n, Float64Array.from(t)]));
    let state = Math.imul(seed + 1, 2654435761) >>> 0 || 1;
    const next = (): number => {
      // xorshift32: plenty for thinning, and independent of the simulator's streams.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 4294967296;
    };
    this.#draws = Object.fromEntries(
      Object.entries(offered).map(([n, t]) => [n, Float64Array.from(t, next)]),
    );
    for (const n of Object.keys(offered)) this.#admit[n] = 1;
  }

  /** From `nowMs` on, admit the fraction `admit[name]` of each named tenant's arrivals (1 when absent). */
  admit(nowMs: number, admit: Readonly<Record<string, number>>): void {
    for (const [name, offered] of Object.entries(this.#offered)) {
      const a = admit[name] ?? 1;
      if (a === this.#admit[name]) continue;
      this.#admit[name] = a;
      const out = this.traces[name]!;
      // The first arrival at or after now may already be read: keep it, rewrite what follows.
      let i = 0;
      while (i < out.length && out[i]! < nowMs) i++;
      const after = i < out.length && out[i]! < NEVER ? out[i]! : nowMs - Number.MIN_VALUE;
      let q = 0;
      while (q < offered.length && offered[q]! <= after) q++;
      const draws = this.#draws[name]!;
      let w = Math.min(i + 1, out.length);
      for (; q < offered.length; q++) if (draws[q]! < a) out[w++] = offered[q]!;
      out.fill(NEVER, w);
    }
  }

  /** Offered arrivals of `name` at or after `fromMs` that the simulation never saw (refused by admission control). */
  shed(name: string, fromMs = 0): number {
    const count = (xs: ArrayLike<number>): number => {
      let n = 0;
      for (let q = 0; q < xs.length; q++) if (xs[q]! >= fromMs && xs[q]! < NEVER) n++;
      return n;
    };
    return count(this.#offered[name]!) - count(this.traces[name]!);
  }
}

/** The admitted fraction per tenant name of a decision (only those below 1). */
export function admitted(decision: Decision): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of decision.tenants) if (c.admit !== undefined && c.admit < 1) out[c.name] = c.admit;
  return out;
}
