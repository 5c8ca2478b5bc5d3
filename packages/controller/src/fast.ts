/**
 * Fast configuration search for the default latency model (`mg1-default`).
 *
 * Why it can be fast: the default model couples tenants only through the Edge TPU aggregates. With
 * separately compiled segments (every tenant's tokens are its own), p_i = 1 − λ_i/Λ_T, so
 *
 *   ρ_T      = Σλx + Σλr − (1/Λ_T)·Σλ²r
 *   Λ_T·E[S²]= Σλ(v + x²) + Σλ(2xr + r²) − (1/Λ_T)·Σλ²(2xr + r²)
 *   Σ λ_i R_i = Σ λ_i·cpu_i + 1000·(ρ_T + Λ_T·W_T),   W_T = Λ_T·E[S²] / (2(1 − ρ_T))
 *
 * (λ per ms inside the TPU sums). Every sum is additive over tenants, so each (tenant, option) is reduced once
 * per decision to a vector of 9 contributions and a candidate configuration costs O(tenants) to evaluate —
 * and a single-tenant move costs O(1) against the precomputed sum of the others. When two tenants can share a
 * caching token the p_i of a token group is not additive: configurations where two tenants pick the same token
 * are detected and evaluated with the token-group formula instead (exact; slower only for those).
 */
import { expected, InvalidArgumentError } from '@swapless/core';
import { type Moments, mg1WaitMs, mgcWaitMs, sampleMoments } from '@swapless/queueing';
import type { CutCandidate, TenantCatalog } from './catalog.js';
import { type PlannedTenant, type TenantChoice, tenantChoices } from './setup.js';

/** Number of additive contributions per option. */
const W = 9;
// Layout of one contribution vector.
const ON = 0; // λ (per ms) if the option uses the Edge TPU, else 0
const LX = 1; // λ·x
const LR = 2; // λ·r
const L2R = 3; // λ²·r
const LVX = 4; // λ·(v + x²)
const LXR = 5; // λ·(2xr + r²)
const L2XR = 6; // λ²·(2xr + r²)
const CPU = 7; // λ[/s]·(W_C + E[S_C])  (Infinity when the CPU stage is unstable)
// 1 if the option uses the Edge TPU: an exact integer count, so that "nobody on the TPU" is recognised even
// after incremental updates of the sums left rounding residue in the other components.
const CNT = 8;

/** Rate-independent facts about one catalogued cut, cached per catalog. */
interface CutFacts {
  cut: CutCandidate;
  /** Moments of the CPU samples per thread count (empty for k = n). */
  moments: Map<number, Moments>;
}

const factsCache = new WeakMap<TenantCatalog, { facts: CutFacts[]; kept: Set<number> }>();

function dominatesCut(a: CutFacts, b: CutFacts): boolean {
  // Same TPU presence only (presence changes Λ_T and thus every other tenant's switch probability).
  if ((a.cut.tpu === null) !== (b.cut.tpu === null)) return false;
  if ((a.cut.cpu === null) !== (b.cut.cpu === null)) return false;
  const ta = a.cut.tpu;
  const tb = b.cut.tpu;
  if (ta !== null && tb !== null) {
    if (ta.serviceMs > tb.serviceMs || ta.reloadMs > tb.reloadMs) return false;
    if (ta.serviceVarianceMs2 > tb.serviceVarianceMs2) return false;
  }
  for (const [threads, mb] of b.moments) {
    const ma = a.moments.get(threads);
    if (ma === undefined) return false;
    // mg1 waits grow with E[S] and E[S²]; the M/G/c form also with E[S²]/E[S]: require all three.
    if (ma.meanMs > mb.meanMs || ma.secondMomentMs2 > mb.secondMomentMs2) return false;
    if (ma.secondMomentMs2 * mb.meanMs > mb.secondMomentMs2 * ma.meanMs) return false;
  }
  return true;
}

