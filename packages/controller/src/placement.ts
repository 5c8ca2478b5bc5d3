/**
 * Placement: which Edge TPU each tenant uses, on a host with several devices, chosen together with every tenant's
 * cut and cores.
 *
 * Why it decomposes: each device is its own FCFS queue whose waits and reloads depend only on the tenants placed on
 * it, and the CPU stages are per tenant; the devices share only the budget of cores. So for a placement, the
 * objective Σλ_iR_i is a sum over devices of f_d(b_d) — the best of that device's tenants with b_d cores, found by
 * the existing (cut, cores) search — under Σ b_d ≤ cores, which a small knapsack over the core budget solves
 * exactly. f_d depends only on the *set* of tenants on the device, so it is computed once per (set, budget) and
 * shared by every placement that has that set.
 *
 * Placements are enumerated up to the symmetry of identical devices: two devices are interchangeable only when they
 * have the same profile and every tenant plans with the same catalog on both (a set partition of the tenants into
 * at most as many blocks as there are devices when all are identical: 15 for four tenants on four devices; every
 * assignment when none are: 16 for four tenants on a `usb3` and a `pcie` device). A cheap bound prunes a placement
 * before its knapsack: each of its devices given all the cores is no worse than its share, so when that sum is
 * already no better than the best placement so far the placement cannot win. Past `placementLimit` placements,
 * single-tenant moves from a start balanced by Edge TPU load (and the placement in effect) replace the enumeration.
 *
 * Devices of different profiles (say `usb3` and `pcie`) have different Edge TPU stage times: a tenant plans on each
 * device with its catalog there (`catalogOn`, built by `withDeviceCatalogs`), and the per-device search runs on the
 * catalogs of that device's profile.
 */
import type { DeviceSetup, TenantChoice } from '@swapless/contracts';
import { expected, InvalidArgumentError, isSwapLessError, resolvePlacement } from '@swapless/core';
import { DEFAULT_MODEL_NAME, predictByDevice } from '@swapless/queueing';
import type { TenantCatalog } from './catalog.js';
import { catalogOn } from './catalog-devices.js';
import type { HostShare } from './contention.js';
import { type DelayOptions, delayedPredictor } from './delays.js';
import { type FastSearchOptions, fastSearch, fastSearchApplicable } from './fast.js';
import { type Predictor, searchConfiguration } from './search.js';
import { type PlannedTenant, systemSetup } from './setup.js';

/**
 * Value of `details.reason` when a host's devices have different profiles and a tenant's catalog on one of them is
 * not for that device's profile (build its catalogs with `withDeviceCatalogs`): its stage times there are unknown.
 */
export const DEVICE_CATALOG_REASON = 'no-catalog-for-device-profile';

/** Options of {@link searchPlacement} and {@link placementCandidates}. */
export interface PlacementOptions {
  /** Latency model (default model: its fast search per device; any other: the generic search). */
  model: Predictor;
  /** Options of the fast search run per device. */
  search?: FastSearchOptions;
  /** Generic-path search per device: exhaustive up to this many configurations (default 20,000). */
  exhaustiveLimit?: number;
  /** The configuration in effect (with `device`s): the chosen placement is labelled to move as few tenants as possible. */
  warm?: readonly TenantChoice[] | null;
  /** Workers of an emulation pool computing the heads (see `delayedPredictor`), or null. */
  emulationWorkers?: number | null;
  /** The host's cores shared by the CPU stages and the pool (see `DelayOptions.host`), or null. */
  host?: HostShare | null;
  /** Enumerate placements up to this many (default 5,000); more: local search by single-tenant moves. */
  placementLimit?: number;
}

/** The best configuration found for one placement. */
export interface PlacementCandidate {
  /** One choice per tenant (tenant order), each with its `device`. */
  choices: TenantChoice[];
  /** Predicted mean response Σλ_iR_i/Λ, ms (Infinity when nothing is stable). */
  predictedMs: number;
}

