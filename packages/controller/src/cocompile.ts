/**
 * Co-compiled head sets in the search (`swapless+`).
 *
 * `edgetpu_compiler` compiles several models together into one unit with one caching token: calls among them never
 * reload, the unit's parameters fill the on-chip SRAM in compile order (earlier heads get the cache first; what
 * does not fit streams on every call of its head), and a call after another unit's reloads the whole unit's cached
 * parameters. The device model reports all of it for a set (`coCompileReports` of @swapless/tpu-emulator, cached
 * per set, order and cuts by the variant store); {@link groupedTenants} turns a set into its members' TPU stages,
 * and the latency model's token terms (reload only after another token) do the rest.
 *
 * The search ({@link coCompileSearch}) adds "which tenants' heads are compiled together, in which order" to the
 * (cut, cores) search: every grouping of the tenants into sets (all set partitions up to
 * {@link MAX_PARTITIONED} tenants, pairs only beyond) is screened at the separate optimum (the fast search's), the
 * order of a set that does not fit chosen there too (a set that fits has no order to choose: nothing streams); the
 * best screened groupings are refined by coordinate descent over every tenant's (cut, cores, mode) options of the
 * fast search's tables, the sets evaluated in closed form ({@link setFigures}: prefix sums of the heads' parameter
 * bytes, no report built). Docs: docs/controller.md ("Co-compiled head sets").
 */
import { defaultVariantStore, type VariantStore } from '@swapless/compiler';
import type { SystemSetup, TenantChoice, TpuDiscipline, TpuStage } from '@swapless/contracts';
import { expected, InvalidArgumentError } from '@swapless/core';
import {
  activationReserveBytes,
  type CompileReport,
  callBreakdown,
  type DeviceProfile,
  layerStreamMs,
  MIB,
} from '@swapless/tpu-emulator';
import type { CutCandidate, TenantCatalog } from './catalog.js';
import { FAST_LAYOUT, type FastModel, fastSearchApplicable, modelOf, prepareFastModel } from './fast.js';
import type { Predictor } from './search.js';
import { type PlannedTenant, systemSetup } from './setup.js';

/** Co-compiled sets as tenant indices, each in compile order (≥ 2 members); tenants in no set are compiled alone. */
export type Grouping = readonly (readonly number[])[];

/** Beyond this many tenants with an Edge TPU stage only pairs are screened (Bell numbers grow fast). */
export const MAX_PARTITIONED = 5;

/** Options of {@link coCompileSearch}. */
export interface CoCompileOptions {
  /** Where set reports are made and cached (default: `defaultVariantStore()`). */
  variants?: VariantStore;
  /** How many screened groupings are refined by the (k, cores) search (default 1). */
  refine?: number;
  /** Coordinate-descent rounds per refined grouping (default 2). */
  rounds?: number;
  /** Only groupings made of these sets are considered (by tenant index); default: all. For tests and tools. */
  only?: readonly Grouping[];
  /**
   * The fast model of the same tenants and cores (`prepareFastModel`), when the caller searched `base` on it:
   * saves preparing the tables again.
   */
  model?: FastModel;
}

/** Result of {@link coCompileSearch}. */
export interface CoCompileResult {
  choices: TenantChoice[];
  /** The co-compiled sets chosen (tenant indices in compile order); empty: every head compiled alone. */
  grouping: Grouping;
  predictedMs: number;
  /** Groupings screened, and predictions made by `model` (0 or 1: the winner's). */
  screened: number;
  evaluated: number;
}

/** What the set arithmetic needs of one head compiled alone (device model), computed once per report. */
interface HeadFacts {
  /** Cumulative parameter bytes of the head's layers that have parameters, in graph order. */
  cum: Float64Array;
  largestActivationBytes: number;
  /** Edge TPU compute of the call (Σ layer compute), ms. */
  computeMs: number;
  /** Transfer time of the layers streamed alone, ms (before overlap). */
  streamMs: number;
  /** The call alone (no reload, no jitter), ms. */
  totalMs: number;
  /** Cached bytes alone. */
  cachedBytes: number;
}