/**
 * Rate-independent pruning of a catalog's cuts: a cut whose Edge TPU stage is no cheaper (call, reload,
 * variance) and whose CPU suffix is no cheaper at every measured thread count than another cut's can never be
 * part of a better configuration, whatever the rates (the objective is monotone in each of these). Exact.
 */
function catalogFacts(catalog: TenantCatalog): { facts: CutFacts[]; kept: Set<number> } {
  let f = factsCache.get(catalog);
  if (f !== undefined) return f;
  const facts = catalog.cuts.map((cut) => ({
    cut,
    moments: new Map(
      [...(cut.cpu ?? new Map<number, readonly number[]>())].map(([t, s]) => [t, sampleMoments(s)]),
    ),
  }));
  const kept = new Set<number>();
  for (let i = 0; i < facts.length; i++) {
    let dominated = false;
    for (let j = 0; j < facts.length && !dominated; j++) {
      if (i === j || !dominatesCut(facts[j]!, facts[i]!)) continue;
      // Equal pairs: keep the lower index only.
      dominated = !dominatesCut(facts[i]!, facts[j]!) || j < i;
    }
    if (!dominated) kept.add(facts[i]!.cut.k);
  }
  f = { facts, kept };
  factsCache.set(catalog, f);
  return f;
}

const choicesCache = new WeakMap<TenantCatalog, Map<number, { all: TenantChoice[]; facts: CutFacts[] }>>();

/** The undominated choices of a catalog at a core budget, with their cut facts (cached: rate-independent). */
function choicesOf(catalog: TenantCatalog, cores: number): { all: TenantChoice[]; facts: CutFacts[] } {
  let byCores = choicesCache.get(catalog);
  if (byCores === undefined) {
    byCores = new Map();
    choicesCache.set(catalog, byCores);
  }
  let hit = byCores.get(cores);
  if (hit === undefined) {
    const { facts, kept } = catalogFacts(catalog);
    const byK = new Map(facts.map((f) => [f.cut.k, f]));
    const all = tenantChoices(catalog, cores).filter((c) => kept.has(c.k));
    hit = { all, facts: all.map((c) => byK.get(c.k)!) };
    byCores.set(cores, hit);
  }
  return hit;
}

/**
 * True when the fast path can be used: some tenant has a positive rate (with every rate 0 the default model's
 * objective is a plain mean, not Σλ_iR_i/Λ). Caching tokens that appear in the catalogs of several tenants
 * (identical or co-compiled segments) are handled exactly: a configuration in which two tenants pick the same
 * token is evaluated by the token-group formula instead of the additive one ({@link FastModel.sharedTokens}).
 */
export function fastSearchApplicable(tenants: readonly PlannedTenant[]): boolean {
  return tenants.some((t) => t.rate > 0);
}

/** One tenant's options reduced to contribution vectors at its current rate. */
interface TenantTable {
  choices: TenantChoice[];
  cores: Int32Array;
  /** W numbers per option. */
  vec: Float64Array;
  /** Lower bound of the tenant's own λ·R term (CPU term + λ·x): used by branch and bound. */
  minOwn: number;
  minCores: number;
  /** Token id of each option (−1 without a TPU stage). */
  tok: Int32Array;
  /** 1 when the option's token also appears in another tenant's catalog. */
  shared: Uint8Array;
  /** x, r, v per option (3 numbers each). */
  raw: Float64Array;
  /** λ, requests per ms. */
  lam: number;
}

/**
 * A prepared instance of the fast search: per tenant and option the contribution vector at the given rates.
 * Build one per decision with {@link prepareFastModel} (O(options)); evaluate configurations in O(tenants).
 */
export interface FastModel {
  readonly tenants: readonly PlannedTenant[];
  readonly cores: number;
  /** Options per tenant after exact pruning (dominated cuts dropped). */
  readonly tables: readonly TenantTable[];
  /** Σ λ_i over all tenants, requests per second. */
  readonly totalRate: number;
  /** True when some caching token appears in the catalogs of two tenants (then collisions are evaluated exactly). */
  readonly sharedTokens: boolean;
}