/** Result of {@link searchPlacement}. */
export interface PlacementResult extends PlacementCandidate {
  /** Placements considered (after symmetry). */
  placements: number;
  /** Of those, placements the bound discarded before their knapsack. */
  pruned: number;
  /** Per-device searches run (one per distinct set of tenants and core budget). */
  searches: number;
}

/**
 * The classes of interchangeable devices: index per device, equal for devices of one profile on which every tenant
 * plans with the same catalog (so relabelling them changes no prediction). Classes numbered by first appearance.
 * @throws InvalidArgumentError for duplicate ids (`duplicate-device`), and on a host with devices of several
 * profiles for a partitioned tenant whose catalog on a device is not for its profile ({@link DEVICE_CATALOG_REASON}).
 */
export function deviceClasses(tenants: readonly PlannedTenant[], devices: readonly DeviceSetup[]): number[] {
  resolvePlacement(devices, [], 'devices');
  const mixed = new Set(devices.map((d) => d.profile)).size > 1;
  const catalogIds = new Map<TenantCatalog, number>();
  const idOf = (c: TenantCatalog): number => {
    const id = catalogIds.get(c) ?? catalogIds.size;
    catalogIds.set(c, id);
    return id;
  };
  const keys = devices.map((d) => {
    const catalogs = tenants.map((t) => catalogOn(t.catalog, d.id));
    if (mixed && d.profile !== undefined) assertCatalogsFor(tenants, catalogs, d);
    return `${d.profile ?? ''}\u0000${catalogs.map(idOf).join(',')}`;
  });
  const classes = [...new Set(keys)];
  return keys.map((k) => classes.indexOf(k));
}

/** Every partitioned tenant's catalog on device `d` is for `d`'s profile (a mixed host plans each with its own). */
function assertCatalogsFor(
  tenants: readonly PlannedTenant[],
  catalogs: readonly TenantCatalog[],
  d: DeviceSetup,
): void {
  catalogs.forEach((c, i) => {
    if (c.kind !== 'partitioned' || c.device === d.profile) return;
    throw new InvalidArgumentError(
      expected(
        `a catalog for profile ${d.profile} (withDeviceCatalogs) on device ${d.id}`,
        `the tenant ${tenants[i]!.name}`,
        `a catalog for ${c.device}`,
      ),
      { details: { reason: DEVICE_CATALOG_REASON, tenant: tenants[i]!.name, device: d.id } },
    );
  });
}

/**
 * Every placement of `m` tenants on devices of the classes `classOf` (one entry per device), up to relabelling
 * devices of one class: device indices per tenant, where a tenant may use a device of a class only when every
 * earlier device of that class is used by an earlier tenant. Null when there are more than `limit`.
 */
function symmetricPlacements(m: number, classOf: readonly number[], limit: number): number[][] | null {
  const members: number[][] = Array.from({ length: Math.max(-1, ...classOf) + 1 }, () => []);
  classOf.forEach((c, d) => {
    members[c]!.push(d);
  });
  const used: number[] = members.map(() => 0);
  const out: number[][] = [];
  const a: number[] = new Array(m).fill(0);
  const walk = (i: number): boolean => {
    if (i === m) {
      out.push([...a]);
      return out.length <= limit;
    }
    for (let c = 0; c < members.length; c++) {
      const list = members[c]!;
      const fresh = used[c]!;
      for (let j = 0; j <= Math.min(fresh, list.length - 1); j++) {
        a[i] = list[j]!;
        if (j === fresh) used[c]!++;
        const more = walk(i + 1);
        if (j === fresh) used[c]!--;
        if (!more) return false;
      }
    }
    return true;
  };
  return walk(0) ? out : null;
}

/**
 * Every placement of `m` tenants on at most `devices` identical devices, up to relabelling the devices: restricted
 * growth strings (tenant 0 on block 0, tenant i on a block used before or the next new one). Null when there are
 * more than `limit`.
 */
export function canonicalPlacements(m: number, devices: number, limit = 5_000): number[][] | null {
  return symmetricPlacements(m, new Array(devices).fill(0), limit);
}

/** One device's best configuration for a set of tenants and a core budget: Σλ_iR_i (not divided) and choices. */
interface GroupBest {
  weighted: number;
  choices: TenantChoice[];
}

