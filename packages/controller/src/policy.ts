/**
 * Controller policies behind one interface, as the runtime and the simulator drive them:
 *
 * ```ts
 * const policy = createPolicy('swapless');
 * let decision = policy.initial({ tenants, cores });          // runtime.reconfigure(decision)
 * every tick: const d = policy.onTick({ arrivals, stages, loads }, nowMs); if (d) runtime.reconfigure(d);
 * ```
 *
 * `swapless` is adaptive (rate estimator + corrected catalog + fast search + hysteresis); `default`, `cpu`,
 * `fixed` are the static baselines; `oracle` is the best static configuration found in the simulator.
 */
import type { Decision, DeviceSetup, SloPercentile, TenantChoice, TpuDiscipline } from '@swapless/contracts';
import { expected, InvalidArgumentError } from '@swapless/core';
import { DEFAULT_MODEL_NAME, defaultModel } from '@swapless/queueing';
import { simulate } from '@swapless/sim';
import { poissonArrivals, type RatePhase } from './arrivals.js';
import type { TenantCatalog } from './catalog.js';
import {
  type CoCompileOptions,
  coCompileSearch,
  type Grouping,
  layoutSetup,
  regroupedTenants,
  setsByName,
} from './cocompile.js';
import { type DelayOptions, delayedPredictor } from './delays.js';
import { chooseDiscipline, type DisciplineOptions, sameDiscipline } from './discipline.js';
import { RateEstimator, type RateEstimatorOptions, type RateSnapshot } from './estimator.js';
import {
  type FastModel,
  type FastSearchOptions,
  fastSearch,
  fastSearchApplicable,
  fastSearchPrepared,
  prepareFastModel,
  topConfigurations,
} from './fast.js';
import { type CorrectionOptions, ServiceCorrection, type StageObservation } from './feedback.js';
import {
  type HysteresisOptions,
  SloBreachGate,
  SwitchCostModel,
  type SwitchVerdict,
  shouldSwitch,
} from './hysteresis.js';
import {
  hasSeveralDevices,
  placedPredictMs,
  placedSystem,
  placementBest,
  placementCandidates,
  spreadOverDevices,
} from './placement.js';
import { baselineChoices, evenSplit, nearestCut, type Predictor, searchConfiguration } from './search.js';
import { type PlannedTenant, systemSetup } from './setup.js';
import { ADMISSION_CHANGED, type SearchedPlan, sloSwitchReason, withSlos } from './slo.js';

/** A tenant as a policy knows it at start: its catalog and its expected (prior) rate. */
export interface PolicyTenant {
  name: string;
  catalog: TenantCatalog;
  /** Expected rate, requests per second (the workload file's; the adaptive policy only uses it as a prior). */
  rate: number;
  sloMs?: number;
  /** The percentile `sloMs` bounds (default p99). */
  sloPercentile?: SloPercentile;
}

/** What a policy is started with. */
export interface PolicyContext {
  tenants: readonly PolicyTenant[];
  /** CPU cores for all CPU stages together. */
  cores: number;
  device?: string;
  /**
   * The host's Edge TPUs (several: the policies also choose each tenant's device, and decisions carry it; absent
   * or one: as with one device). Profiles may differ: each tenant's catalog then has its catalog on every device
   * (`withDeviceCatalogs`).
   */
  devices?: readonly DeviceSetup[];
  /** Time of the start, ms (default 0). */
  nowMs?: number;
}

/** A measured model-load time the runtime reports after loading a tenant's variants at cut `k`. */
export interface LoadObservation {
  tenant: string;
  k: number;
  ms: number;
}

/** What happened since the previous tick (everything optional; a policy ignores what it does not use). */
export interface TickObservations {
  /** Arrival times (ms, same clock as `nowMs`) per tenant since the previous tick. */
  arrivals?: Readonly<Record<string, ArrayLike<number>>>;
  /** Measured stage times of completed requests. */
  stages?: readonly StageObservation[];
  /** Measured variant load times. */
  loads?: readonly LoadObservation[];
}

/** A controller policy. The caller applies every decision it returns (from `initial` and from `onTick`). */
export interface Policy {
  readonly name: string;
  /** The configuration to start with. */
  initial(ctx: PolicyContext): Decision;
  /** Called periodically (e.g. every second); a new decision to apply, or null to keep the current one. */
  onTick(obs: TickObservations, nowMs: number): Decision | null;
  /**
   * Optional: search again now and return the best configuration whatever the hysteresis says (the caller saw the
   * model's predictions diverge from what it measures). Null when the policy cannot re-plan.
   */
  replan?(nowMs: number, why: string): Decision | null;
  /** Latest rate estimates (adaptive policies only). */
  readonly rates?: RateSnapshot | null;
  /**
   * The last tick's weighing (adaptive policies only): the best configuration the search found, and why it was
   * or was not applied. Null before the first tick that searched.
   */
  readonly lastVerdict?: TickVerdict | null;
}