/**
 * Reduces every tenant's options (all catalogued cuts, minus exactly dominated ones, × cores × mode) to
 * contribution vectors at the tenants' rates. At a given cut, an option with more cores and no lower CPU term
 * than another is dropped too (exact: it only uses more of the budget).
 * @throws InvalidArgumentError when every rate is 0 ({@link fastSearchApplicable}).
 */
export function prepareFastModel(tenants: readonly PlannedTenant[], cores: number): FastModel {
  if (!fastSearchApplicable(tenants)) {
    throw new InvalidArgumentError(expected('a positive total rate', 'prepareFastModel', 0));
  }
  const tokenIds = new Map<string, number>();
  const tokenOwners = new Map<number, Set<number>>();
  tenants.forEach((t, i) => {
    for (const c of t.catalog.cuts) {
      if (c.tpu === null) continue;
      let id = tokenIds.get(c.tpu.token);
      if (id === undefined) {
        id = tokenIds.size;
        tokenIds.set(c.tpu.token, id);
        tokenOwners.set(id, new Set());
      }
      tokenOwners.get(id)!.add(i);
    }
  });
  let sharedTokens = false;
  for (const o of tokenOwners.values()) if (o.size > 1) sharedTokens = true;
  const tables = tenants.map((t) => {
    const { all, facts: optionFacts } = choicesOf(t.catalog, cores);
    const lam = t.rate / 1000;
    const cpuTerm = (c: TenantChoice, o: number): number => {
      const f = optionFacts[o]!;
      if (f.cut.cpu === null) return 0;
      const m = f.moments.get(c.mode === 'mg1' ? c.cores : 1)!;
      const wait = c.mode === 'mgc' ? mgcWaitMs(lam, m, c.cores) : mg1WaitMs(lam, m);
      return Number.isFinite(wait) ? t.rate * (wait + m.meanMs) : Infinity;
    };
    // Per cut: keep options in increasing cores only while the CPU term strictly improves.
    const terms = all.map(cpuTerm);
    const order = all
      .map((_, o) => o)
      .sort((a, b) => all[a]!.k - all[b]!.k || all[a]!.cores - all[b]!.cores || terms[a]! - terms[b]!);
    const choices: TenantChoice[] = [];
    const cpuOf: number[] = [];
    const keptFacts: CutFacts[] = [];
    let lastK = -1;
    let bestTerm = Infinity;
    for (const o of order) {
      const c = all[o]!;
      if (c.k !== lastK) {
        lastK = c.k;
        bestTerm = Infinity;
      }
      if (terms[o]! < bestTerm || (bestTerm === Infinity && choices.at(-1)?.k !== c.k)) {
        if (terms[o]! < bestTerm) bestTerm = terms[o]!;
        choices.push(c);
        keptFacts.push(optionFacts[o]!);
        cpuOf.push(terms[o]!);
      }
    }
    const vec = new Float64Array(choices.length * W);
    const coresArr = new Int32Array(choices.length);
    const tok = new Int32Array(choices.length).fill(-1);
    const shared = new Uint8Array(choices.length);
    const raw = new Float64Array(choices.length * 3);
    let minOwn = Infinity;
    let minCores = Infinity;
    choices.forEach((c, o) => {
      const f = keptFacts[o]!;
      const tpu = f.cut.tpu;
      const b = o * W;
      if (tpu !== null) {
        const x = tpu.serviceMs;
        const r = tpu.reloadMs;
        const xr = 2 * x * r + r * r;
        vec[b + ON] = lam;
        vec[b + CNT] = 1;
        vec[b + LX] = lam * x;
        vec[b + LR] = lam * r;
        vec[b + L2R] = lam * lam * r;
        vec[b + LVX] = lam * (tpu.serviceVarianceMs2 + x * x);
        vec[b + LXR] = lam * xr;
        vec[b + L2XR] = lam * lam * xr;
        const id = tokenIds.get(tpu.token)!;
        tok[o] = id;
        shared[o] = tokenOwners.get(id)!.size > 1 ? 1 : 0;
        raw[o * 3] = x;
        raw[o * 3 + 1] = r;
        raw[o * 3 + 2] = tpu.serviceVarianceMs2;
      }
      const cpu = cpuOf[o]!;
      vec[b + CPU] = cpu;
      coresArr[o] = c.cores;
      const own = cpu + 1000 * vec[b + LX]!;
      if (own < minOwn) minOwn = own;
      if (c.cores < minCores) minCores = c.cores;
    });
    return { choices, cores: coresArr, vec, minOwn, minCores, tok, shared, raw, lam };
  });
  return { tenants, cores, tables, totalRate: tenants.reduce((s, t) => s + t.rate, 0), sharedTokens };
}