/** The per-device search, memoised by (class of device, set of tenants, core budget). */
class GroupSearch {
  readonly memo = new Map<string, GroupBest>();
  /** The tenants as planned on a device of each class (their catalogs there). */
  readonly #byClass: PlannedTenant[][] = [];
  /**
   * @param tenants The tenants, in order.
   * @param devices The host's devices.
   * @param classOf Class of each device ({@link deviceClasses}).
   * @param options The search options.
   */
  constructor(
    tenants: readonly PlannedTenant[],
    devices: readonly DeviceSetup[],
    readonly classOf: readonly number[],
    private readonly options: PlacementOptions,
  ) {
    classOf.forEach((c, d) => {
      this.#byClass[c] ??= tenants.map((t) => {
        const catalog = catalogOn(t.catalog, devices[d]!.id);
        return catalog === t.catalog ? t : { ...t, catalog };
      });
    });
  }

  best(members: readonly number[], device: number, budget: number): GroupBest {
    const cls = this.classOf[device]!;
    const key = `${cls}|${members.join(',')}/${budget}`;
    let hit = this.memo.get(key);
    if (hit === undefined) {
      hit = this.search(
        members.map((i) => this.#byClass[cls]![i]!),
        budget,
      );
      this.memo.set(key, hit);
    }
    return hit;
  }

  private search(sub: readonly PlannedTenant[], budget: number): GroupBest {
    const rate = sub.reduce((s, t) => s + t.rate, 0);
    const none: GroupBest = { weighted: Infinity, choices: [] };
    const weigh = (ms: number): number => (!Number.isFinite(ms) ? Infinity : rate > 0 ? ms * rate : 0);
    try {
      if (this.options.model.name === DEFAULT_MODEL_NAME && fastSearchApplicable(sub)) {
        const r = fastSearch(sub, budget, this.options.search);
        return { weighted: weigh(r.meanResponseMs), choices: r.choices };
      }
      const model = delayedPredictor(this.options.model, sub, {
        emulationWorkers: this.options.emulationWorkers ?? null,
        host: this.options.host ?? null,
      });
      const r = searchConfiguration(sub, budget, model, {
        exhaustiveLimit: this.options.exhaustiveLimit ?? 20_000,
      });
      return { weighted: weigh(r.prediction.meanResponseMs), choices: r.choices };
    } catch (err) {
      // Too few cores for this set's CPU stages: this budget is infeasible for it.
      if (isSwapLessError(err) && err instanceof InvalidArgumentError) return none;
      throw err;
    }
  }
}

/** The blocks of a placement (device indices per tenant): each used device and its tenants, by device. */
function blocksOf(placement: readonly number[]): { device: number; members: number[] }[] {
  const blocks = Array.from({ length: Math.max(...placement) + 1 }, (_, device) => ({
    device,
    members: [] as number[],
  }));
  placement.forEach((d, i) => {
    blocks[d]!.members.push(i);
  });
  return blocks.filter((b) => b.members.length > 0);
}

/**
 * The best (cut, cores) of every tenant for one placement: the per-device optima combined by a knapsack over the
 * cores. Returns Σλ_iR_i and the choices (without devices), or null when the bound says it cannot beat `bestSoFar`.
 */