/** What an adaptive policy's tick found and decided (see {@link Policy.lastVerdict}). */
export interface TickVerdict extends SwitchVerdict {
  /** Policy time of the tick, ms. */
  atMs: number;
  /** Predicted mean response of the configuration in force, ms. */
  currentMs: number;
  /** Predicted mean response of the best configuration found, ms. */
  candidateMs: number;
  /** Tenants whose choice the best configuration changes (empty: the search kept the current one). */
  changed: string[];
}

/** Names of the built-in policies. */
export const POLICY_NAMES = ['swapless', 'swapless+', 'default', 'cpu', 'fixed', 'oracle'] as const;
/** A built-in policy name. */
export type PolicyName = (typeof POLICY_NAMES)[number];

/** The decision of `choices` (one per tenant, in the order of `tenants`): each choice with its tenant's name. */
function decision(
  tenants: readonly { name: string }[],
  choices: readonly TenantChoice[],
  predictedMs: number,
  reason: string,
  grouping: Grouping = [],
  discipline: TpuDiscipline = 'fifo',
): Decision {
  return {
    tenants: choices.map((c, i) => ({
      name: tenants[i]!.name,
      k: c.k,
      cores: c.cores,
      mode: c.mode,
      ...(c.device !== undefined ? { device: c.device } : {}),
      ...(c.admit !== undefined ? { admit: c.admit } : {}),
    })),
    predictedMs,
    reason,
    ...(grouping.length > 0 ? { sets: setsByName(tenants, grouping) } : {}),
    ...(discipline !== 'fifo' ? { discipline } : {}),
  };
}

/** A tenant's latency objective, as the planner takes it. */
const sloOf = (t: PolicyTenant): Pick<PlannedTenant, 'sloMs' | 'sloPercentile'> => ({
  ...(t.sloMs !== undefined ? { sloMs: t.sloMs } : {}),
  ...(t.sloPercentile !== undefined ? { sloPercentile: t.sloPercentile } : {}),
});

function planned(ctx: PolicyContext): PlannedTenant[] {
  return ctx.tenants.map((t) => ({ name: t.name, rate: t.rate, catalog: t.catalog, ...sloOf(t) }));
}

function predictMs(
  model: Predictor,
  tenants: readonly PlannedTenant[],
  choices: TenantChoice[],
  cores: number,
  delays: DelayOptions = {},
  devices?: readonly DeviceSetup[],
  grouping: Grouping = [],
  discipline: TpuDiscipline = 'fifo',
): number {
  if (hasSeveralDevices(devices)) return placedPredictMs(model, tenants, choices, cores, devices, delays);
  const system = layoutSetup(tenants, choices, cores, { grouping, discipline });
  return delayedPredictor(model, tenants, delays).predict(system).meanResponseMs;
}

/** Options of {@link swaplessPolicy}. */
export interface SwaplessOptions {
  /** Latency model (default: the default model, searched by the fast path; any other uses the generic search). */
  model?: Predictor;
  estimator?: RateEstimatorOptions;
  /**
   * Online correction of the catalogs from measured stage times: its options, `false` for none, or a
   * {@link ServiceCorrection} its owner feeds (then the policy reads it and does not feed it the ticks' stages —
   * so a service keeps what it learned across the fresh policies of re-plans).
   */
  correction?: CorrectionOptions | false | ServiceCorrection;
  hysteresis?: HysteresisOptions;
  search?: FastSearchOptions;
  /** Generic-path search: exhaustive up to this many configurations (default 20,000). */
  exhaustiveLimit?: number;
  /** Also search co-compiled head sets (the `swapless+` policy): true or the options of that search. */
  coCompile?: boolean | CoCompileOptions;
  /**
   * Also choose the Edge TPU queue discipline (the `swapless+` policy): true or the options of that choice. The
   * configuration searched is predicted under FIFO and the switch-aware discipline, and the better is decided
   * (`Decision.discipline`; one Edge TPU only — with several, FIFO).
   */
  discipline?: boolean | DisciplineOptions;
}