/** True when two tenants' picks share a caching token (then the additive formula does not hold). */
function collides(model: FastModel, picks: ArrayLike<number>): boolean {
  if (!model.sharedTokens) return false;
  const m = model.tables.length;
  for (let i = 0; i < m; i++) {
    const ti = model.tables[i]!;
    if (ti.shared[picks[i]!] === 0) continue;
    const a = ti.tok[picks[i]!]!;
    for (let j = i + 1; j < m; j++) if (model.tables[j]!.tok[picks[j]!] === a) return true;
  }
  return false;
}

/** {@link collides} over every tenant but `skip`. */
function collidesExcept(model: FastModel, picks: ArrayLike<number>, skip: number): boolean {
  const m = model.tables.length;
  for (let i = 0; i < m; i++) {
    if (i === skip) continue;
    const ti = model.tables[i]!;
    if (ti.shared[picks[i]!] === 0) continue;
    const a = ti.tok[picks[i]!]!;
    for (let j = i + 1; j < m; j++) if (j !== skip && model.tables[j]!.tok[picks[j]!] === a) return true;
  }
  return false;
}

/** The default model's objective with token groups (p_i = 1 − Λ_g(i)/Λ_T), for colliding configurations. */
function groupObjective(model: FastModel, picks: ArrayLike<number>): number {
  const m = model.tables.length;
  let L = 0;
  let cpu = 0;
  const group = new Map<number, number>();
  for (let i = 0; i < m; i++) {
    const t = model.tables[i]!;
    const o = picks[i]!;
    cpu += t.vec[o * W + CPU]!;
    const id = t.tok[o]!;
    if (id < 0) continue;
    L += t.lam;
    group.set(id, (group.get(id) ?? 0) + t.lam);
  }
  let rho = 0;
  let n2 = 0;
  for (let i = 0; i < m; i++) {
    const t = model.tables[i]!;
    const o = picks[i]!;
    const id = t.tok[o]!;
    if (id < 0) continue;
    const x = t.raw[o * 3]!;
    const r = t.raw[o * 3 + 1]!;
    const v = t.raw[o * 3 + 2]!;
    const p = L > 0 ? Math.max(0, 1 - group.get(id)! / L) : 0;
    rho += t.lam * (x + p * r);
    n2 += t.lam * (v + x * x + (2 * x * r + r * r) * p);
  }
  if (rho >= 1) return Infinity;
  const wait = L > 0 ? n2 / (2 * (1 - rho)) : 0;
  return (cpu + 1000 * (rho + L * wait)) / model.totalRate;
}

/** Objective Σλ_iR_i / Λ from summed contributions (Infinity when unstable). */
function objectiveOf(s: Float64Array, totalRate: number): number {
  if (s[CNT]! < 0.5) return s[CPU]! / totalRate;
  const L = s[ON]!;
  let rho = s[LX]!;
  let n2 = s[LVX]!;
  if (L > 0) {
    rho += s[LR]! - s[L2R]! / L;
    n2 += s[LXR]! - s[L2XR]! / L;
  }
  if (rho >= 1) return Infinity;
  const wait = L > 0 ? n2 / (2 * (1 - rho)) : 0;
  return (s[CPU]! + 1000 * (rho + L * wait)) / totalRate;
}