function evaluatePlacement(
  placement: readonly number[],
  cores: number,
  groups: GroupSearch,
  bestSoFar: number,
): { weighted: number; choices: TenantChoice[] } | null {
  const blocks = blocksOf(placement);
  // Bound: every device with all the cores is at least as good as with its share.
  let bound = 0;
  for (const b of blocks) bound += groups.best(b.members, b.device, cores).weighted;
  if (!(bound < bestSoFar)) return null;
  // Knapsack: dp[c] = best Σ over the blocks so far using at most c cores; pick[g][c] = cores given to block g.
  let dp: number[] = new Array(cores + 1).fill(0);
  const picks: number[][] = [];
  for (const b of blocks) {
    const f = Array.from({ length: cores + 1 }, (_, c) => groups.best(b.members, b.device, c).weighted);
    const next: number[] = new Array(cores + 1).fill(Infinity);
    const pick: number[] = new Array(cores + 1).fill(0);
    for (let c = 0; c <= cores; c++) {
      for (let g = 0; g <= c; g++) {
        const v = dp[c - g]! + f[g]!;
        if (v < next[c]!) {
          next[c] = v;
          pick[c] = g;
        }
      }
    }
    dp = next;
    picks.push(pick);
  }
  if (!Number.isFinite(dp[cores]!)) return { weighted: Infinity, choices: [] };
  const choices: TenantChoice[] = new Array(placement.length);
  let left = cores;
  for (let g = blocks.length - 1; g >= 0; g--) {
    const given = picks[g]![left]!;
    const { members, device } = blocks[g]!;
    const best = groups.best(members, device, given);
    members.forEach((i, j) => {
      choices[i] = best.choices[j]!;
    });
    left -= given;
  }
  return { weighted: dp[cores]!, choices };
}

/**
 * Block → device labels that keep as much of the rate as possible on the devices it uses now: a block (a device
 * index of the placement) is relabelled only to a device of its class (an identical device).
 */
function labelBlocks(
  placement: readonly number[],
  tenants: readonly PlannedTenant[],
  ids: readonly string[],
  classOf: readonly number[],
  warm: readonly TenantChoice[] | null | undefined,
): string[] {
  const blocks = Math.max(...placement) + 1;
  if (warm == null || warm.length !== tenants.length || ids.length > 7) return placement.map((b) => ids[b]!);
  const now = warm.map((c) => Math.max(0, ids.indexOf(c.device ?? ids[0]!)));
  let best: number[] = Array.from({ length: blocks }, (_, b) => b);
  let bestKept = -1;
  const label: number[] = [];
  const used = new Set<number>();
  const walk = (b: number): void => {
    if (b === blocks) {
      // Ties: the rate kept, then the tenants kept (a tenant at rate 0 still moves its head).
      const kept = placement.reduce(
        (s, x, i) => s + (label[x] === now[i] ? 1 + Math.max(0, tenants[i]!.rate) : 0),
        0,
      );
      if (kept > bestKept) {
        bestKept = kept;
        best = [...label];
      }
      return;
    }
    for (let d = 0; d < ids.length; d++) {
      if (used.has(d) || classOf[d] !== classOf[b]) continue;
      used.add(d);
      label[b] = d;
      walk(b + 1);
      used.delete(d);
    }
  };
  walk(0);
  return placement.map((b) => ids[best[b]!]!);
}

/**
 * The device a choice is labelled with: its block's, except that a tenant with nothing on the Edge TPU (cut 0)
 * keeps the device it has (any is the same to it, and a label change would count as a move).
 */
function deviceOf(
  tenant: PlannedTenant,
  choice: TenantChoice,
  label: string,
  now: TenantChoice | undefined,
): string {
  const onTpu = tenant.catalog.cuts.find((c) => c.k === choice.k)?.tpu != null;
  return onTpu || now?.device === undefined ? label : now.device;
}

/**
 * Edge TPU load of a tenant with its whole mappable prefix on the device (rate × that call's time; the rate alone
 * when it has no such call): what the balanced placement spreads.
 */
function tpuLoad(t: PlannedTenant): number {
  const cuts = t.catalog.cuts;
  const whole = cuts.find((c) => c.k === t.catalog.edgetpuPrefix)?.tpu ?? cuts.at(-1)?.tpu ?? null;
  return Math.max(0, t.rate) * (whole?.serviceMs ?? 1);
}

/**
 * A balanced placement (the local search's start, and how the baselines spread): tenants by Edge TPU load, each
 * onto the device with the least load so far.
 */
function balancedPlacement(tenants: readonly PlannedTenant[], devices: number): number[] {
  const load = new Array(devices).fill(0);
  const out = new Array(tenants.length).fill(0);
  const weight = tenants.map(tpuLoad);
  [...tenants.keys()]
    .sort((a, b) => weight[b]! - weight[a]!)
    .forEach((i) => {
      const d = load.indexOf(Math.min(...load));
      out[i] = d;
      load[d] += weight[i]!;
    });
  return out;
}