const headFacts = new WeakMap<CompileReport, HeadFacts>();

function factsOf(report: CompileReport, profile: DeviceProfile): HeadFacts {
  let f = headFacts.get(report);
  if (f !== undefined) return f;
  const m = report.models[0]!;
  const weights = m.layers.filter((l) => l.weightBytes > 0);
  const cum = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((l, i) => {
    sum += l.weightBytes;
    cum[i] = sum;
  });
  const b = callBreakdown(report, profile);
  let streamMs = 0;
  for (const l of m.layers) streamMs += layerStreamMs(l, profile);
  f = {
    cum,
    largestActivationBytes: m.largestActivationBytes,
    computeMs: b.computeMs,
    streamMs,
    totalMs: b.totalMs,
    cachedBytes: report.onChipCachedBytes,
  };
  headFacts.set(report, f);
  return f;
}

/** Bytes of the longest prefix of `cum` that fit in `room` (in-order caching: the first layer that does not fit stops it). */
function cachedPrefix(cum: Float64Array, room: number): number {
  let lo = 0;
  let hi = cum.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cum[mid]! <= room) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 0 : cum[lo - 1]!;
}

/**
 * Scratch of {@link figuresInto}: per member its call in the set and alone (ms), and the set's reload and the
 * members' reloads alone (ms). Reused: one set at a time.
 */
interface FiguresScratch {
  callMs: Float64Array;
  aloneMs: Float64Array;
  reloadMs: number;
  aloneReloadMs: number;
}

function figuresScratch(n: number): FiguresScratch {
  return { callMs: new Float64Array(n), aloneMs: new Float64Array(n), reloadMs: 0, aloneReloadMs: 0 };
}

/**
 * The arithmetic of {@link setFigures} over the first `n` of `facts` (the members in compile order), into `out`
 * (no allocation: the search evaluates it for every move).
 */
function figuresInto(
  facts: readonly HeadFacts[],
  n: number,
  profile: DeviceProfile,
  out: FiguresScratch,
): void {
  const perByte = 1e3 / (profile.linkMBps * 1e6);
  let largest = 0;
  for (let j = 0; j < n; j++) largest = Math.max(largest, facts[j]!.largestActivationBytes);
  const budget = Math.max(
    0,
    Math.floor(
      profile.sramMiB * MIB - profile.fixedReserveMiB * MIB - activationReserveBytes(largest, profile),
    ),
  );
  const overlap = profile.streamOverlap;
  let used = 0;
  let full = false;
  let aloneReloadMs = 0;
  for (let j = 0; j < n; j++) {
    const f = facts[j]!;
    aloneReloadMs += f.cachedBytes * perByte;
    const total = f.cum.length === 0 ? 0 : f.cum[f.cum.length - 1]!;
    const cached = full ? 0 : cachedPrefix(f.cum, budget - used);
    if (cached < total) full = true;
    used += cached;
    // What streaming adds beyond what overlaps compute, alone and in the set.
    const streamed = (total - cached) * perByte;
    const addedAlone = f.streamMs - overlap * Math.min(f.computeMs, f.streamMs);
    const addedInSet = streamed - overlap * Math.min(f.computeMs, streamed);
    out.callMs[j] = f.totalMs - addedAlone + addedInSet;
    out.aloneMs[j] = f.totalMs;
  }
  out.reloadMs = used * perByte;
  out.aloneReloadMs = aloneReloadMs;
}

/**
 * The device model of a set in closed form (the same rules as `coCompileReports`, without building the report):
 * per member its call time in the set and alone, and the set's reload and the members' reloads alone, ms.
 */