/** The objective of a configuration whose summed contributions are `s` (exact with shared tokens too). */
function evalPicks(model: FastModel, s: Float64Array, picks: ArrayLike<number>): number {
  return model.sharedTokens && collides(model, picks)
    ? groupObjective(model, picks)
    : objectiveOf(s, model.totalRate);
}

/** Predicted mean response (ms) of one configuration: option indices into the model's tables. */
export function fastObjective(model: FastModel, picks: ArrayLike<number>): number {
  const s = new Float64Array(W);
  let used = 0;
  for (let i = 0; i < model.tables.length; i++) {
    const t = model.tables[i]!;
    const b = picks[i]! * W;
    for (let w = 0; w < W; w++) s[w] = s[w]! + t.vec[b + w]!;
    used += t.cores[picks[i]!]!;
  }
  if (used > model.cores) return Infinity;
  return collides(model, picks) ? groupObjective(model, picks) : objectiveOf(s, model.totalRate);
}

/** Result of a fast search. */
export interface FastSearchResult {
  choices: TenantChoice[];
  /** Predicted mean response, ms (the default model's value; Infinity when nothing is stable). */
  meanResponseMs: number;
  method: 'branch-and-bound' | 'coordinate-descent';
  /** Configurations (or single-tenant moves) evaluated. */
  evaluated: number;
}

/** Options of {@link fastSearch}. */
export interface FastSearchOptions {
  /**
   * Search exactly (branch and bound) when the product of the tenants' option counts is at most this
   * (default 20,000); otherwise coordinate descent with restarts. `Infinity` forces exact search.
   */
  exactLimit?: number;
  /** Extra starting points for coordinate descent (e.g. the configuration in effect: a warm start). */
  starts?: readonly (readonly TenantChoice[])[];
  /** Random restarts besides the built-in starts (default 1; 0 with a warm start). */
  restarts?: number;
  /** Seed of the random restarts (default 1): the search is deterministic. */
  seed?: number;
}

const same = (a: TenantChoice, b: TenantChoice): boolean =>
  a.k === b.k && a.cores === b.cores && a.mode === b.mode;

/** Exact search: depth-first branch and bound with the core budget. */
function branchAndBound(model: FastModel): { picks: number[]; value: number; evaluated: number } {
  const m = model.tables.length;
  const { totalRate } = model;
  // Suffix sums of lower bounds and of minimal cores of the tenants not yet assigned.
  const ownTail = new Float64Array(m + 1);
  const coreTail = new Int32Array(m + 1);
  for (let i = m - 1; i >= 0; i--) {
    ownTail[i] = ownTail[i + 1]! + model.tables[i]!.minOwn;
    coreTail[i] = coreTail[i + 1]! + model.tables[i]!.minCores;
  }
  const sums = Array.from({ length: m + 1 }, () => new Float64Array(W));
  const picks = new Array<number>(m).fill(0);
  const best = { picks: [] as number[], value: Infinity, evaluated: 0 };
  const walk = (i: number, left: number): void => {
    const s = sums[i]!;
    if (i === m) {
      best.evaluated++;
      const v = evalPicks(model, s, picks);
      if (v < best.value) {
        best.value = v;
        best.picks = [...picks];
      }
      return;
    }
    const t = model.tables[i]!;
    const next = sums[i + 1]!;
    const n = t.choices.length;
    for (let o = 0; o < n; o++) {
      const c = t.cores[o]!;
      if (c + coreTail[i + 1]! > left) continue;
      const b = o * W;
      for (let w = 0; w < W; w++) next[w] = s[w]! + t.vec[b + w]!;
      // Lower bound: the assigned tenants exactly, the others at their cheapest own term and off the TPU
      // (every dropped term — their waits, reloads, and their share of Λ_T — only adds latency).
      // (Not with shared tokens: a later tenant joining a token group can lower the earlier ones' p_i.)
      if (i + 1 < m && best.value < Infinity && !model.sharedTokens) {
        const saved = next[CPU]!;
        next[CPU] = saved + ownTail[i + 1]!;
        const lb = objectiveOf(next, totalRate);
        next[CPU] = saved;
        if (lb >= best.value) continue;
      }
      picks[i] = o;
      walk(i + 1, left - c);
    }
  };
  walk(0, model.cores);
  return best;
}