/** A searched configuration with its co-compiled sets and its Edge TPU discipline. */
type SearchedLayout = SearchedPlan & { grouping: Grouping; discipline: TpuDiscipline };

/**
 * Searches one configuration, fast path when it applies. With an emulation pool computing the heads
 * (`delays.emulationWorkers`, see `delayedPredictor`) the pool couples the tenants in a way the fast path's additive
 * terms do not hold: its optimum (and the current configuration) then start a coordinate descent under the full
 * model, pool included.
 */
function searchBest(
  tenants: readonly PlannedTenant[],
  cores: number,
  model: Predictor,
  warm: TenantChoice[] | null,
  options: SwaplessOptions,
  delays: DelayOptions = {},
  devices?: readonly DeviceSetup[],
): SearchedLayout {
  const { plan: base, fast } = searchSeparate(tenants, cores, model, warm, options, delays, devices);
  // Co-compiled sets and the discipline are chosen on a single Edge TPU (across several, placement).
  if (hasSeveralDevices(devices)) return { ...base, grouping: [], discipline: 'fifo' };
  const full = delayedPredictor(model, tenants, delays);
  const grouped: SearchedPlan & { grouping: Grouping } = options.coCompile
    ? coCompiled(tenants, cores, full, base, options.coCompile, fast)
    : { ...base, grouping: [] };
  if (!options.discipline) return { ...grouped, discipline: 'fifo' };
  const opts = options.discipline === true ? {} : options.discipline;
  const withSets = withDiscipline(tenants, cores, full, grouped, opts);
  if (grouped.grouping.length === 0) return withSets.layout;
  // The sets were chosen under FIFO: the heads compiled alone under the switch-aware discipline may do better.
  const alone = withDiscipline(tenants, cores, full, { ...base, grouping: [] }, opts);
  return alone.predictedMs < withSets.predictedMs ? alone.layout : withSets.layout;
}

/**
 * A searched configuration with the Edge TPU discipline {@link chooseDiscipline} picks for it, and the full
 * model's prediction under that discipline (what two layouts are compared by).
 */
function withDiscipline(
  tenants: readonly PlannedTenant[],
  cores: number,
  full: Predictor,
  plan: SearchedPlan & { grouping: Grouping },
  options: DisciplineOptions,
): { layout: SearchedLayout; predictedMs: number } {
  const system = layoutSetup(tenants, plan.choices, cores, { grouping: plan.grouping });
  const chosen = chooseDiscipline(full, system, options);
  const layout: SearchedLayout =
    chosen.discipline === 'fifo'
      ? { ...plan, discipline: 'fifo' }
      : { ...plan, predictedMs: chosen.predictedMs, discipline: chosen.discipline };
  return { layout, predictedMs: chosen.predictedMs };
}

/** The co-compiled sets search from the separate heads' optimum `base` (searched on `fast` when not null). */
function coCompiled(
  tenants: readonly PlannedTenant[],
  cores: number,
  full: Predictor,
  base: SearchedPlan,
  options: true | CoCompileOptions,
  fast: FastModel | null,
): SearchedPlan & { grouping: Grouping } {
  const r = coCompileSearch(tenants, cores, full, base, {
    ...(options === true ? {} : options),
    ...(fast !== null ? { model: fast } : {}),
  });
  // The SLO search knows separately compiled heads only: its reason holds while no set is chosen.
  return {
    choices: r.choices,
    predictedMs: r.predictedMs,
    grouping: r.grouping,
    ...(r.grouping.length === 0 && base.sloReason !== undefined ? { sloReason: base.sloReason } : {}),
  };
}

/**
 * {@link searchBest} with every head compiled alone, and the fast model it searched on when the co-compiled sets
 * search follows (it reuses the tables; null otherwise).
 */