export function setFigures(
  heads: readonly CompileReport[],
  profile: DeviceProfile,
): { callMs: number[]; aloneMs: number[]; reloadMs: number; aloneReloadMs: number } {
  const facts = heads.map((h) => factsOf(h, profile));
  const out = figuresScratch(facts.length);
  figuresInto(facts, facts.length, profile, out);
  return {
    callMs: Array.from(out.callMs),
    aloneMs: Array.from(out.aloneMs),
    reloadMs: out.reloadMs,
    aloneReloadMs: out.aloneReloadMs,
  };
}

/**
 * The TPU stages of the members of one set at the given cuts, in compile order (members without a head are left
 * out of the set). Each stage is the catalogue's (possibly corrected) stage scaled by what co-compiling changes in
 * the device model: the member's call time (it may now stream) and the reload (the whole set's cached parameters).
 * With an uncorrected catalogue these are exactly the device model's figures for the set. The token is the set
 * report's (made once per set, order and cuts by the variant store), or `token` when given (the search's own
 * label, which needs no report). Null when fewer than two members have a head (nothing to co-compile).
 */
export function setStages(
  cuts: readonly (CutCandidate | undefined)[],
  store: VariantStore = defaultVariantStore(),
  token?: string,
): (TpuStage | null)[] | null {
  const members: number[] = [];
  cuts.forEach((c, i) => {
    if (c?.tpu != null && c.head !== undefined) members.push(i);
  });
  if (members.length < 2) return null;
  const memberCuts = members.map((i) => cuts[i]!);
  const profile = memberCuts[0]!.head!.profile;
  if (memberCuts.some((c) => c.head!.profile.name !== profile.name)) {
    throw new InvalidArgumentError(
      expected(
        'heads of one device profile',
        'a co-compiled set',
        memberCuts.map((c) => c.head!.profile.name),
      ),
    );
  }
  const heads = memberCuts.map((c) => c.head!.report);
  const f = setFigures(heads, profile);
  const setToken = token ?? store.coCompiledFromReports(heads, profile).cachingToken;
  let reload = 0;
  for (const c of memberCuts) reload += c.tpu!.reloadMs;
  reload = reload > 0 && f.aloneReloadMs > 0 ? (reload * f.reloadMs) / f.aloneReloadMs : f.reloadMs;
  const out: (TpuStage | null)[] = cuts.map(() => null);
  members.forEach((i, j) => {
    const tpu = cuts[i]!.tpu!;
    const r = f.callMs[j]! / f.aloneMs[j]!;
    out[i] = {
      token: setToken,
      serviceMs: tpu.serviceMs * r,
      serviceVarianceMs2: tpu.serviceVarianceMs2 * r * r,
      reloadMs: reload,
      source: tpu.source,
    };
  });
  return out;
}

function cutOf(catalog: TenantCatalog, k: number): CutCandidate | undefined {
  return catalog.cuts.find((c) => c.k === k);
}

/** The catalogue with the cut at `k` given another TPU stage (the rest shared with the original). */
function withStage(catalog: TenantCatalog, k: number, tpu: TpuStage): TenantCatalog {
  return { ...catalog, cuts: catalog.cuts.map((c) => (c.k === k ? { ...c, tpu } : c)) };
}

/**
 * The tenants as the latency model and the simulator must see them at `choices` under `grouping`: the members of
 * each set carry the set's TPU stages at their chosen cuts (one token, the set's reload, streaming by compile
 * order). `systemSetup(groupedTenants(...), choices, cores)` is then the system to predict or simulate.
 */
export function groupedTenants(
  tenants: readonly PlannedTenant[],
  choices: readonly TenantChoice[],
  grouping: Grouping,
  store: VariantStore = defaultVariantStore(),
  labelled = false,
): PlannedTenant[] {
  const out = [...tenants];
  for (const set of grouping) {
    const stages = setStages(
      set.map((i) => cutOf(tenants[i]!.catalog, choices[i]!.k)),
      store,
      // The search labels a set by its members: equal tokens are all the latency model compares.
      labelled ? `set:${set.join(',')}` : undefined,
    );
    if (stages === null) continue;
    set.forEach((i, j) => {
      const s = stages[j];
      if (s != null) out[i] = { ...tenants[i]!, catalog: withStage(tenants[i]!.catalog, choices[i]!.k, s) };
    });
  }
  return out;
}