/** Small deterministic PRNG for restarts (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Coordinate descent from several starts: best single-tenant moves (O(1) each against the sum of the other
 * tenants) and core-transfer moves between pairs of tenants, until neither improves.
 */
function coordinateDescent(
  model: FastModel,
  starts: number[][],
): { picks: number[]; value: number; evaluated: number } {
  const m = model.tables.length;
  const { totalRate } = model;
  const sum = new Float64Array(W);
  const trial = new Float64Array(W);
  const base = new Float64Array(W);
  const best = { picks: [] as number[], value: Infinity, evaluated: 0 };
  const perCores = model.cores + 1;
  // best option of a tenant per core count under the current others (for pair moves)
  const bestAt = Array.from({ length: m }, () => new Int32Array(perCores));
  const bestAtVal = Array.from({ length: m }, () => new Float64Array(perCores));

  let picks: number[] = [];
  /** Objective with tenant i moved to option o (trial holds the sums), exact with shared tokens. */
  // Whether the tenants other than `othersOf` collide among themselves (then every move needs the exact path).
  let othersOf = -1;
  let othersCollide = false;
  const moved = (i: number, o: number): number => {
    if (othersOf !== i) {
      othersOf = i;
      const keep = picks[i]!;
      picks[i] = -1;
      othersCollide = collidesExcept(model, picks, i);
      picks[i] = keep;
    }
    if (!othersCollide && model.tables[i]!.shared[o] === 0) return objectiveOf(trial, totalRate);
    const keep = picks[i]!;
    picks[i] = o;
    const v = evalPicks(model, trial, picks);
    picks[i] = keep;
    return v;
  };
  for (const start of starts) {
    picks = [...start];
    sum.fill(0);
    let used = 0;
    for (let i = 0; i < m; i++) {
      const t = model.tables[i]!;
      for (let w = 0; w < W; w++) sum[w] = sum[w]! + t.vec[picks[i]! * W + w]!;
      used += t.cores[picks[i]!]!;
    }
    if (used > model.cores) continue;
    let value = evalPicks(model, sum, picks);
    best.evaluated++;
    for (let round = 0; round < 100; round++) {
      let improved = false;
      // Single-tenant moves.
      for (let i = 0; i < m; i++) {
        othersOf = -1;
        const t = model.tables[i]!;
        const cur = picks[i]!;
        const left = model.cores - used + t.cores[cur]!;
        let bo = cur;
        let bv = value;
        for (let w = 0; w < W; w++) base[w] = sum[w]! - t.vec[cur * W + w]!;
        for (let o = 0; o < t.choices.length; o++) {
          if (o === cur || t.cores[o]! > left) continue;
          const ob = o * W;
          for (let w = 0; w < W; w++) trial[w] = base[w]! + t.vec[ob + w]!;
          const v = model.sharedTokens ? moved(i, o) : objectiveOf(trial, totalRate);
          best.evaluated++;
          if (v < bv - 1e-12) {
            bv = v;
            bo = o;
          }
        }
        if (bo !== cur) {
          for (let w = 0; w < W; w++) sum[w] = sum[w]! + t.vec[bo * W + w]! - t.vec[cur * W + w]!;
          used += t.cores[bo]! - t.cores[cur]!;
          picks[i] = bo;
          value = bv;
          improved = true;
        }
      }
      if (improved) continue;
      // Pair moves: hand cores from one tenant to another, each re-choosing its best option at its new count.
      for (let i = 0; i < m; i++) {
        othersOf = -1;
        const t = model.tables[i]!;
        const cur = picks[i]!;
        bestAtVal[i]!.fill(Infinity);
        for (let w = 0; w < W; w++) base[w] = sum[w]! - t.vec[cur * W + w]!;
        for (let o = 0; o < t.choices.length; o++) {
          const c = t.cores[o]!;
          const ob = o * W;
          for (let w = 0; w < W; w++) trial[w] = base[w]! + t.vec[ob + w]!;
          const v = model.sharedTokens ? moved(i, o) : objectiveOf(trial, totalRate);
          best.evaluated++;
          if (v < bestAtVal[i]![c]!) {
            bestAtVal[i]![c] = v;
            bestAt[i]![c] = o;
          }
        }
      }
      for (let i = 0; i < m && !improved; i++) {
        for (let j = i + 1; j < m && !improved; j++) {
          const ti = model.tables[i]!;
          const tj = model.tables[j]!;
          const pi = picks[i]!;
          const pj = picks[j]!;
          const free = model.cores - used + ti.cores[pi]! + tj.cores[pj]!;
          for (let ci = 0; ci <= free && !improved; ci++) {
            if (bestAtVal[i]![ci] === Infinity) continue;
            for (let cj = 0; cj + ci <= free; cj++) {
              if (bestAtVal[j]![cj] === Infinity) continue;
              const oi = bestAt[i]![ci]!;
              const oj = bestAt[j]![cj]!;
              if (oi === pi && oj === pj) continue;
              for (let w = 0; w < W; w++)
                trial[w] =
                  sum[w]! -
                  ti.vec[pi * W + w]! +
                  ti.vec[oi * W + w]! -
                  tj.vec[pj * W + w]! +
                  tj.vec[oj * W + w]!;
              let v: number;
              if (model.sharedTokens) {
                picks[i] = oi;
                picks[j] = oj;
                v = evalPicks(model, trial, picks);
                picks[i] = pi;
                picks[j] = pj;
              } else v = objectiveOf(trial, totalRate);
              best.evaluated++;
              if (v < value - 1e-12) {
                sum.set(trial);
                used += ti.cores[oi]! - ti.cores[pi]! + tj.cores[oj]! - tj.cores[pj]!;
                picks[i] = oi;
                picks[j] = oj;
                value = v;
                improved = true;
                break;
              }
            }
          }
        }
      }
      if (!improved) break;
    }
    if (value < best.value) {
      best.value = value;
      best.picks = picks;
    }
  }
  return best;
}

