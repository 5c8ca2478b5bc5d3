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
import type { TenantChoice } from '@swapless/contracts';
import { expected, InvalidArgumentError, SeededRandom } from '@swapless/core';
import { type Moments, mg1WaitMs, mgcWaitMs, sampleMoments } from '@swapless/queueing';
import type { CutCandidate, TenantCatalog } from './catalog.js';
import { type PlannedTenant, tenantChoices } from './setup.js';

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
const CPU = 7; // λ[/s]·(W_C + E[S_C] + delay)  (Infinity when the CPU stage is unstable)
// 1 if the option uses the Edge TPU: an exact integer count, so that "nobody on the TPU" is recognised even
// after incremental updates of the sums left rounding residue in the other components.
const CNT = 8;
/** Layout facts other searches read from a {@link FastModel}'s tables: vector width and the CPU term's index. */
export const FAST_LAYOUT = { width: W, cpu: CPU } as const;

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
  if ((a.cut.delayMs ?? 0) > (b.cut.delayMs ?? 0)) return false;
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

/**
 * The undominated options of a catalog at a core budget, in (k, cores, original) order, with everything
 * about them that does not depend on the rate, as flat arrays (cached per catalog and core budget).
 */
interface StaticOptions {
  all: TenantChoice[];
  /** Index of the option's cut among the kept cuts (options of one cut are contiguous). */
  cut: Int32Array;
  cores: Int32Array;
  /** 1 for M/G/c (single-thread workers), 0 for M/G/1 with `cores` threads. */
  mgc: Uint8Array;
  /** CPU stage moments at the option's thread count (null without a CPU stage). */
  moments: (Moments | null)[];
  /** TPU stage per option (null for k = 0). */
  tpu: (CutCandidate['tpu'] | null)[];
  /** The cut's additive delay per option (`CutCandidate.delayMs`), ms. */
  delay: Float64Array;
}

const choicesCache = new WeakMap<TenantCatalog, Map<number, StaticOptions>>();

/** The undominated choices of a catalog at a core budget, with their rate-independent facts (cached). */
function choicesOf(catalog: TenantCatalog, cores: number): StaticOptions {
  let byCores = choicesCache.get(catalog);
  if (byCores === undefined) {
    byCores = new Map();
    choicesCache.set(catalog, byCores);
  }
  let hit = byCores.get(cores);
  if (hit === undefined) {
    const { facts, kept } = catalogFacts(catalog);
    const byK = new Map(facts.map((f) => [f.cut.k, f]));
    // tenantChoices lists the options cut by cut, cores ascending: sort (stably) to be sure.
    const all = tenantChoices(catalog, cores)
      .filter((c) => kept.has(c.k))
      .map((c, i) => ({ c, i }))
      .sort((x, y) => x.c.k - y.c.k || x.c.cores - y.c.cores || x.i - y.i)
      .map((x) => x.c);
    const n = all.length;
    const cut = new Int32Array(n);
    const coresArr = new Int32Array(n);
    const mgc = new Uint8Array(n);
    const moments: (Moments | null)[] = [];
    const tpu: (CutCandidate['tpu'] | null)[] = [];
    const delay = new Float64Array(n);
    let cutIndex = -1;
    all.forEach((c, o) => {
      if (o === 0 || all[o - 1]!.k !== c.k) cutIndex++;
      const f = byK.get(c.k)!;
      cut[o] = cutIndex;
      coresArr[o] = c.cores;
      mgc[o] = c.mode === 'mgc' ? 1 : 0;
      moments.push(f.cut.cpu === null ? null : f.moments.get(c.mode === 'mg1' ? c.cores : 1)!);
      tpu.push(f.cut.tpu);
      delay[o] = f.cut.delayMs ?? 0;
    });
    hit = { all, cut, cores: coresArr, mgc, moments, tpu, delay };
    byCores.set(cores, hit);
  }
  return hit;
}

/** Caching-token ids of the options of a set of tenants (cached for the last set of catalogs seen). */
interface TokenInfo {
  catalogs: TenantCatalog[];
  cores: number;
  /** Per tenant, per static option: token id (−1 without a TPU stage). */
  tok: Int32Array[];
  /** Per tenant, per static option: 1 when the token also appears in another tenant's catalog. */
  shared: Uint8Array[];
  sharedTokens: boolean;
}

let lastTokens: TokenInfo | null = null;