/** Every set partition of `items` (restricted growth strings), as its blocks of ≥ 2 (the sets). */
function partitions(items: readonly number[]): number[][][] {
  const out: number[][][] = [];
  const label: number[] = [];
  const walk = (i: number, blocks: number): void => {
    if (i === items.length) {
      const sets: number[][] = [];
      for (let b = 0; b < blocks; b++) {
        const set = items.filter((_, j) => label[j] === b);
        if (set.length >= 2) sets.push(set);
      }
      if (sets.length > 0) out.push(sets);
      return;
    }
    for (let b = 0; b <= blocks; b++) {
      label[i] = b;
      walk(i + 1, Math.max(blocks, b + 1));
    }
  };
  walk(0, 0);
  return out;
}

/** The groupings screened for these tenants: set partitions of those with a head, or pairs beyond the limit. */
export function candidateGroupings(tenants: readonly PlannedTenant[]): Grouping[] {
  const heads = tenants
    .map((t, i) => ({ t, i }))
    .filter(({ t }) => t.catalog.cuts.some((c) => c.head !== undefined))
    .map(({ i }) => i);
  if (heads.length <= MAX_PARTITIONED) return partitions(heads);
  const out: Grouping[] = [];
  for (let a = 0; a < heads.length; a++)
    for (let b = a + 1; b < heads.length; b++) out.push([[heads[a]!, heads[b]!]]);
  return out;
}

/**
 * The compile orders tried for a set that streams: every order up to 3 members; beyond, the members by descending
 * rate (the most frequent calls get the cache first) and its reverse.
 */
function orders(set: readonly number[], fm: FastModel): number[][] {
  if (set.length <= 3) return permutations(set);
  const byRate = [...set].sort((a, b) => fm.tables[b]!.lam - fm.tables[a]!.lam);
  return [byRate, [...byRate].reverse()];
}

function permutations(xs: readonly number[]): number[][] {
  if (xs.length <= 1) return [[...xs]];
  const out: number[][] = [];
  xs.forEach((x, i) => {
    for (const rest of permutations([...xs.slice(0, i), ...xs.slice(i + 1)])) out.push([x, ...rest]);
  });
  return out;
}

/**
 * What the search reads per decision: the fast model's tables, each tenant's options grouped by cut (ascending
 * cores), each option's catalogue cut, and scratch for the set figures (recomputed per move: cheaper than keying
 * a cache by the members' cuts).
 */
interface SearchSpace {
  fm: FastModel;
  /** Per tenant, per option: the catalogue cut (with its head). */
  cutOf: (CutCandidate | undefined)[][];
  /** Per tenant: option indices grouped by cut. */
  byCut: number[][][];
  /** Per tenant, per option: the head's facts (null without a head), filled on first use. */
  facts: (HeadFacts | null | undefined)[][];
  /** Scratch per tenant: call, reload, variance, group id; a set's members, their facts and figures. */
  x: Float64Array;
  r: Float64Array;
  v: Float64Array;
  group: Int32Array;
  members: Int32Array;
  memberFacts: HeadFacts[];
  figures: FiguresScratch;
}

/** A catalogue's cuts by k (cached per catalogue: the search maps every option to its cut). */
const cutsByK = new WeakMap<TenantCatalog, Map<number, CutCandidate>>();

function cutMap(catalog: TenantCatalog): Map<number, CutCandidate> {
  let byK = cutsByK.get(catalog);
  if (byK === undefined) {
    byK = new Map(catalog.cuts.map((c) => [c.k, c]));
    cutsByK.set(catalog, byK);
  }
  return byK;
}

