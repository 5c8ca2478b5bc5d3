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
 * {@link MAX_PARTITIONED} tenants, pairs only beyond) is screened at the separate optimum's cuts — one exact
 * prediction each, the order of a set that does not fit chosen there too (a set that fits has no order to choose:
 * nothing streams) — and the best screened groupings are refined by the existing (k, cores) search on catalogues
 * conditioned on the other members' cuts, until the cuts stop moving. Docs: docs/controller.md ("Co-compiled head
 * sets").
 */
import { defaultVariantStore, type VariantStore } from '@swapless/compiler';
import type { TenantChoice, TpuStage } from '@swapless/contracts';
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
import { type FastSearchOptions, fastSearch } from './fast.js';
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
  /** How many screened groupings are refined by the (k, cores) search (default 2). */
  refine?: number;
  /** Refinement rounds per grouping (default 3). */
  rounds?: number;
  /** Options of the inner fast search. */
  search?: FastSearchOptions;
  /** Only groupings made of these sets are considered (by tenant index); default: all. For tests and tools. */
  only?: readonly Grouping[];
}

/** Result of {@link coCompileSearch}. */
export interface CoCompileResult {
  choices: TenantChoice[];
  /** The co-compiled sets chosen (tenant indices in compile order); empty: every head compiled alone. */
  grouping: Grouping;
  predictedMs: number;
  /** Groupings screened and configurations the refinement evaluated exactly. */
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
 * The device model of a set in closed form (the same rules as `coCompileReports`, without building the report):
 * per member its call time in the set and alone, and the set's reload and the members' reloads alone, ms.
 */
export function setFigures(
  heads: readonly CompileReport[],
  profile: DeviceProfile,
): { callMs: number[]; aloneMs: number[]; reloadMs: number; aloneReloadMs: number } {
  const facts = heads.map((h) => factsOf(h, profile));
  const perByte = 1e3 / (profile.linkMBps * 1e6);
  const largest = Math.max(0, ...facts.map((f) => f.largestActivationBytes));
  const budget = Math.max(
    0,
    Math.floor(
      profile.sramMiB * MIB - profile.fixedReserveMiB * MIB - activationReserveBytes(largest, profile),
    ),
  );
  const hidden = (f: HeadFacts, streamMs: number) =>
    streamMs - profile.streamOverlap * Math.min(f.computeMs, streamMs);
  let used = 0;
  let full = false;
  let aloneReloadMs = 0;
  const callMs = facts.map((f) => {
    aloneReloadMs += f.cachedBytes * perByte;
    const total = f.cum.length === 0 ? 0 : f.cum[f.cum.length - 1]!;
    const cached = full ? 0 : cachedPrefix(f.cum, budget - used);
    if (cached < total) full = true;
    used += cached;
    return f.totalMs - hidden(f, f.streamMs) + hidden(f, (total - cached) * perByte);
  });
  return { callMs, aloneMs: facts.map((f) => f.totalMs), reloadMs: used * perByte, aloneReloadMs };
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

function permutations(xs: readonly number[]): number[][] {
  if (xs.length <= 1) return [[...xs]];
  const out: number[][] = [];
  xs.forEach((x, i) => {
    for (const rest of permutations([...xs.slice(0, i), ...xs.slice(i + 1)])) out.push([x, ...rest]);
  });
  return out;
}

/** True when the set at these cuts streams nothing the members did not stream alone (its order then is moot). */
function fits(cuts: readonly (CutCandidate | undefined)[]): boolean {
  const heads = cuts.filter((c) => c?.head !== undefined).map((c) => c!.head!);
  if (heads.length < 2) return true;
  const f = setFigures(
    heads.map((h) => h.report),
    heads[0]!.profile,
  );
  return f.callMs.every((ms, i) => ms <= f.aloneMs[i]! + 1e-9);
}

/**
 * The catalogue of set member `i` with every cut's TPU stage co-compiled with the other members at their current
 * cuts, under one token per set whatever the cuts (so the inner search sees the members share it). Cached per
 * (catalogue, set, others' cuts): a steady workload finds the same ones every tick.
 */
const conditionalCache = new WeakMap<TenantCatalog, Map<string, TenantCatalog>>();

function conditionalCatalog(
  tenants: readonly PlannedTenant[],
  set: readonly number[],
  member: number,
  ks: readonly number[],
  store: VariantStore,
): TenantCatalog {
  const catalog = tenants[set[member]!]!.catalog;
  const key = set.map((i, j) => (j === member ? `${i}:*` : `${i}:${ks[i]}`)).join(',');
  let byKey = conditionalCache.get(catalog);
  if (byKey === undefined) {
    byKey = new Map();
    conditionalCache.set(catalog, byKey);
  }
  const hit = byKey.get(key);
  if (hit !== undefined) return hit;
  const token = `set:${set.join(',')}`;
  const cuts = catalog.cuts.map((c) => {
    if (c.tpu === null || c.head === undefined) return c;
    const stages = setStages(
      set.map((i, j) => (j === member ? c : cutOf(tenants[i]!.catalog, ks[i]!))),
      store,
      token,
    );
    const s = stages?.[member];
    return s == null ? c : { ...c, tpu: s };
  });
  const made: TenantCatalog = { ...catalog, cuts };
  if (byKey.size >= 256) byKey.clear();
  byKey.set(key, made);
  return made;
}

function sameCuts(a: readonly TenantChoice[], b: readonly TenantChoice[]): boolean {
  return a.every((c, i) => c.k === b[i]!.k && c.cores === b[i]!.cores && c.mode === b[i]!.mode);
}

/**
 * The best configuration with co-compiled head sets, starting from `base` (the separate-compilation optimum of
 * the same tenants, e.g. `fastSearch`'s): never worse than `base` under `model` (base is kept when nothing
 * beats it). `model` predicts a system (the default latency model, or a `delayedPredictor` around it).
 * @throws InvalidArgumentError for base choices that do not match the tenants.
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
  let evaluated = 0;
  const exact = (grouping: Grouping, choices: readonly TenantChoice[]): number => {
    evaluated++;
    const grouped = groupedTenants(tenants, choices, grouping, store, true);
    const ms = model.predict(systemSetup(grouped, choices, cores)).meanResponseMs;
    return Number.isFinite(ms) ? ms : Number.POSITIVE_INFINITY;
  };
  let best: CoCompileResult = {
    choices: [...base.choices],
    grouping: [],
    predictedMs: Number.isFinite(base.predictedMs) ? base.predictedMs : Number.POSITIVE_INFINITY,
    screened: 0,
    evaluated: 0,
  };
  // Screening at the base cuts: each grouping once, a set that streams in every order it can be compiled in.
  const screened: { grouping: Grouping; ms: number }[] = [];
  const groupings = options.only ?? candidateGroupings(tenants);
  for (const g of groupings) {
    let grouping: number[][] = g.map((s) => [...s]);
    let ms = exact(grouping, base.choices);
    grouping.forEach((set, si) => {
      if (set.length > 4 || fits(set.map((i) => cutOf(tenants[i]!.catalog, base.choices[i]!.k)))) return;
      for (const order of permutations(set)) {
        const trial = grouping.map((s, j) => (j === si ? order : s));
        const t = exact(trial, base.choices);
        if (t < ms) {
          ms = t;
          grouping = trial;
        }
      }
    });
    screened.push({ grouping, ms });
  }
  screened.sort((a, b) => a.ms - b.ms);
  for (const { grouping, ms } of screened.slice(0, options.refine ?? 2)) {
    if (ms < best.predictedMs) best = { ...best, choices: [...base.choices], grouping, predictedMs: ms };
    let ks: TenantChoice[] = [...base.choices];
    for (let round = 0; round < (options.rounds ?? 3); round++) {
      const cond = tenants.map((t) => t);
      for (const set of grouping) {
        set.forEach((i, j) => {
          cond[i] = {
            ...tenants[i]!,
            catalog: conditionalCatalog(
              tenants,
              set,
              j,
              ks.map((c) => c.k),
              store,
            ),
          };
        });
      }
      const r = fastSearch(cond, cores, { ...options.search, starts: [ks] });
      const got = exact(grouping, r.choices);
      if (got < best.predictedMs) best = { ...best, choices: r.choices, grouping, predictedMs: got };
      if (sameCuts(r.choices, ks)) break;
      ks = r.choices;
    }
  }
  return { ...best, screened: screened.length, evaluated };
}

/** Sets as tenant names (a decision's `sets`) from a grouping. */
export function setsByName(tenants: readonly { name: string }[], grouping: Grouping): string[][] {
  return grouping.map((set) => set.map((i) => tenants[i]!.name));
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