function searchSeparate(
  tenants: readonly PlannedTenant[],
  cores: number,
  model: Predictor,
  warm: TenantChoice[] | null,
  options: SwaplessOptions,
  delays: DelayOptions = {},
  devices?: readonly DeviceSetup[],
): { plan: SearchedPlan; fast: FastModel | null } {
  if (hasSeveralDevices(devices)) {
    const plan = placementBest(tenants, cores, devices, {
      model,
      ...(options.search ? { search: options.search } : {}),
      ...(options.exhaustiveLimit !== undefined ? { exhaustiveLimit: options.exhaustiveLimit } : {}),
      warm,
      emulationWorkers: delays.emulationWorkers ?? null,
      host: delays.host ?? null,
    });
    return { plan, fast: null };
  }
  const full = delayedPredictor(model, tenants, delays);
  const pooled =
    (delays.emulationWorkers ?? null) !== null &&
    tenants.some((t) => t.catalog.cuts.some((c) => (c.emulationMs ?? 0) > 0));
  if (model.name === DEFAULT_MODEL_NAME && fastSearchApplicable(tenants)) {
    const search = { ...options.search, ...(warm ? { starts: [warm] } : {}) };
    // swapless+ searches the sets on the same tables: prepared once (fastSearch alone uses pooled buffers).
    const fast = options.coCompile && !pooled ? prepareFastModel(tenants, cores) : null;
    const r = fast !== null ? fastSearchPrepared(fast, search) : fastSearch(tenants, cores, search);
    if (!pooled) {
      const found = { choices: r.choices, predictedMs: r.meanResponseMs };
      return { plan: withSlos(tenants, cores, found, warm ?? undefined), fast };
    }
    const refined = searchConfiguration(tenants, cores, full, {
      exhaustiveLimit: 0,
      // The baselines start it too: a move the pool makes worth it often needs two tenants to move at once (a
      // core handed from one to the other), which single-tenant steps from the fast optimum alone do not find.
      starts: [r.choices, ...(warm ? [warm] : [])],
    });
    return { plan: { choices: refined.choices, predictedMs: refined.prediction.meanResponseMs }, fast: null };
  }
  const r = searchConfiguration(tenants, cores, full, {
    exhaustiveLimit: options.exhaustiveLimit ?? 20_000,
    ...(warm ? { starts: [warm] } : {}),
  });
  return { plan: { choices: r.choices, predictedMs: r.prediction.meanResponseMs }, fast: null };
}

/**
 * The tenants whose choice differs between `from` and `to` (or whose co-compiled set changes: the indices in
 * `regrouped`), and the stall each change costs.
 */
function changesOf(
  tenants: readonly PlannedTenant[],
  from: readonly TenantChoice[],
  to: readonly TenantChoice[],
  costs: SwitchCostModel,
  regrouped: ReadonlySet<number> = new Set(),
): { changes: { stallMs: number; rate: number }[]; changed: string[] } {
  const changes: { stallMs: number; rate: number }[] = [];
  const changed: string[] = [];
  tenants.forEach((t, i) => {
    const a = from[i]!;
    const b = to[i]!;
    if (sameChoice(a, b) && !regrouped.has(i)) return;
    changes.push({ stallMs: costs.stallMs(t.name, t.catalog, a, b), rate: t.rate });
    changed.push(t.name);
  });
  return { changes, changed };
}

/**
 * The default of `HysteresisOptions.explorationWaiverMs`: for how long after the rate estimator detected a change
 * the hysteresis asks no exploration margin of cuts not yet measured (`HysteresisOptions.explorationGain`), ms: the
 * configuration in effect was measured at the old rates, so its prediction at the new ones is no better founded
 * than the candidate's.
 */
export const EXPLORATION_WAIVER_MS = 10_000;

/**
 * The adaptive SwapLess policy: estimates rates from arrivals (change detector), corrects the catalog with
 * measured stage times, searches the best configuration every tick, and switches only when the hysteresis rule
 * says the predicted gain pays for the switch.
 */