function searchSpace(fm: FastModel, tenants: readonly PlannedTenant[]): SearchSpace {
  const cutOf = fm.tables.map((t, i) => {
    const byK = cutMap(tenants[i]!.catalog);
    return t.choices.map((c) => byK.get(c.k));
  });
  const byCut = fm.tables.map((t) => {
    const groups: number[][] = [];
    t.choices.forEach((c, o) => {
      const last = groups.at(-1);
      if (last !== undefined && t.choices[last[0]!]!.k === c.k) last.push(o);
      else groups.push([o]);
    });
    return groups;
  });
  const m = fm.tables.length;
  return {
    fm,
    cutOf,
    byCut,
    facts: fm.tables.map((t) => new Array(t.choices.length)),
    x: new Float64Array(m),
    r: new Float64Array(m),
    v: new Float64Array(m),
    group: new Int32Array(m),
    members: new Int32Array(m),
    memberFacts: [],
    figures: figuresScratch(m),
  };
}

/** The head facts of tenant i's option o (null without a head). */
function optionFacts(sp: SearchSpace, i: number, o: number): HeadFacts | null {
  let f = sp.facts[i]![o];
  if (f === undefined) {
    const head = sp.cutOf[i]![o]?.head;
    f = head === undefined ? null : factsOf(head.report, head.profile);
    sp.facts[i]![o] = f;
  }
  return f;
}

/** True when `set` at `picks` streams nothing its members did not stream alone (its order then is moot). */
function fits(sp: SearchSpace, set: readonly number[], picks: readonly number[]): boolean {
  let n = 0;
  let profile: DeviceProfile | undefined;
  for (const i of set) {
    const facts = optionFacts(sp, i, picks[i]!);
    if (facts === null) continue;
    profile ??= sp.cutOf[i]![picks[i]!]!.head!.profile;
    sp.memberFacts[n++] = facts;
  }
  if (n < 2 || profile === undefined) return true;
  const f = sp.figures;
  figuresInto(sp.memberFacts, n, profile, f);
  for (let j = 0; j < n; j++) if (!(f.callMs[j]! <= f.aloneMs[j]! + 1e-9)) return false;
  return true;
}

/**
 * Objective of an unstable configuration: above every stable one, and ordered by the Edge TPU utilisation it
 * would need (so the search still climbs towards stability when it starts from an unstable configuration).
 */
const UNSTABLE = 1e15;

/** Group id of a set (token ids of separately compiled heads are ≥ 0). */
const SET_GROUP = -2;
/** No Edge TPU stage. */
const NO_TPU = -1;

/**
 * The Edge TPU terms of set `s` (members in compile order) at `picks`, over the separate heads' terms in the
 * scratch: each member's call and variance scaled by its set/alone ratio, the set's reload (the members'
 * reloads scaled by the set/alone ratio), one token group. Members without a head are left out; a set left with
 * fewer than two changes nothing.
 */
function applySet(sp: SearchSpace, picks: readonly number[], set: readonly number[], s: number): void {
  const { x, r, v, group, members, memberFacts, figures: f } = sp;
  let n = 0;
  let profile: DeviceProfile | undefined;
  for (const i of set) {
    if (group[i] === NO_TPU) continue;
    const facts = optionFacts(sp, i, picks[i]!);
    if (facts === null) continue;
    profile ??= sp.cutOf[i]![picks[i]!]!.head!.profile;
    members[n] = i;
    memberFacts[n++] = facts;
  }
  if (n < 2 || profile === undefined) return;
  figuresInto(memberFacts, n, profile, f);
  let reload = 0;
  for (let j = 0; j < n; j++) reload += r[members[j]!]!;
  reload = reload > 0 && f.aloneReloadMs > 0 ? (reload * f.reloadMs) / f.aloneReloadMs : f.reloadMs;
  for (let j = 0; j < n; j++) {
    const i = members[j]!;
    const ratio = f.callMs[j]! / f.aloneMs[j]!;
    x[i] = x[i]! * ratio;
    v[i] = v[i]! * ratio * ratio;
    r[i] = reload;
    group[i] = SET_GROUP - s;
  }
}