/**
 * The placements to evaluate: every one up to symmetry, or (too many) the visited ones of a local search by
 * single-tenant moves from a balanced start and from the placement in effect.
 */
function* placementsToTry(
  tenants: readonly PlannedTenant[],
  ids: readonly string[],
  classOf: readonly number[],
  options: PlacementOptions,
  value: (p: readonly number[]) => number,
): Generator<number[]> {
  const all = symmetricPlacements(tenants.length, classOf, options.placementLimit ?? 5_000);
  if (all !== null) {
    yield* all;
    return;
  }
  const starts = [balancedPlacement(tenants, ids.length)];
  const warm = options.warm;
  if (warm != null && warm.length === tenants.length)
    starts.push(warm.map((c) => Math.max(0, ids.indexOf(c.device ?? ids[0]!))));
  for (const start of starts) {
    const p = [...start];
    yield [...p];
    let v = value(p);
    for (let round = 0, improved = true; improved && round < 20; round++) {
      improved = false;
      for (let i = 0; i < p.length; i++) {
        const was = p[i]!;
        for (let d = 0; d < ids.length; d++) {
          if (d === was) continue;
          p[i] = d;
          yield [...p];
          const w = value(p);
          if (w < v) {
            v = w;
            improved = true;
            break;
          }
          p[i] = was;
        }
      }
    }
  }
}

/**
 * Every evaluated placement's best configuration (no pruning), sorted by predicted mean: the oracle's shortlist.
 * @throws InvalidArgumentError for duplicate device ids, or a tenant without a catalog for a device's profile
 * ({@link deviceClasses}).
 */
export function placementCandidates(
  tenants: readonly PlannedTenant[],
  cores: number,
  devices: readonly DeviceSetup[],
  options: PlacementOptions,
): PlacementCandidate[] {
  return run(tenants, cores, devices, options, false).candidates.sort(
    (a, b) => a.predictedMs - b.predictedMs,
  );
}

/**
 * The best placement, cuts and cores of `tenants` on `devices` sharing `cores` CPU cores (see the module comment).
 * @throws InvalidArgumentError for duplicate device ids, a tenant without a catalog for a device's profile
 * ({@link deviceClasses}), or when no configuration fits the cores.
 */
export function searchPlacement(
  tenants: readonly PlannedTenant[],
  cores: number,
  devices: readonly DeviceSetup[],
  options: PlacementOptions,
): PlacementResult {
  const r = run(tenants, cores, devices, options, true);
  const best = r.candidates.reduce<PlacementCandidate | null>(
    (b, c) => (b === null || c.predictedMs < b.predictedMs ? c : b),
    null,
  );
  if (best === null || best.choices.length === 0) {
    throw new InvalidArgumentError(
      expected(
        `enough cores for ${tenants.length} tenants on ${devices.length} devices`,
        'searchPlacement',
        cores,
      ),
    );
  }
  return { ...best, placements: r.placements, pruned: r.pruned, searches: r.searches };
}