export function swaplessPolicy(options: SwaplessOptions = {}): Policy {
  const model = options.model ?? defaultModel;
  let ctx: PolicyContext | null = null;
  let estimator: RateEstimator | null = null;
  let correction: ServiceCorrection | null = null;
  const costs = new SwitchCostModel(options.hysteresis);
  const waiverMs = explorationWaiverOf(options.hysteresis);
  const sloGate = new SloBreachGate(options.hysteresis);
  let current: TenantChoice[] = [];
  let grouping: Grouping = [];
  let discipline: TpuDiscipline = 'fifo';
  let lastSwitchMs = Number.NEGATIVE_INFINITY;
  let lastRateChangeMs = Number.NEGATIVE_INFINITY;
  let snapshot: RateSnapshot | null = null;
  let lastVerdict: TickVerdict | null = null;
  /** The tenant's catalog as corrected so far (its own when the correction does not know it). */
  const correctedOf = (name: string, catalog: TenantCatalog): TenantCatalog =>
    correction?.has(name) === true ? correction.corrected(name) : catalog;
  /** The emulation pool and shared host cores the correction says the predictions include (none without one). */
  const delays = (): DelayOptions =>
    correction === null ? {} : { emulationWorkers: correction.emulationWorkers, host: correction.host };
  /** Predicted mean response of the configuration in force (cuts, sets, discipline) for `tenants`. */
  const inForceMs = (tenants: readonly PlannedTenant[], c: PolicyContext): number =>
    predictMs(model, tenants, current, c.cores, delays(), c.devices, grouping, discipline);
  /** The tenants at the estimated rates (the priors before any estimate) with their corrected catalogs. */
  const tenantsNow = (snap: RateSnapshot | null): PlannedTenant[] =>
    (ctx?.tenants ?? []).map((t) => ({
      name: t.name,
      rate: snap === null ? t.rate : (snap.rates[t.name] ?? 0),
      catalog: correctedOf(t.name, t.catalog),
      ...sloOf(t),
    }));
  /** The decision of the configuration in force for `tenants`, predicted at `predictedMs`, with its reason. */
  const inForce = (tenants: readonly PolicyTenant[], predictedMs: number, reason: string): Decision =>
    decision(tenants, current, predictedMs, reason, grouping, discipline);
  /** Puts `best` in effect: a switch at `nowMs` (the dwell and the SLO streak start again). */
  const adopt = (best: SearchedLayout, nowMs: number) => {
    current = best.choices;
    grouping = best.grouping;
    discipline = best.discipline;
    lastSwitchMs = nowMs;
    sloGate.reset();
  };
  return {
    name: options.coCompile ? 'swapless+' : 'swapless',
    get rates() {
      return snapshot;
    },
    get lastVerdict() {
      return lastVerdict;
    },
    initial(c) {
      ctx = c;
      estimator = estimatorFor(c, options.estimator);
      correction = correctionFor(options.correction, c.tenants);
      const start = planned(c).map((t) => ({ ...t, catalog: correctedOf(t.name, t.catalog) }));
      const best = searchBest(start, c.cores, model, null, options, delays(), c.devices);
      adopt(best, c.nowMs ?? 0);
      return inForce(
        c.tenants,
        best.predictedMs,
        `initial search at the prior rates${best.sloReason ? `; ${best.sloReason}` : ''}`,
      );
    },
    onTick(obs, nowMs) {
      if (ctx === null || estimator === null)
        throw new InvalidArgumentError(expected('initial() first', 'onTick', 'no context'));
      // A correction the service owns is fed by the service (it sees stages the policy's ticks do not carry).
      ingest(obs, estimator, options.correction instanceof ServiceCorrection ? null : correction, costs);
      snapshot = estimator.update(nowMs);
      const snap = snapshot;
      if (snap.changed) lastRateChangeMs = nowMs;
      const tenants = tenantsNow(snap);
      const totalRate = tenants.reduce((s, t) => s + t.rate, 0);
      if (!(totalRate > 0)) return null;
      const best = searchBest(tenants, ctx.cores, model, current, options, delays(), ctx.devices);
      const currentMs = inForceMs(tenants, ctx);
      const regrouped = regroupedTenants(grouping, best.grouping);
      const { changes, changed } = changesOf(tenants, current, best.choices, costs, regrouped);
      // A new queue discipline alone reloads nothing: a change that costs no stall.
      if (!sameDiscipline(discipline, best.discipline)) changes.push({ stallMs: 0, rate: 0 });
      const candidateMs = best.predictedMs;
      const exploring =
        nowMs - lastRateChangeMs >= waiverMs && explores(correction, tenants, current, best.choices);
      const weighed = shouldSwitch(
        { currentMs, candidateMs, totalRate, changes, nowMs, lastSwitchMs, exploring },
        options.hysteresis,
      );
      // A configuration that breaks an SLO (on consecutive ticks) is left past the hysteresis.
      const breach = sloSwitchReason(tenants, current, best.choices);
      const verdict = sloGate.apply(weighed, breach, breach !== ADMISSION_CHANGED);
      lastVerdict = { ...verdict, atMs: nowMs, currentMs, candidateMs, changed };
      if (!verdict.switch) return null;
      adopt(best, nowMs);
      return inForce(
        tenants,
        best.predictedMs,
        `${verdict.reason}: ${currentMs.toFixed(2)} → ${best.predictedMs.toFixed(2)} ms${snap.changed ? ` (rate change: ${snap.changedTenants.join(', ')})` : ''}${best.sloReason ? `; ${best.sloReason}` : ''}`,
      );
    },
    replan(nowMs, why) {
      if (ctx === null) return null;
      const tenants = tenantsNow(snapshot);
      if (!(tenants.reduce((s, t) => s + t.rate, 0) > 0)) return null;
      const currentMs = inForceMs(tenants, ctx);
      const best = searchBest(tenants, ctx.cores, model, current, options, delays(), ctx.devices);
      if (!Number.isFinite(best.predictedMs)) {
        // Nothing is stable under the corrected model: moving would only cost a reconfiguration.
        return inForce(
          tenants,
          currentMs,
          `${why}: re-planned with the corrected model, no stable configuration: configuration kept`,
        );
      }
      const same =
        regroupedTenants(grouping, best.grouping).size === 0 &&
        sameDiscipline(discipline, best.discipline) &&
        best.choices.every((c, i) => sameChoice(c, current[i]!));
      if (same) current = best.choices;
      else adopt(best, nowMs);
      return inForce(
        tenants,
        best.predictedMs,
        `${why}: re-planned with the corrected model, ${same ? `configuration kept (${best.predictedMs.toFixed(2)} ms)` : `${currentMs.toFixed(2)} → ${best.predictedMs.toFixed(2)} ms`}`,
      );
    },
  };
}