/**
 * The default model's objective Σλ_iR_i/Λ of one configuration (option indices into the fast model's tables)
 * with `grouping`'s members co-compiled: the CPU terms from the tables, the Edge TPU terms with the sets' call
 * times and reloads ({@link setFigures}) and token groups (p_i = 1 − Λ_g/Λ_T, a set being one group). The same
 * formula as the fast search's token-group evaluation, so with no set it is that search's objective.
 */
function groupedObjective(sp: SearchSpace, picks: readonly number[], grouping: Grouping): number {
  const { width, cpu: CPU } = FAST_LAYOUT;
  const { fm, x, r, v, group } = sp;
  const m = fm.tables.length;
  let cpu = 0;
  let used = 0;
  for (let i = 0; i < m; i++) {
    const t = fm.tables[i]!;
    const o = picks[i]!;
    cpu += t.vec[o * width + CPU]!;
    used += t.cores[o]!;
    const tok = t.tok[o]!;
    group[i] = tok < 0 ? NO_TPU : tok;
    x[i] = t.raw[o * 3]!;
    r[i] = t.raw[o * 3 + 1]!;
    v[i] = t.raw[o * 3 + 2]!;
  }
  if (used > fm.cores) return Number.POSITIVE_INFINITY;
  for (let s = 0; s < grouping.length; s++) applySet(sp, picks, grouping[s]!, s);
  let L = 0;
  for (let i = 0; i < m; i++) if (group[i] !== NO_TPU) L += fm.tables[i]!.lam;
  let rho = 0;
  let n2 = 0;
  for (let i = 0; i < m; i++) {
    const g = group[i]!;
    if (g === NO_TPU) continue;
    let lamG = 0;
    for (let j = 0; j < m; j++) if (group[j] === g) lamG += fm.tables[j]!.lam;
    const xi = x[i]!;
    const ri = r[i]!;
    const p = L > 0 ? Math.max(0, 1 - lamG / L) : 0;
    const lam = fm.tables[i]!.lam;
    rho += lam * (xi + p * ri);
    n2 += lam * (v[i]! + xi * xi + (2 * xi * ri + ri * ri) * p);
  }
  if (rho >= 1 || !Number.isFinite(cpu)) return UNSTABLE * (Number.isFinite(cpu) ? 1 : 2) + rho;
  const wait = L > 0 ? n2 / (2 * (1 - rho)) : 0;
  return (cpu + 1000 * (rho + L * wait)) / fm.totalRate;
}

/**
 * Coordinate descent with the grouping fixed, from `picks` (changed in place). A tenant's move tries each of its
 * cuts once, with the option of that cut that has the lowest CPU term within the cores the others leave: the
 * Edge TPU terms depend on the cut only, so that option is the cut's best (exact for a one-tenant move).
 */
function descend(sp: SearchSpace, picks: number[], grouping: Grouping, rounds: number): number {
  const { width, cpu: CPU } = FAST_LAYOUT;
  const { fm } = sp;
  let best = groupedObjective(sp, picks, grouping);
  for (let round = 0; round < rounds; round++) {
    let improved = false;
    for (let i = 0; i < picks.length; i++) {
      const t = fm.tables[i]!;
      let free = fm.cores;
      for (let j = 0; j < picks.length; j++) if (j !== i) free -= fm.tables[j]!.cores[picks[j]!]!;
      const keep = picks[i]!;
      let bestO = keep;
      for (const options of sp.byCut[i]!) {
        let o = -1;
        for (const q of options) {
          if (t.cores[q]! <= free && (o < 0 || t.vec[q * width + CPU]! < t.vec[o * width + CPU]!)) o = q;
        }
        if (o < 0 || o === keep) continue;
        picks[i] = o;
        const got = groupedObjective(sp, picks, grouping);
        if (got < best) {
          best = got;
          bestO = o;
          improved = true;
        }
      }
      picks[i] = bestO;
    }
    if (!improved) break;
  }
  return best;
}