function tokenInfo(tenants: readonly PlannedTenant[], cores: number, stat: StaticOptions[]): TokenInfo {
  const last = lastTokens;
  if (
    last !== null &&
    last.cores === cores &&
    last.catalogs.length === tenants.length &&
    tenants.every((t, i) => last.catalogs[i] === t.catalog)
  )
    return last;
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
  // Plain loops and push, not Array.prototype.map: see packedArray.
  const tok: Int32Array[] = [];
  const shared: Uint8Array[] = [];
  for (const s of stat) {
    const n = s.all.length;
    const a = new Int32Array(n).fill(-1);
    const sh = new Uint8Array(n);
    for (let o = 0; o < n; o++) {
      const t = s.tpu[o]!;
      if (t === null) continue;
      const id = tokenIds.get(t.token)!;
      a[o] = id;
      sh[o] = tokenOwners.get(id)!.size > 1 ? 1 : 0;
    }
    tok.push(a);
    shared.push(sh);
  }
  const catalogs: TenantCatalog[] = [];
  for (const t of tenants) catalogs.push(t.catalog);
  const info: TokenInfo = { catalogs, cores, tok, shared, sharedTokens };
  lastTokens = info;
  return info;
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

/**
 * Hidden classes. The search's hot functions are optimised for the exact maps of the objects below (the model,
 * its `tables` array, each table); one object of another map — an array of another elements kind, or a number
 * field that changed representation — deoptimises all of them at once (once per process, ~20 slow decisions).
 * Hence: every such object comes from one constructor that assigns all fields in one order, number fields that
 * can hold fractions are first assigned a fraction (the field is a Double from the start, so that an integral
 * value later — λ = 0, an integral total rate — is stored as a double rather than turning a Smi field into a
 * Double one, which deprecates the map), integer fields only ever hold Smis, and arrays are built empty + push
 * (PACKED_ELEMENTS): `Array.prototype.map` yields PACKED arrays from the builtin but HOLEY ones once TurboFan
 * inlines it into an optimised caller, i.e. the elements kind of its result changes mid-run.
 */
function packedArray<T extends object>(n: number, f: (i: number) => T): T[] {
  const a: T[] = [];
  for (let i = 0; i < n; i++) a.push(f(i));
  return a;
}

/**
 * {@link packedArray} for small integers (option indices): PACKED_SMI_ELEMENTS. A separate function, as V8's
 * allocation-site feedback of the `[]` literal would otherwise make these PACKED_ELEMENTS like the object
 * arrays, and picks of both kinds would meet in the search.
 */
function smiArray(n: number, f: (i: number) => number): number[] {
  const a: number[] = [];
  for (let i = 0; i < n; i++) a.push(f(i));
  return a;
}

/** Integer stand-in for "no option" in the Smi field {@link TenantTable.minCores}. */
const NO_CORES = 0x3fffffff;

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
 * than another is dropped too (exact: it only uses more of the budget). Everything rate-independent is cached
 * (per catalog and core budget); per decision only the CPU terms and the vectors are computed. `like`, a model of
 * the same catalogs and cores at other rates (e.g. before part of a tenant's load is shed), lends the tables of
 * the tenants whose rate is the same.
 * @throws InvalidArgumentError when every rate is 0 ({@link fastSearchApplicable}).
 */
export function prepareFastModel(
  tenants: readonly PlannedTenant[],
  cores: number,
  like?: FastModel,
): FastModel {
  const lends = like !== undefined && modelOf(like, tenants, cores, false);
  return prepare(tenants, cores, false, lends ? like : undefined);
}

/**
 * Whether `model` was prepared for these tenants' catalogs (the same objects) and `cores` — and, with `rates`,
 * at these rates too (then it is the model {@link prepareFastModel} would return for them).
 */
export function modelOf(
  model: FastModel,
  tenants: readonly PlannedTenant[],
  cores: number,
  rates = true,
): boolean {
  return (
    model.cores === cores &&
    model.tenants.length === tenants.length &&
    model.tenants.every(
      (t, i) => t.catalog === tenants[i]!.catalog && (!rates || t.rate === tenants[i]!.rate),
    )
  );
}

class Table implements TenantTable {
  declare choices: TenantChoice[];
  declare cores: Int32Array;
  declare vec: Float64Array;
  declare minOwn: number;
  declare minCores: number;
  declare tok: Int32Array;
  declare shared: Uint8Array;
  declare raw: Float64Array;
  declare lam: number;
  constructor(
    choices: TenantChoice[],
    cores: Int32Array,
    vec: Float64Array,
    minOwn: number,
    minCores: number,
    tok: Int32Array,
    shared: Uint8Array,
    raw: Float64Array,
    lam: number,
  ) {
    this.choices = choices;
    this.cores = cores;
    this.vec = vec;
    this.minOwn = 0.5; // Double field (see packedArray)
    this.minOwn = minOwn;
    this.minCores = minCores;
    this.tok = tok;
    this.shared = shared;
    this.raw = raw;
    this.lam = 0.5; // Double field
    this.lam = lam;
  }
}

class Model implements FastModel {
  declare readonly tenants: readonly PlannedTenant[];
  declare readonly cores: number;
  declare readonly tables: readonly TenantTable[];
  declare readonly totalRate: number;
  declare readonly sharedTokens: boolean;
  constructor(
    tenants: readonly PlannedTenant[],
    cores: number,
    tables: TenantTable[],
    totalRate: number,
    sharedTokens: boolean,
  ) {
    this.tenants = tenants;
    this.cores = cores;
    this.tables = tables;
    this.totalRate = 0.5; // Double field (see packedArray)
    this.totalRate = totalRate;
    this.sharedTokens = sharedTokens;
  }
}

/** Reusable per-tenant buffers of {@link fastSearch}'s internal models (fewer large allocations, less GC). */
interface TableBuffers {
  vec: Float64Array;
  cores: Int32Array;
  tok: Int32Array;
  shared: Uint8Array;
  raw: Float64Array;
}
const pool: TableBuffers[] = [];

function buffers(ti: number, count: number, pooled: boolean): TableBuffers {
  if (!pooled)
    return {
      vec: new Float64Array(count * W),
      cores: new Int32Array(count),
      tok: new Int32Array(count),
      shared: new Uint8Array(count),
      raw: new Float64Array(count * 3),
    };
  let b = pool[ti];
  if (b === undefined || b.cores.length < count) {
    // Generous from the start: a buffer growing mid-run is a new object for the JIT (deoptimisation).
    const cap = Math.max(count, 512, 2 * (b?.cores.length ?? 0));
    b = {
      vec: new Float64Array(cap * W),
      cores: new Int32Array(cap),
      tok: new Int32Array(cap),
      shared: new Uint8Array(cap),
      raw: new Float64Array(cap * 3),
    };
    pool[ti] = b;
  }
  const view = {
    vec: b.vec.subarray(0, count * W),
    cores: b.cores.subarray(0, count),
    tok: b.tok.subarray(0, count),
    shared: b.shared.subarray(0, count),
    raw: b.raw.subarray(0, count * 3),
  };
  view.vec.fill(0);
  view.shared.fill(0);
  view.raw.fill(0);
  return view;
}

/**
 * {@link prepareFastModel}; `pooled` (only for a model that does not outlive the call, as in
 * {@link fastSearch}) reuses module-level buffers for the tables; `like` (same catalogs and cores, checked by the
 * caller) lends the tables of tenants at the same rate.
 */
function prepare(
  tenants: readonly PlannedTenant[],
  cores: number,
  pooled: boolean,
  like?: FastModel,
): FastModel {
  if (!fastSearchApplicable(tenants)) {
    throw new InvalidArgumentError(expected('a positive total rate', 'prepareFastModel', 0));
  }
  const stat = packedArray(tenants.length, (ti) => choicesOf(tenants[ti]!.catalog, cores));
  const tokens = tokenInfo(tenants, cores, stat);
  let scratch = new Float64Array(0);
  let keep = new Int32Array(0);
  const tables: TenantTable[] = [];
  for (let ti = 0; ti < tenants.length; ti++) {
    const t = tenants[ti]!;
    if (like !== undefined && like.tenants[ti]!.rate === t.rate) {
      tables.push(like.tables[ti]!);
      continue;
    }
    const s = stat[ti]!;
    const n = s.all.length;
    const lam = t.rate / 1000;
    if (scratch.length < n) {
      scratch = new Float64Array(n);
      keep = new Int32Array(n);
    }
    const terms = scratch;
    for (let o = 0; o < n; o++) {
      const m = s.moments[o]!;
      // A cut's additive delay (e.g. emulation lag) counts with the CPU term: both are the tenant's own.
      const d = t.rate * s.delay[o]!;
      if (m === null) {
        terms[o] = d;
        continue;
      }
      const c = s.cores[o]!;
      const wait = s.mgc[o] === 1 ? mgcWaitMs(lam, m, c) : mg1WaitMs(lam, m);
      terms[o] = Number.isFinite(wait) ? t.rate * (wait + m.meanMs) + d : Infinity;
    }
    // Per cut: keep options in increasing cores (at equal cores, lower term first) only while the CPU term
    // strictly improves; the first option of a cut is kept even when unstable.
    let count = 0;
    let o = 0;
    while (o < n) {
      const cutIndex = s.cut[o]!;
      let bestTerm = Infinity;
      let first = true;
      while (o < n && s.cut[o] === cutIndex) {
        // The options of one core count (at most mg1 and mgc: the lower term first, as a stable sort).
        let e = o + 1;
        while (e < n && s.cut[e] === cutIndex && s.cores[e] === s.cores[o]) e++;
        const swap = e - o === 2 && terms[o + 1]! < terms[o]!;
        for (let q = 0; q < e - o; q++) {
          const pick = swap ? o + 1 - q : o + q;
          const term = terms[pick]!;
          if (term < bestTerm || (bestTerm === Infinity && first)) {
            if (term < bestTerm) bestTerm = term;
            keep[count++] = pick;
            first = false;
          }
        }
        o = e;
      }
    }
    const choices: TenantChoice[] = [];
    const { vec, cores: coresArr, tok, shared, raw } = buffers(ti, count, pooled);
    const stok = tokens.tok[ti]!;
    const sshared = tokens.shared[ti]!;
    let minOwn = Infinity;
    let minCores = NO_CORES;
    for (let j = 0; j < count; j++) {
      const so = keep[j]!;
      choices.push(s.all[so]!);
      const tpu = s.tpu[so]!;
      const b = j * W;
      tok[j] = stok[so]!;
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
        shared[j] = sshared[so]!;
        raw[j * 3] = x;
        raw[j * 3 + 1] = r;
        raw[j * 3 + 2] = tpu.serviceVarianceMs2;
      }
      const cpu = terms[so]!;
      vec[b + CPU] = cpu;
      const c = s.cores[so]!;
      coresArr[j] = c;
      const own = cpu + 1000 * vec[b + LX]!;
      if (own < minOwn) minOwn = own;
      if (c < minCores) minCores = c;
    }
    tables.push(new Table(choices, coresArr, vec, minOwn, minCores, tok, shared, raw, lam));
  }
  let totalRate = 0;
  for (const t of tenants) totalRate += t.rate;
  return new Model(tenants, cores, tables, totalRate, tokens.sharedTokens);
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
  // Computed before the test: a division first reached late (the first all-CPU configuration) would deoptimise.
  const cpuOnly = s[CPU]! / totalRate;
  if (s[CNT]! < 0.5) return cpuOnly;
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

/**
 * Tenant i's own share of the objective at its option o: its CPU term (wait, service, delay) plus λ times its call
 * and reload, as the greedy starts rank options (a hook for shortlists, e.g. the SLO search's).
 */
export function ownTerm(model: FastModel, i: number, o: number): number {
  const v = model.tables[i]!.vec;
  return v[o * W + CPU]! + 1000 * (v[o * W + LX]! + v[o * W + LR]!);
}

/** Scratch of {@link fastObjective} (searches score thousands of configurations per decision). */
const objectiveSum = new Float64Array(W);

/** Predicted mean response (ms) of one configuration: option indices into the model's tables. */
export function fastObjective(model: FastModel, picks: ArrayLike<number>): number {
  const s = objectiveSum.fill(0);
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
  /**
   * When coordinate descent finds no stable configuration, search exactly after all when the space has at most
   * this many configurations (default 1e9: branch and bound prunes most of it); `0` never.
   */
  rescueLimit?: number;
  /** Extra starting points for coordinate descent (e.g. the configuration in effect: a warm start). */
  starts?: readonly (readonly TenantChoice[])[];
  /**
   * Random restarts besides the built-in starts (default 0: with the group moves they did not find a
   * better optimum on the bench's instances, see docs/controller.md).
   */
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
  const sums = packedArray(m + 1, () => new Float64Array(W));
  // Reload components (LR, L2R, LXR, L2XR) of the assigned options whose token another tenant may share:
  // a later tenant joining that token group lowers their p_i, so the bound leaves them out.
  const rel = packedArray(m + 1, () => new Float64Array(4));
  const lb = new Float64Array(W);
  const picks = smiArray(m, () => 0);
  const best = { picks: [] as number[], value: Infinity, evaluated: 0 };
  const walk = (i: number, left: number): void => {
    const s = sums[i]!;
    if (i === m) {
      best.evaluated++;
      const v = evalPicks(model, s, picks);
      if (v < best.value) {
        best.value = v;
        best.picks = smiArray(m, (q) => picks[q]!);
      }
      return;
    }
    const t = model.tables[i]!;
    const next = sums[i + 1]!;
    const r0 = rel[i]!;
    const r1 = rel[i + 1]!;
    const n = t.choices.length;
    for (let o = 0; o < n; o++) {
      const c = t.cores[o]!;
      if (c + coreTail[i + 1]! > left) continue;
      const b = o * W;
      for (let w = 0; w < W; w++) next[w] = s[w]! + t.vec[b + w]!;
      const sh = t.shared[o] !== 0;
      r1[0] = r0[0]! + (sh ? t.vec[b + LR]! : 0);
      r1[1] = r0[1]! + (sh ? t.vec[b + L2R]! : 0);
      r1[2] = r0[2]! + (sh ? t.vec[b + LXR]! : 0);
      r1[3] = r0[3]! + (sh ? t.vec[b + L2XR]! : 0);
      // Lower bound: the assigned tenants exactly (minus the reloads of shareable tokens), the others at their
      // cheapest own term and off the TPU (every dropped term — their waits, reloads, and their share of Λ_T —
      // only adds latency; a larger Λ_T only raises the assigned tenants' p_i).
      if (i + 1 < m && best.value < Infinity) {
        lb.set(next);
        lb[CPU] = next[CPU]! + ownTail[i + 1]!;
        lb[LR] = next[LR]! - r1[0]!;
        lb[L2R] = next[L2R]! - r1[1]!;
        lb[LXR] = next[LXR]! - r1[2]!;
        lb[L2XR] = next[L2XR]! - r1[3]!;
        if (objectiveOf(lb, totalRate) >= best.value) continue;
      }
      picks[i] = o;
      walk(i + 1, left - c);
    }
  };
  walk(0, model.cores);
  return best;
}

/**
 * The objective from the nine summed components (see {@link objectiveOf}), as scalars: the hot loop of
 * coordinate descent evaluates a move as base + option without writing a sum vector.
 */
function objectiveParts(
  L: number,
  lx: number,
  lr: number,
  l2r: number,
  lvx: number,
  lxr: number,
  l2xr: number,
  cpu: number,
  cnt: number,
  totalRate: number,
): number {
  const cpuOnly = cpu / totalRate; // before the test, as in objectiveOf
  if (cnt < 0.5) return cpuOnly;
  let rho = lx;
  let n2 = lvx;
  if (L > 0) {
    rho += lr - l2r / L;
    n2 += lxr - l2xr / L;
  }
  if (rho >= 1) return Infinity;
  const wait = L > 0 ? n2 / (2 * (1 - rho)) : 0;
  return (cpu + 1000 * (rho + L * wait)) / totalRate;
}

/** Sets tenant i's pick to option o and returns the change in cores used (nothing and 0 for i < 0). */
function repick(tables: readonly TenantTable[], picks: number[], i: number, o: number): number {
  if (i < 0) return 0;
  const c = tables[i]!.cores;
  const d = c[o]! - c[picks[i]!]!;
  picks[i] = o;
  return d;
}

/** Largest group of tenants that {@link groupMove} moves at once. */
const MAX_GROUP = 3;

/**
 * Scratch state of {@link groupMove}, allocated once per search: the group being tried, its slots and options,
 * and the accepted move (`members[d] = -1` past its size, or everywhere when none was accepted).
 */
class GroupScratch {
  readonly tried = new Int32Array(MAX_GROUP);
  readonly slots = new Int32Array(MAX_GROUP);
  readonly picked = new Int32Array(MAX_GROUP);
  /** Cores of the slots chosen at levels [0, d): prefix[d]. */
  readonly prefix = new Int32Array(MAX_GROUP + 1);
  readonly members = new Int32Array(MAX_GROUP);
  readonly options = new Int32Array(MAX_GROUP);
  /** Configurations evaluated by the last call. */
  evaluated = 0;
}

/**
 * Group moves: g tenants (g = 2, then 3) re-split their cores and Edge TPU presence at once, each taking its best
 * option for its new core count and presence (`bestAt`, slot 2c + on, from the round that moved nobody) — e.g. one
 * tenant moves wholly onto the TPU so that two others can leave it with a core each. Only genuine moves count
 * (every member changes its option): a move of fewer tenants was tried before. Groups, then slots, are tried in
 * lexicographic order and the first move that improves on `value` by more than 1e-12 is taken.
 *
 * Returns the accepted move's objective (its summed components left in `trial`, its tenants and options in
 * `group.members` / `group.options`, -1 past its size), or `value` when no move improves (members all -1).
 * `picks` is left as it was.
 */
function groupMove(
  model: FastModel,
  picks: number[],
  sum: Float64Array,
  used: number,
  value: number,
  bestAt: readonly Int32Array[],
  group: GroupScratch,
  trial: Float64Array,
): number {
  const { tables, totalRate, sharedTokens } = model;
  const m = tables.length;
  const { tried, slots, picked, prefix, members, options } = group;
  members.fill(-1);
  options.fill(0);
  let evaluated = 0;
  let found = false;
  let moved = value;
  for (let g = 2; g <= Math.min(MAX_GROUP, m) && !found; g++) {
    for (let d = 0; d < g; d++) tried[d] = d;
    for (;;) {
      let free = model.cores - used;
      for (let d = 0; d < g; d++) free += tables[tried[d]!]!.cores[picks[tried[d]!]!]!;
      // Depth-first over the members' slots, level d from slot 0 up while the cores of the slots fit in `free`.
      let d = 0;
      slots[0] = -1;
      prefix[0] = 0;
      while (d >= 0 && !found) {
        const s = ++slots[d]!;
        if (prefix[d]! + (s >> 1) > free) {
          d--;
          continue;
        }
        const ti = tried[d]!;
        const o = bestAt[ti]![s]!;
        if (o < 0 || o === picks[ti]) continue;
        picked[d] = o;
        if (d + 1 < g) {
          prefix[d + 1] = prefix[d]! + (s >> 1);
          slots[++d] = -1;
          continue;
        }
        for (let w = 0; w < W; w++) {
          let x = sum[w]!;
          for (let e = 0; e < g; e++) {
            const t = tables[tried[e]!]!;
            x = x - t.vec[picks[tried[e]!]! * W + w]! + t.vec[picked[e]! * W + w]!;
          }
          trial[w] = x;
        }
        let v: number;
        if (sharedTokens) {
          for (let e = 0; e < g; e++) {
            const p = picks[tried[e]!]!;
            picks[tried[e]!] = picked[e]!;
            picked[e] = p;
          }
          v = evalPicks(model, trial, picks);
          for (let e = 0; e < g; e++) {
            const p = picks[tried[e]!]!;
            picks[tried[e]!] = picked[e]!;
            picked[e] = p;
          }
        } else v = objectiveOf(trial, totalRate);
        evaluated++;
        // Recorded by code that runs for every move tried, taken or not (see the note in coordinateDescent on
        // code first reached late); the loops then end on `found`.
        found = v < value - 1e-12;
        for (let e = 0; e < g; e++) {
          members[e] = found ? tried[e]! : -1;
          options[e] = found ? picked[e]! : 0;
        }
        moved = found ? v * 1 : value;
      }
      // The next group of g tenants in lexicographic order.
      let d2 = g - 1;
      while (d2 >= 0 && tried[d2] === m - g + d2) d2--;
      if (d2 < 0 || found) break;
      tried[d2]!++;
      for (let e = d2 + 1; e < g; e++) tried[e] = tried[e - 1]! + 1;
    }
  }
  group.evaluated = evaluated;
  return moved;
}

/**
 * Scratch state of {@link singleMove}, allocated once per search: the objective of the best move found (a double
 * field), and the configurations evaluated so far.
 */
class SingleScratch {
  value = 0;
  evaluated = 0;
}

/**
 * Visited configurations as a mixed-radix number (or a string when that could exceed 2^53): returns whether `p`
 * was seen before, and remembers it.
 */
function visitedSet(tables: readonly TenantTable[]): (p: number[]) => boolean {
  const m = tables.length;
  let radixProduct = 1;
  for (const t of tables) radixProduct *= Math.max(1, t.choices.length);
  const numericKeys = radixProduct < 2 ** 52;
  const visitedNum = new Set<number>();
  const visitedStr = new Set<string>();
  return (p: number[]): boolean => {
    if (numericKeys) {
      let key = 0;
      for (let i = 0; i < m; i++) key = key * tables[i]!.choices.length + p[i]!;
      if (visitedNum.has(key)) return true;
      visitedNum.add(key);
      return false;
    }
    const key = p.join(',');
    if (visitedStr.has(key)) return true;
    visitedStr.add(key);
    return false;
  };
}

/**
 * Tenant i's best single move against the sum of the other tenants: every option is evaluated (also those needing
 * more cores than are free, for the group moves), and the best per slot 2c + on goes to `ba` / `bav` (see
 * coordinateDescent). Returns the best option that fits the free cores and improves on `value` by more than
 * 1e-12 (its objective in `out.value`), or the current one (`out.value` = `value`). `picks` is left as it was.
 */
function singleMove(
  model: FastModel,
  picks: number[],
  sum: Float64Array,
  used: number,
  value: number,
  i: number,
  ba: Int32Array,
  bav: Float64Array,
  bestAtOwn: Float64Array,
  trial: Float64Array,
  out: SingleScratch,
): number {
  const { totalRate, sharedTokens } = model;
  const t = model.tables[i]!;
  const vec = t.vec;
  const tc = t.cores;
  const sh = t.shared;
  const n = t.choices.length;
  const cur = picks[i]!;
  const cb = cur * W;
  const bL = sum[ON]! - vec[cb + ON]!;
  const bLX = sum[LX]! - vec[cb + LX]!;
  const bLR = sum[LR]! - vec[cb + LR]!;
  const bL2R = sum[L2R]! - vec[cb + L2R]!;
  const bLVX = sum[LVX]! - vec[cb + LVX]!;
  const bLXR = sum[LXR]! - vec[cb + LXR]!;
  const bL2XR = sum[L2XR]! - vec[cb + L2XR]!;
  const bCPU = sum[CPU]! - vec[cb + CPU]!;
  const bCNT = sum[CNT]! - vec[cb + CNT]!;
  // With shared tokens: do the other tenants collide among themselves (then every move is exact-path)?
  let othersCollide = false;
  if (sharedTokens) {
    picks[i] = -1;
    othersCollide = collidesExcept(model, picks, i);
    picks[i] = cur;
  }
  const left = model.cores - used + tc[cur]!;
  bav.fill(Infinity);
  ba.fill(-1);
  bestAtOwn.fill(Infinity);
  let evaluated = 0;
  let bo = cur;
  let bv = value;
  for (let o = 0; o < n; o++) {
    let v: number;
    if (o === cur) v = value;
    else {
      const ob = o * W;
      if (sharedTokens && (othersCollide || sh[o] !== 0)) {
        trial[ON] = bL + vec[ob + ON]!;
        trial[LX] = bLX + vec[ob + LX]!;
        trial[LR] = bLR + vec[ob + LR]!;
        trial[L2R] = bL2R + vec[ob + L2R]!;
        trial[LVX] = bLVX + vec[ob + LVX]!;
        trial[LXR] = bLXR + vec[ob + LXR]!;
        trial[L2XR] = bL2XR + vec[ob + L2XR]!;
        trial[CPU] = bCPU + vec[ob + CPU]!;
        trial[CNT] = bCNT + vec[ob + CNT]!;
        picks[i] = o;
        v = evalPicks(model, trial, picks);
        picks[i] = cur;
      } else
        v = objectiveParts(
          bL + vec[ob + ON]!,
          bLX + vec[ob + LX]!,
          bLR + vec[ob + LR]!,
          bL2R + vec[ob + L2R]!,
          bLVX + vec[ob + LVX]!,
          bLXR + vec[ob + LXR]!,
          bL2XR + vec[ob + L2XR]!,
          bCPU + vec[ob + CPU]!,
          bCNT + vec[ob + CNT]!,
          totalRate,
        );
      evaluated++;
    }
    const c = tc[o]!;
    const slot = 2 * c + (vec[o * W + CNT]! > 0.5 ? 1 : 0);
    // Every load, comparison and store below runs for every option: one first reached late (the
    // all-unstable case of a slot, at high load) has no type feedback and would deoptimise this function.
    const own = vec[o * W + CPU]! + 1000 * (vec[o * W + LX]! + vec[o * W + LR]!);
    const slotVal = bav[slot]!;
    const slotOpt = ba[slot]!;
    const slotOwn = bestAtOwn[slot]!;
    const lower = v < slotVal;
    const equal = v === slotVal;
    const slotUnstable = slotVal === Infinity;
    const slotEmpty = slotOpt < 0;
    const ownLower = own < slotOwn;
    const tieTaken = !lower && equal && slotUnstable && (slotEmpty || ownLower);
    // v * 1: a number TurboFan knows to be a double (v merges an untyped call result — the shared-token path —
    // so `lower ? v : slotVal` would box slotVal into a new HeapNumber per option: ~100 KB garbage/decision).
    const vNum = v * 1;
    bav[slot] = lower ? vNum : slotVal;
    ba[slot] = lower || tieTaken ? o : slotOpt;
    bestAtOwn[slot] = tieTaken ? own : slotOwn;
    if (c <= left && v < bv - 1e-12) {
      bv = v;
      bo = o;
    }
  }
  out.evaluated += evaluated;
  out.value = bv * 1;
  return bo;
}

/**
 * Coordinate descent from several starts: best single-tenant moves ({@link singleMove}: O(1) each against the sum
 * of the other tenants) and group moves of 2 and 3 tenants ({@link groupMove}), until neither improves.
 *
 * Allocation-free in the loop. A round that moves nobody has evaluated every option of every tenant against
 * the same configuration, so the group moves reuse those values (best option per tenant and core count)
 * instead of evaluating again. Configurations at the start of each round are remembered across starts: a
 * start that reaches one already visited stops (its continuation is the same, deterministic descent).
 */
function coordinateDescent(
  model: FastModel,
  starts: number[][],
): { picks: number[]; value: number; evaluated: number } {
  const m = model.tables.length;
  const { tables } = model;
  const sum = new Float64Array(W);
  const trial = new Float64Array(W);
  const best = { picks: [] as number[], value: Infinity, evaluated: 0 };
  let evaluated = 0;
  const perCores = model.cores + 1;
  // Best option of a tenant per core count and Edge TPU presence (slot 2c + on) under the current others, for
  // group moves: keeping the best of each presence lets a group swap who uses the TPU (one tenant moving wholly
  // onto it to free its cores while the other leaves it), which the single best per core count misses.
  const bestAt = packedArray(m, () => new Int32Array(2 * perCores));
  const bestAtVal = packedArray(m, () => new Float64Array(2 * perCores));
  // Where every option of a slot is unstable with the others as they are, the slot still gets the option with the
  // cheapest own term (CPU term + λ(x + r)): the others moving too can make it stable (the group moves below).
  const bestAtOwn = new Float64Array(2 * perCores);
  const group = new GroupScratch();
  const single = new SingleScratch();
  const seen = visitedSet(tables);

  for (const start of starts) {
    // A fresh PACKED_SMI copy whatever the start's elements kind (see smiArray).
    const picks = smiArray(m, (i) => start[i]!);
    sum.fill(0);
    let used = 0;
    for (let i = 0; i < m; i++) {
      const t = tables[i]!;
      for (let w = 0; w < W; w++) sum[w] = sum[w]! + t.vec[picks[i]! * W + w]!;
      used += t.cores[picks[i]!]!;
    }
    if (used > model.cores) continue;
    let value = evalPicks(model, sum, picks);
    evaluated++;
    let repeated = false;
    for (let round = 0; round < 100; round++) {
      if (seen(picks)) {
        repeated = true;
        break;
      }
      let improved = false;
      for (let i = 0; i < m; i++) {
        const cur = picks[i]!;
        const bo = singleMove(
          model,
          picks,
          sum,
          used,
          value,
          i,
          bestAt[i]!,
          bestAtVal[i]!,
          bestAtOwn,
          trial,
          single,
        );
        if (bo !== cur) {
          const vec = tables[i]!.vec;
          for (let w = 0; w < W; w++) sum[w] = sum[w]! + vec[bo * W + w]! - vec[cur * W + w]!;
          used += repick(tables, picks, i, bo);
          value = single.value;
          improved = true;
        }
      }
      if (improved) continue;
      // Group moves: 2, then 3 tenants at once (bestAt is current: nobody moved in this round).
      const move = groupMove(model, picks, sum, used, value, bestAt, group, trial);
      evaluated += group.evaluated;
      improved = move < value;
      value = improved ? move : value;
      // Apply the accepted group move (trial holds its sums). Runs every time, as a no-op without a move: the
      // first accepted move comes late (sometimes after hundreds of decisions), and code first run then has no
      // type feedback — it would deoptimise this whole function, and the next ~20 decisions would run slowly.
      for (let w = 0; w < W; w++) {
        const tw = trial[w]!;
        const sw = sum[w]!;
        sum[w] = improved ? tw : sw;
      }
      for (let d = 0; d < MAX_GROUP; d++) used += repick(tables, picks, group.members[d]!, group.options[d]!);
      if (!improved) break;
    }
    if (!repeated && value < best.value) {
      best.value = value;
      best.picks = picks;
    }
  }
  best.evaluated = evaluated + single.evaluated;
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
    const p = smiArray(m, (i) => indexOf(model.tables[i]!, s[i]!));
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
  const random = new SeededRandom(options.seed ?? 1);
  for (let r = 0; r < (options.restarts ?? 0); r++) {
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
      const o = fits[Math.floor(random.nextFloat() * fits.length)]!;
      left -= t.cores[o]!;
      p.push(o);
    }
    if (ok) starts.push(p);
  }
  const unique: number[][] = [];
  for (let i = 0; i < starts.length; i++) {
    const p = starts[i]!;
    let dup = false;
    for (let j = 0; j < i && !dup; j++) dup = starts[j]!.every((x, t) => x === p[t]);
    if (!dup) unique.push(p);
  }
  return unique;
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
  // The model does not outlive this call: its tables may use the reusable buffers.
  const model = prepare(tenants, cores, true);
  return fastSearchPrepared(model, options);
}

/** {@link fastSearch} on an already prepared model. */
export function fastSearchPrepared(model: FastModel, options: FastSearchOptions = {}): FastSearchResult {
  const space = model.tables.reduce((s, t) => s * t.choices.length, 1);
  let exact = space <= (options.exactLimit ?? 20_000);
  let r = exact ? branchAndBound(model) : coordinateDescent(model, startPoints(model, options));
  // Coordinate descent cannot climb out of unstable configurations (they all score Infinity): when it found no
  // stable one, the exact search settles whether there is one (rare: a system near saturation).
  if (!exact && !(r.picks.length > 0 && Number.isFinite(r.value)) && space <= (options.rescueLimit ?? 1e9)) {
    const b = branchAndBound(model);
    if (b.picks.length > 0 && Number.isFinite(b.value)) {
      r = { picks: b.picks, value: b.value, evaluated: r.evaluated + b.evaluated };
      exact = true;
    }
  }
  if (r.picks.length === 0) {
    // Nothing stable: report the first feasible configuration as Infinity rather than inventing an optimum.
    // (The greedy starts give each tenant a fair share of at least one core, which can exceed the budget when
    // more tenants need a CPU stage than there are cores: those are not feasible.)
    const fits = (p: readonly number[]): boolean =>
      p.reduce((sum, o, i) => sum + model.tables[i]!.cores[o]!, 0) <= model.cores;
    const starts = startPoints(model, { restarts: 0 }).filter(fits);
    if (starts.length === 0)
      throw new InvalidArgumentError(
        expected(`enough cores for ${model.tables.length} tenants`, 'fastSearch', model.cores),
      );
    r.picks = starts[0]!;
  }
  return {
    choices: packedArray(r.picks.length, (i) => model.tables[i]!.choices[r.picks[i]!]!),
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
  const sums = packedArray(m + 1, () => new Float64Array(W));
  const picks = smiArray(m, () => 0);
  const walk = (i: number, left: number): void => {
    if (i === m) {
      const v = evalPicks(model, sums[m]!, picks);
      if (!Number.isFinite(v)) return;
      if (top.length < n || v < top[top.length - 1]!.value) {
        top.push({ picks: smiArray(m, (q) => picks[q]!), value: v });
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