/**
 * `hysteresis.explorationWaiverMs`, checked (default {@link EXPLORATION_WAIVER_MS}).
 * @throws InvalidArgumentError for a value that is not a finite number ≥ 0.
 */
function explorationWaiverOf(hysteresis: HysteresisOptions | undefined): number {
  const ms = hysteresis?.explorationWaiverMs ?? EXPLORATION_WAIVER_MS;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
    throw new InvalidArgumentError(
      expected('a finite number ≥ 0 (ms)', 'hysteresis.explorationWaiverMs', ms),
    );
  return ms;
}

/** A rate estimator for the context's tenants, their rates as its priors. */
function estimatorFor(c: PolicyContext, options: RateEstimatorOptions | undefined): RateEstimator {
  const priors = Object.fromEntries(c.tenants.map((t) => [t.name, t.rate]));
  return new RateEstimator(
    c.tenants.map((t) => t.name),
    { ...options, priors },
    c.nowMs ?? 0,
  );
}

/**
 * Whether moving from `from` to `to` runs some tenant at a cut not yet measured on a host off its profile (then the
 * hysteresis asks an exploration margin; the caller waives it just after a change of the rates, when every
 * configuration is predicted at rates the host has not run). False without a correction. A new core count at a
 * measured cut is not exploring: a CPU stage's factor carries over between thread counts (the profile measured
 * each), while another cut's does not.
 */
function explores(
  correction: ServiceCorrection | null,
  tenants: readonly PlannedTenant[],
  from: readonly TenantChoice[],
  to: readonly TenantChoice[],
): boolean {
  if (correction === null || !correction.offProfile()) return false;
  return to.some((c, i) => !sameChoice(c, from[i]!) && !correction.measuredAt(tenants[i]!.name, c.k));
}

/** Feeds one tick's observations to the estimator, the correction (null: not fed here) and the switch costs. */
function ingest(
  obs: TickObservations,
  estimator: RateEstimator,
  correction: ServiceCorrection | null,
  costs: SwitchCostModel,
): void {
  for (const [name, times] of Object.entries(obs.arrivals ?? {})) {
    for (let i = 0; i < times.length; i++) estimator.observe(name, times[i]!);
  }
  for (const s of obs.stages ?? []) correction?.observe(s);
  for (const l of obs.loads ?? []) costs.recordLoad(l.tenant, l.k, l.ms);
}

/** The correction a policy uses: the service's own, a fresh one for the tenants, or none. */
function correctionFor(
  option: SwaplessOptions['correction'],
  tenants: readonly PolicyTenant[],
): ServiceCorrection | null {
  if (option instanceof ServiceCorrection) return option;
  if (option === false) return null;
  return new ServiceCorrection(new Map(tenants.map((t) => [t.name, t.catalog])), option);
}

/** Same cut, cores, mode and device (a move to another device is a reconfiguration too). */
function sameChoice(a: TenantChoice, b: TenantChoice): boolean {
  return a.k === b.k && a.cores === b.cores && a.mode === b.mode && a.device === b.device;
}

/** A static policy: one decision at start, never changed. */
function staticPolicy(name: string, decide: (ctx: PolicyContext) => Decision): Policy {
  return {
    name,
    initial: decide,
    onTick: () => null,
  };
}