/**
 * The search's closed-form objective of one configuration under a grouping (what screening and refinement
 * compare; Infinity when unstable), or null when a choice is not among the fast search's options. For tests: it
 * must equal the default model's prediction of `groupedTenants(...)`.
 */
export function closedFormObjective(
  tenants: readonly PlannedTenant[],
  cores: number,
  choices: readonly TenantChoice[],
  grouping: Grouping,
): number | null {
  const fm = prepareFastModel(tenants, cores);
  const picks = choices.map((c, i) => optionIndex(fm.tables[i]!.choices, c));
  if (picks.some((o) => o < 0)) return null;
  const ms = groupedObjective(searchSpace(fm, tenants), picks, grouping);
  return ms < UNSTABLE ? ms : Number.POSITIVE_INFINITY;
}

/** Index of `choice` among a fast table's options (−1 when pruned there). */
function optionIndex(choices: readonly TenantChoice[], choice: TenantChoice): number {
  return choices.findIndex((c) => c.k === choice.k && c.cores === choice.cores && c.mode === choice.mode);
}

/**
 * The best configuration with co-compiled head sets, starting from `base` (the separate-compilation optimum of
 * the same tenants, e.g. `fastSearch`'s). Every grouping ({@link candidateGroupings}) is screened at the base
 * configuration — the order of a set that does not fit chosen there (a set that fits has no order to choose) —
 * and the best `refine` groupings are refined by coordinate descent over every tenant's (cut, cores, mode) with
 * the default model's closed form. The winner is predicted once more by `model` (the default model, or a
 * `delayedPredictor` around it) and taken only when it beats `base.predictedMs`: never worse than `base`.
 * @throws InvalidArgumentError for base choices that do not match the tenants, or an `options.model` of other
 * tenants or cores.
 */
export function coCompileSearch(
  tenants: readonly PlannedTenant[],
  cores: number,
  model: Predictor,
  base: { choices: readonly TenantChoice[]; predictedMs: number },
  options: CoCompileOptions = {},
): CoCompileResult {
  if (base.choices.length !== tenants.length) {
    throw new InvalidArgumentError(
      expected(`${tenants.length} base choices`, 'coCompileSearch', base.choices.length),
    );
  }
  const store = options.variants ?? defaultVariantStore();
  const keep: CoCompileResult = {
    choices: [...base.choices],
    grouping: [],
    predictedMs: Number.isFinite(base.predictedMs) ? base.predictedMs : Number.POSITIVE_INFINITY,
    screened: 0,
    evaluated: 0,
  };
  if (!fastSearchApplicable(tenants)) return keep;
  const fm = options.model ?? prepareFastModel(tenants, cores);
  if (!modelOf(fm, tenants, cores)) {
    throw new InvalidArgumentError(
      expected(
        `a fast model of these ${tenants.length} tenants at their rates and ${cores} cores`,
        'options.model',
        {
          tenants: fm.tenants.map((t) => `${t.name}@${t.rate}`),
          cores: fm.cores,
        },
      ),
    );
  }
  const start = base.choices.map((c, i) => optionIndex(fm.tables[i]!.choices, c));
  if (start.some((o) => o < 0)) return keep;
  const sp = searchSpace(fm, tenants);
  // Screening at the base configuration: each grouping once, a set that streams in each order.
  const screened: { grouping: Grouping; ms: number }[] = [];
  for (const g of options.only ?? candidateGroupings(tenants)) {
    let grouping: number[][] = g.map((s) => [...s]);
    let ms = groupedObjective(sp, start, grouping);
    grouping.forEach((set, si) => {
      if (fits(sp, set, start)) return;
      for (const order of orders(set, fm)) {
        const trial = grouping.map((s, j) => (j === si ? order : s));
        const t = groupedObjective(sp, start, trial);
        if (t < ms) {
          ms = t;
          grouping = trial;
        }
      }
    });
    screened.push({ grouping, ms });
  }
  screened.sort((a, b) => a.ms - b.ms);
  let best: { grouping: Grouping; picks: number[]; ms: number } | null = null;
  for (const { grouping } of screened.slice(0, options.refine ?? 1)) {
    const picks = [...start];
    const ms = descend(sp, picks, grouping, options.rounds ?? 2);
    if (best === null || ms < best.ms) best = { grouping, picks, ms };
  }
  if (best === null || !(best.ms < UNSTABLE)) return { ...keep, screened: screened.length };
  const choices = best.picks.map((o, i) => fm.tables[i]!.choices[o]!);
  // Members that ended without a head (k = 0) leave their set; a set left with one head is none.
  const heads = best.picks;
  const grouping = best.grouping
    .map((set) => set.filter((i) => sp.cutOf[i]![heads[i]!]?.head !== undefined && choices[i]!.k > 0))
    .filter((set) => set.length >= 2);
  const grouped = groupedTenants(tenants, choices, grouping, store, true);
  const predictedMs = model.predict(systemSetup(grouped, choices, cores)).meanResponseMs;
  if (!(predictedMs < keep.predictedMs)) return { ...keep, screened: screened.length, evaluated: 1 };
  return {
    choices: [...choices],
    grouping,
    predictedMs,
    screened: screened.length,
    evaluated: 1,
  };
}