function indexOf(table: TenantTable, c: TenantChoice): number {
  return table.choices.findIndex((x) => same(x, c));
}

/** The built-in starts: warm starts, per-tenant greedy, all-TPU, all-CPU, and seeded random ones. */
function startPoints(model: FastModel, options: FastSearchOptions): number[][] {
  const m = model.tables.length;
  const starts: number[][] = [];
  for (const s of options.starts ?? []) {
    if (s.length !== m) continue;
    const p = s.map((c, i) => indexOf(model.tables[i]!, c));
    if (p.every((x) => x >= 0)) starts.push(p);
  }
  // Greedy: an even core split, each tenant's cheapest own term within its share.
  const share = Math.max(1, Math.floor(model.cores / m));
  const greedy = (pred: (t: TenantTable, o: number) => boolean): number[] | null => {
    const p: number[] = [];
    for (const t of model.tables) {
      let bo = -1;
      let bv = Infinity;
      for (let o = 0; o < t.choices.length; o++) {
        if (t.cores[o]! > share || !pred(t, o)) continue;
        const v = t.vec[o * W + CPU]! + 1000 * (t.vec[o * W + LX]! + t.vec[o * W + LR]!);
        if (bo < 0 || v < bv) {
          bo = o;
          bv = v;
        }
      }
      if (bo < 0) return null;
      p.push(bo);
    }
    return p;
  };
  // With a warm start (the configuration in effect) fewer fresh starts are needed: the decision is cheaper.
  const warm = starts.length > 0;
  for (const g of [
    greedy(() => true),
    greedy((t, o) => t.choices[o]!.k === t.choices[t.choices.length - 1]!.k),
    warm ? null : greedy((t, o) => t.choices[o]!.k === 0),
  ]) {
    if (g !== null) starts.push(g);
  }
  const rand = rng(options.seed ?? 1);
  for (let r = 0; r < (options.restarts ?? (warm ? 0 : 1)); r++) {
    let left = model.cores;
    const p: number[] = [];
    let ok = true;
    for (const t of model.tables) {
      const fits: number[] = [];
      for (let o = 0; o < t.choices.length; o++) if (t.cores[o]! <= left) fits.push(o);
      if (fits.length === 0) {
        ok = false;
        break;
      }
      const o = fits[Math.floor(rand() * fits.length)]!;
      left -= t.cores[o]!;
      p.push(o);
    }
    if (ok) starts.push(p);
  }
  const seen = new Set<string>();
  return starts.filter((p) => {
    const key = p.join(',');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Finds the configuration with the lowest mean response under the default model, using the additive
 * reduction above: exact branch and bound for small spaces, coordinate descent with restarts otherwise.
 * @throws InvalidArgumentError when the fast path does not apply ({@link fastSearchApplicable}) or when no
 * configuration fits the core budget.
 */
export function fastSearch(
  tenants: readonly PlannedTenant[],
  cores: number,
  options: FastSearchOptions = {},
): FastSearchResult {
  const model = prepareFastModel(tenants, cores);
  return fastSearchPrepared(model, options);
}

/** {@link fastSearch} on an already prepared model. */
export function fastSearchPrepared(model: FastModel, options: FastSearchOptions = {}): FastSearchResult {
  const space = model.tables.reduce((s, t) => s * t.choices.length, 1);
  const exact = space <= (options.exactLimit ?? 20_000);
  const r = exact ? branchAndBound(model) : coordinateDescent(model, startPoints(model, options));
  if (r.picks.length === 0) {
    // Nothing stable: report the first feasible configuration as Infinity rather than inventing an optimum.
    const starts = startPoints(model, { restarts: 0 });
    if (starts.length === 0)
      throw new InvalidArgumentError(
        expected(`enough cores for ${model.tables.length} tenants`, 'fastSearch', model.cores),
      );
    r.picks = starts[0]!;
  }
  return {
    choices: r.picks.map((o, i) => model.tables[i]!.choices[o]!),
    meanResponseMs: r.value,
    method: exact ? 'branch-and-bound' : 'coordinate-descent',
    evaluated: r.evaluated,
  };
}

/**
 * The `n` best configurations by the default model, by exhaustive enumeration of the pruned space (for the
 * oracle's shortlist). Only for spaces up to `limit` configurations (default 2,000,000).
 * @returns null when the space is larger than `limit`.
 */
export function topConfigurations(
  model: FastModel,
  n: number,
  limit = 2_000_000,
): { choices: TenantChoice[]; meanResponseMs: number }[] | null {
  const space = model.tables.reduce((s, t) => s * t.choices.length, 1);
  if (space > limit) return null;
  if (n <= 0) return [];
  const m = model.tables.length;
  const top: { picks: number[]; value: number }[] = [];
  const sums = Array.from({ length: m + 1 }, () => new Float64Array(W));
  const picks = new Array<number>(m).fill(0);
  const walk = (i: number, left: number): void => {
    if (i === m) {
      const v = evalPicks(model, sums[m]!, picks);
      if (!Number.isFinite(v)) return;
      if (top.length < n || v < top[top.length - 1]!.value) {
        top.push({ picks: [...picks], value: v });
        top.sort((a, b) => a.value - b.value);
        if (top.length > n) top.pop();
      }
      return;
    }
    const t = model.tables[i]!;
    for (let o = 0; o < t.choices.length; o++) {
      if (t.cores[o]! > left) continue;
      for (let w = 0; w < W; w++) sums[i + 1]![w] = sums[i]![w]! + t.vec[o * W + w]!;
      picks[i] = o;
      walk(i + 1, left - t.cores[o]!);
    }
  };
  walk(0, model.cores);
  return top.map((e) => ({
    choices: e.picks.map((o, i) => model.tables[i]!.choices[o]!),
    meanResponseMs: e.value,
  }));
}