function baseline(name: 'default' | 'cpu' | 'fixed', ctx: PolicyContext, model: Predictor): Decision {
  const tenants = planned(ctx);
  const choices = placedBaseline(name, tenants, ctx);
  if (choices === null) {
    throw new InvalidArgumentError(
      expected(
        `at least one core per tenant for the '${name}' policy`,
        `${ctx.tenants.length} tenants`,
        ctx.cores,
      ),
    );
  }
  return decision(
    tenants,
    choices,
    predictMs(model, tenants, choices, ctx.cores, {}, ctx.devices),
    `${name} baseline`,
  );
}

/** A baseline's choices; on several devices spread over them by Edge TPU load ({@link spreadOverDevices}). */
function placedBaseline(
  name: 'default' | 'cpu' | 'fixed',
  tenants: readonly PlannedTenant[],
  ctx: PolicyContext,
): TenantChoice[] | null {
  const choices = baselineChoices(name, tenants, ctx.cores);
  return choices !== null && hasSeveralDevices(ctx.devices)
    ? spreadOverDevices(tenants, choices, ctx.devices)
    : choices;
}

/** The default compiler: the whole Edge-TPU-mappable prefix on the TPU, the rest (if any) on the CPU. */
export function defaultPolicy(): Policy {
  return staticPolicy('default', (ctx) => baseline('default', ctx, defaultModel));
}

/** CPU only, cores split evenly. */
export function cpuPolicy(): Policy {
  return staticPolicy('cpu', (ctx) => baseline('cpu', ctx, defaultModel));
}

/** Options of {@link fixedPolicy}. */
export interface FixedOptions {
  /** Cut per tenant name (or one for all); the nearest catalogued cut is used. Default: the middle cut (half the MACs). */
  k?: number | Readonly<Record<string, number>>;
}

/** A fixed cut for every tenant, cores split evenly among the tenants with a CPU stage. */
export function fixedPolicy(options: FixedOptions = {}): Policy {
  return staticPolicy('fixed', (ctx) => {
    if (options.k === undefined) return baseline('fixed', ctx, defaultModel);
    const want = options.k;
    const ks = ctx.tenants.map((t) => {
      const target = typeof want === 'number' ? want : (want[t.name] ?? t.catalog.edgetpuPrefix >> 1);
      return nearestCut(t.catalog, target);
    });
    const needCpu = ctx.tenants.map((t, i) => t.catalog.cuts.find((c) => c.k === ks[i])!.cpu !== null);
    const split = evenSplit(ctx.cores, needCpu.filter(Boolean).length);
    if (split.some((c) => c === 0))
      throw new InvalidArgumentError(
        expected('at least one core per CPU stage', 'the fixed policy', ctx.cores),
      );
    let next = 0;
    const choices = ctx.tenants.map((t, i): TenantChoice => {
      if (!needCpu[i]) return { k: ks[i]!, cores: 0, mode: 'mg1' };
      const c = split[next++]!;
      const cut = t.catalog.cuts.find((x) => x.k === ks[i])!;
      return { k: ks[i]!, cores: c, mode: cut.cpu!.has(c) ? 'mg1' : 'mgc' };
    });
    const tenants = planned(ctx);
    const placed = hasSeveralDevices(ctx.devices)
      ? spreadOverDevices(tenants, choices, ctx.devices)
      : choices;
    return decision(
      tenants,
      placed,
      predictMs(defaultModel, tenants, placed, ctx.cores, {}, ctx.devices),
      'fixed cut',
    );
  });
}

/** Options of {@link oracleSearch} and {@link oraclePolicy}. */
export interface OracleOptions {
  /** Simulated time per candidate, ms (default 120,000). */
  durationMs?: number;
  /** Warm-up excluded from the mean, ms (default 10 % of the duration). */
  warmupMs?: number;
  /** Seed of the arrivals (default 1): every candidate sees the same arrival times. */
  seed?: number;
  /** How many of the default model's best configurations are simulated (default 20), besides the baselines. */
  topN?: number;
  /** Rate phases (for evaluating under a known non-stationary workload; default none). */
  phases?: readonly RatePhase[];
  /** Catalogs the simulated system really follows (default: the tenants' own). */
  actual?: Readonly<Record<string, TenantCatalog>>;
}

/** One simulated candidate of the oracle. */
export interface OracleCandidate {
  choices: TenantChoice[];
  predictedMs: number;
  simulatedMs: number;
}

/**
 * The best static configuration by simulation: the default model's `topN` configurations (exhaustive
 * enumeration of the pruned space when it has at most 2 million configurations; otherwise the searched optimum
 * and coordinate-descent optima from several seeds), plus the default/cpu/fixed baselines, each simulated
 * with the same arrival times; sorted by simulated mean response.
 */