/** Sets as tenant names (a decision's `sets`) from a grouping. */
export function setsByName(tenants: readonly { name: string }[], grouping: Grouping): string[][] {
  return grouping.map((set) => set.map((i) => tenants[i]!.name));
}

/**
 * The system of `tenants` at `choices` as it runs under a layout: each co-compiled set's members carry the set's
 * Edge TPU stages ({@link groupedTenants}, heads reported in `store`) and the device queue follows `discipline`
 * (FIFO: the system carries none). What the policy predicts for the configuration in force, and the service too.
 */
export function layoutSetup(
  tenants: readonly PlannedTenant[],
  choices: readonly TenantChoice[],
  cores: number,
  layout: { grouping?: Grouping; discipline?: TpuDiscipline; store?: VariantStore; device?: string } = {},
): SystemSetup {
  const { grouping = [], discipline = 'fifo' } = layout;
  const members = grouping.length > 0 ? groupedTenants(tenants, choices, grouping, layout.store) : tenants;
  const system = systemSetup(members, choices, cores, layout.device);
  return discipline === 'fifo' ? system : { ...system, discipline };
}

/**
 * A grouping (tenant indices) from a decision's `sets` (names). Names not among `tenants` are dropped, and so is
 * a set left with fewer than two members.
 */
export function groupingOf(
  tenants: readonly { name: string }[],
  sets: readonly (readonly string[])[] | undefined,
): Grouping {
  if (sets === undefined) return [];
  const index = new Map(tenants.map((t, i) => [t.name, i]));
  return sets
    .map((s) => s.map((n) => index.get(n)).filter((i): i is number => i !== undefined))
    .filter((s) => s.length >= 2);
}

/** Tenants whose co-compiled set differs between two groupings (compile order included). */
export function regroupedTenants(a: Grouping, b: Grouping): Set<number> {
  const setOf = (g: Grouping) => {
    const m = new Map<number, string>();
    for (const set of g) for (const i of set) m.set(i, set.join(','));
    return m;
  };
  const ma = setOf(a);
  const mb = setOf(b);
  const out = new Set<number>();
  for (const i of new Set([...ma.keys(), ...mb.keys()])) if (ma.get(i) !== mb.get(i)) out.add(i);
  return out;
}