function run(
  tenants: readonly PlannedTenant[],
  cores: number,
  devices: readonly DeviceSetup[],
  options: PlacementOptions,
  prune: boolean,
): { candidates: PlacementCandidate[]; placements: number; pruned: number; searches: number } {
  if (tenants.length === 0)
    throw new InvalidArgumentError(expected('at least one tenant', 'searchPlacement', 0));
  if (devices.length === 0)
    throw new InvalidArgumentError(expected('at least one device', 'searchPlacement', 0));
  const classOf = deviceClasses(tenants, devices);
  const ids = devices.map((d) => d.id);
  const groups = new GroupSearch(tenants, devices, classOf, options);
  const totalRate = tenants.reduce((s, t) => s + t.rate, 0);
  const candidates: PlacementCandidate[] = [];
  let best = Infinity;
  let placements = 0;
  let pruned = 0;
  const seen = new Map<string, number>();
  const value = (p: readonly number[]): number => seen.get(p.join(',')) ?? Infinity;
  for (const p of placementsToTry(tenants, ids, classOf, options, value)) {
    const key = p.join(',');
    if (seen.has(key)) continue;
    placements++;
    const r = evaluatePlacement(p, cores, groups, prune ? best : Infinity);
    if (r === null) {
      pruned++;
      seen.set(key, Infinity);
      continue;
    }
    seen.set(key, r.weighted);
    if (r.choices.length === 0) continue;
    if (r.weighted < best) best = r.weighted;
    const labels = labelBlocks(p, tenants, ids, classOf, options.warm);
    const choices = r.choices.map((c, i) => ({
      ...c,
      device: deviceOf(tenants[i]!, c, labels[i]!, options.warm?.[i]),
    }));
    candidates.push({ choices, predictedMs: totalRate > 0 ? r.weighted / totalRate : r.weighted });
  }
  return { candidates, placements, pruned, searches: groups.memo.size };
}

/**
 * A predictor for systems with several devices from any single-device one: each device's tenants are predicted as
 * a system of their own (`predictByDevice` of `@swapless/queueing`). The default model already does this itself.
 */
export function perDevicePredictor(model: Predictor): Predictor {
  if (model.name === DEFAULT_MODEL_NAME) return model;
  return {
    name: model.name,
    predict: (system) => predictByDevice(system, model.name, (sub) => model.predict(sub)),
  };
}

/** The tenants, each on the device its choice names (for the models and the simulator). */
export function placedTenants(
  tenants: readonly PlannedTenant[],
  choices: readonly TenantChoice[],
): PlannedTenant[] {
  return tenants.map((t, i) => {
    const device = choices[i]?.device;
    return device === undefined ? t : { ...t, device };
  });
}

/** The system of `choices` (which carry their devices) on `devices`, for a prediction or a simulation. */
export function placedSystem(
  tenants: readonly PlannedTenant[],
  choices: readonly TenantChoice[],
  cores: number,
  devices: readonly DeviceSetup[],
) {
  return { ...systemSetup(tenants, choices, cores), devices };
}

/** True when a host has more than one Edge TPU (then the policies place tenants). */
export function hasSeveralDevices(
  devices: readonly DeviceSetup[] | undefined,
): devices is readonly DeviceSetup[] {
  return (devices?.length ?? 0) > 1;
}

/**
 * The predicted mean of `choices` (with their devices) under `model`, delays and emulation pool included, as the
 * policies compare configurations.
 */
export function placedPredictMs(
  model: Predictor,
  tenants: readonly PlannedTenant[],
  choices: readonly TenantChoice[],
  cores: number,
  devices: readonly DeviceSetup[],
  delays: DelayOptions = {},
): number {
  const predictor = delayedPredictor(perDevicePredictor(model), tenants, delays);
  return predictor.predict(placedSystem(tenants, choices, cores, devices)).meanResponseMs;
}

/** The swapless policy's search on several devices: {@link searchPlacement}, its prediction as the policy's. */
export function placementBest(
  tenants: readonly PlannedTenant[],
  cores: number,
  devices: readonly DeviceSetup[],
  options: PlacementOptions,
): { choices: TenantChoice[]; predictedMs: number } {
  const r = searchPlacement(tenants, cores, devices, options);
  const delays = { emulationWorkers: options.emulationWorkers ?? null, host: options.host ?? null };
  return {
    choices: r.choices,
    predictedMs: placedPredictMs(options.model, tenants, r.choices, cores, devices, delays),
  };
}

/**
 * `choices` (a baseline's, without devices) spread over the devices: by Edge TPU load (rate × whole-model call),
 * each onto the least loaded device so far.
 */
export function spreadOverDevices(
  tenants: readonly PlannedTenant[],
  choices: readonly TenantChoice[],
  devices: readonly DeviceSetup[],
): TenantChoice[] {
  const placement = balancedPlacement(tenants, devices.length);
  return choices.map((c, i) => ({ ...c, device: devices[placement[i]!]!.id }));
}