export function oracleSearch(ctx: PolicyContext, options: OracleOptions = {}): OracleCandidate[] {
  const tenants = planned(ctx);
  const durationMs = options.durationMs ?? 120_000;
  const warmupMs = options.warmupMs ?? durationMs / 10;
  const seed = options.seed ?? 1;
  const topN = options.topN ?? 20;
  const pool: TenantChoice[][] = [];
  const several = hasSeveralDevices(ctx.devices);
  if (several) {
    // Several devices: the best configuration of each placement (up to symmetry), the model's best first.
    const candidates = placementCandidates(tenants, ctx.cores, ctx.devices!, { model: defaultModel });
    pool.push(...candidates.slice(0, topN).map((c) => c.choices));
  } else if (fastSearchApplicable(tenants)) {
    const top = topConfigurations(prepareFastModel(tenants, ctx.cores), topN);
    if (top !== null) pool.push(...top.map((t) => t.choices));
    else
      for (let s = 1; s <= topN; s++)
        pool.push(fastSearch(tenants, ctx.cores, { exactLimit: 0, seed: s, restarts: 8 }).choices);
  } else pool.push(searchConfiguration(tenants, ctx.cores, defaultModel).choices);
  for (const b of ['default', 'cpu', 'fixed'] as const) {
    const c = placedBaseline(b, tenants, ctx);
    if (c !== null) pool.push(c);
  }
  const seen = new Set<string>();
  const arrivals = poissonArrivals(
    ctx.tenants.map((t) => ({ name: t.name, rate: t.rate })),
    { durationMs, seed, ...(options.phases ? { phases: options.phases } : {}) },
  );
  const actualTenants = tenants.map((t) => ({ ...t, catalog: options.actual?.[t.name] ?? t.catalog }));
  const out: OracleCandidate[] = [];
  for (const choices of pool) {
    const key = JSON.stringify(choices);
    if (seen.has(key)) continue;
    seen.add(key);
    const predictedMs = predictMs(defaultModel, tenants, choices, ctx.cores, {}, ctx.devices);
    const system = several
      ? placedSystem(actualTenants, choices, ctx.cores, ctx.devices!)
      : systemSetup(actualTenants, choices, ctx.cores);
    const sim = simulate(system, {
      durationMs,
      warmupMs,
      seed,
      arrivals,
      quantiles: 'sketch',
    });
    out.push({ choices, predictedMs, simulatedMs: sim.rejected > 0 ? Infinity : sim.meanResponseMs });
  }
  return out.sort((a, b) => a.simulatedMs - b.simulatedMs);
}

/** The oracle: the best static configuration found by {@link oracleSearch} at the context's rates. */
export function oraclePolicy(options: OracleOptions = {}): Policy {
  return staticPolicy('oracle', (ctx) => {
    const best = oracleSearch(ctx, options)[0];
    if (best === undefined) {
      throw new InvalidArgumentError(
        expected(
          `enough cores for a CPU stage per tenant that needs one`,
          `the oracle of ${ctx.tenants.length} tenants`,
          ctx.cores,
        ),
      );
    }
    return decision(
      ctx.tenants,
      best.choices,
      best.predictedMs,
      `oracle (simulated ${best.simulatedMs.toFixed(2)} ms)`,
    );
  });
}

/** Options per built-in policy, for {@link createPolicy}. */
export interface PolicyOptionsByName {
  swapless: SwaplessOptions;
  'swapless+': SwaplessOptions;
  default: Record<string, never>;
  cpu: Record<string, never>;
  fixed: FixedOptions;
  oracle: OracleOptions;
}

/**
 * A built-in policy by name.
 * @throws InvalidArgumentError for an unknown name.
 */
export function createPolicy<N extends PolicyName>(name: N, options?: PolicyOptionsByName[N]): Policy {
  switch (name) {
    case 'swapless':
      return swaplessPolicy(options as SwaplessOptions);
    case 'swapless+':
      return swaplessPolicy({ coCompile: true, discipline: true, ...(options as SwaplessOptions) });
    case 'default':
      return defaultPolicy();
    case 'cpu':
      return cpuPolicy();
    case 'fixed':
      return fixedPolicy(options as FixedOptions);
    case 'oracle':
      return oraclePolicy(options as OracleOptions);
    default:
      throw new InvalidArgumentError(expected(`one of ${POLICY_NAMES.join(', ')}`, 'a policy name', name));
  }
}
