/**
 * Service-time feedback: measured stage times correct the catalog the search uses.
 *
 * For every (tenant, stage, k, threads) the correction keeps an EWMA of observed / profiled mean. The Edge TPU has
 * two factors per cut, learned apart: calls that found the device holding the head's caching token (compared with
 * the catalog's call time) and calls that paid a reload (compared with call + reload) — a live host is often off
 * by different amounts on the two (the reload is a transfer, the call mostly compute). The CPU stage is compared
 * with the mean of the profiled samples at the thread count it ran with. A key's own factor is used once it has
 * `minCount` observations; before that the tenant's factor for that stage over all keys (the usual case of a
 * machine that is uniformly slower than when it was profiled), then the other TPU kind's factor, then the host's
 * factor for that stage over all tenants (a host busier than when it was profiled slows every tenant's stages: a
 * tenant that never ran a stage is predicted no faster than the others run theirs), then 1.
 *
 * Factors are clamped to [min, max] (default [0.25, 8]: a busy host can be that far off its profile), and
 * quantised to `step` (default 1 %) so a corrected catalog is rebuilt only when a factor really moved. One
 * observation moves a trusted factor at most `outlier`× (default 4) from its value, so a single stall (a GC pause,
 * a page fault) cannot throw the search off.
 *
 * Emulation lag (the emulated head's outputs ready after the device's modelled end, see `@swapless/runtime`) is
 * learned in ms per (tenant, k) — it is not a factor of anything in the catalog — and extrapolated to cuts not
 * yet run in proportion to the head's share of the MACs (the host computes the head, so its cost scales with it).
 * The corrected catalog carries it as each cut's `delayMs`. So does it the CPU stage's hand-back (from its worker's
 * end to the outputs on the main thread, `StageObservation.returnMs` of a CPU stage, learned per tenant): the worker
 * is free by then, so it delays the request without holding the CPU queue.
 *
 * When the owner says a functional emulator's pool computes the heads ({@link ServiceCorrection.setEmulation}),
 * the lag is not a constant of the cut but the pool's queue: the correction then learns the pool's compute per
 * head instead (a factor on the head's profiled CPU time — the whole model's minus the cut's suffix — per cut,
 * else per tenant) and the corrected catalog carries it as each cut's `emulationMs`, which `delayedPredictor`
 * turns into the pool's waiting time for the configuration at hand (with the spread of those computes as each cut's
 * `emulationCv2`: the queue of a pool whose computes vary is longer). What the pool does not hold — the
 * outputs' way back to the main thread (`returnMs`) — is learned per tenant and stays a `delayMs`.
 *
 * On a host whose cores the CPU stages, the pool and other work share ({@link ServiceCorrection.setHost}), the
 * owner also says how much the configuration in force stretched each tenant's CPU stage and the pool
 * ({@link ServiceCorrection.setContention}, from `hostContention`): the CPU and emulation factors are learned with
 * that stretch divided out, so the predictor can apply the stretch of whichever configuration it weighs.
 */
import type { CutCandidate, TenantCatalog } from './catalog.js';
import { catalogOn } from './catalog-devices.js';
import type { HostShare } from './contention.js';

/** One measured stage time of a completed request (or the mean of `count` of them). */
export interface StageObservation {
  tenant: string;
  stage: 'tpu' | 'cpu';
  /** Cut in effect for the request. */
  k: number;
  /** CPU: threads one request used (cores for mg1, 1 for mgc). Ignored for the TPU. */
  threads?: number;
  /** Measured service time (no queueing), ms. For the TPU: the device's time. */
  ms: number;
  /** TPU: true when the call paid a reload (the device held another token). */
  reload?: boolean;
  /** TPU: how long the emulated head's outputs lagged the device's end, ms (absent or 0: no lag). */
  lagMs?: number;
  /** TPU: the emulation pool's compute of the head, ms (absent or 0: no functional emulator). */
  computeMs?: number;
  /**
   * From the worker's end of the stage to its outputs on the main thread, ms (absent: none): for the TPU, the
   * emulation pool's worker (functional emulator); for the CPU, the stage's worker.
   */
  returnMs?: number;
  /** TPU: how long the head's computation waited for an emulation pool worker, ms (absent or 0: none measured). */
  poolWaitMs?: number;
  /** Number of requests `ms` is the mean of (default 1). */
  count?: number;
  /**
   * TPU: the device that ran the call (a `SystemSetup.devices` id). Its catalog there (`catalogOn`) is what the
   * call is compared with, so a factor is a ratio to the device's own modelled time. Absent: the catalog itself.
   */
  device?: string;
}

/** Options of {@link ServiceCorrection}. */
export interface CorrectionOptions {
  /** EWMA weight of one observation (default 0.05). */
  alpha?: number;
  /** Bounds of a factor (default 0.25 and 8). */
  min?: number;
  max?: number;
  /** Observations before a factor is trusted (default 5). */
  minCount?: number;
  /** Quantisation of applied factors (default 0.01). */
  step?: number;
  /** Largest move of a trusted factor by one observation, × (default 4). */
  outlier?: number;
}

/** What a factor corrects: the Edge TPU call without reload, with reload, or the CPU stage. */
export type FactorKind = 'tpu' | 'tpu-reload' | 'cpu' | 'emulation';

interface Ewma {
  value: number;
  count: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * Profiled host compute of `cut`'s head at the catalog's smallest thread count, ms: the whole model on the CPU
 * (cut 0) minus the cut's suffix. Null without a head or without the CPU profile to derive it from.
 */
export function profiledHeadMs(catalog: TenantCatalog, cut: CutCandidate): number | null {
  // Read for every observed Edge TPU call and every corrected cut: computed once per (catalog, cut).
  let byCut = headCache.get(catalog);
  if (byCut === undefined) {
    byCut = new Map();
    headCache.set(catalog, byCut);
  }
  let head = byCut.get(cut);
  if (head === undefined) {
    head = headOf(catalog, cut);
    byCut.set(cut, head);
  }
  return head;
}

/** Profiled head times by catalog and cut (catalogs and their cuts are immutable). */
const headCache = new WeakMap<TenantCatalog, Map<CutCandidate, number | null>>();

function headOf(catalog: TenantCatalog, cut: CutCandidate): number | null {
  if (cut.tpu === null) return null;
  const threads = catalog.threads[0];
  const whole = catalog.cuts.find((c) => c.k === 0)?.cpu?.get(threads ?? 1);
  if (whole === undefined || whole.length === 0) return null;
  const tail = cut.cpu === null ? [] : (cut.cpu.get(threads ?? 1) ?? null);
  if (tail === null) return null;
  const head = mean(whole) - (tail.length > 0 ? mean(tail) : 0);
  // A cut near the start can measure a suffix at or above the whole model (noise): then its share of the MACs.
  return Math.max(head > 0 ? head : mean(whole) * cut.tpuMacsShare, 0.01);
}
const SEP = '\u0000';
/** A predicted pool wait below this (ms) is not compared with the measured one ({@link ServiceCorrection}). */
const POOL_WAIT_MIN_MS = 0.5;
/** Bounds of a tenant's pool-wait factor: [1/this, this]. */
const POOL_WAIT_MAX = 4;
/** The kinds whose learned values are ratios to the profile (the others are times in ms). */
const RATIO_KINDS: ReadonlySet<string> = new Set<FactorKind>(['tpu', 'tpu-reload', 'cpu', 'emulation']);

/** A lag rounded to two significant digits (0 below 0.05 ms), so tiny jitter does not rebuild catalogs. */
function quantLag(ms: number): number {
  return ms < 0.05 ? 0 : Number(ms.toPrecision(2));
}

/** Per-(tenant, stage, k, threads) multiplicative corrections of profiled service times, and emulation lags. */
export class ServiceCorrection {
  private readonly keyed = new Map<string, Ewma>();
  private readonly staged = new Map<string, Ewma>();
  private readonly cache = new Map<
    string,
    { catalog: TenantCatalog; signature: string; corrected: TenantCatalog }
  >();
  private readonly alpha: number;
  private readonly min: number;
  private readonly max: number;
  private readonly minCount: number;
  private readonly step: number;
  private readonly outlier: number;
  #emulationWorkers: number | null = null;
  #host: HostShare | null = null;
  /**
   * Per tenant in the configuration in force: the stretch of its CPU stage and pool compute (absent: 1), and the
   * emulation pool's wait the model predicts for it before any per-tenant factor (absent: none to compare with).
   */
  #stretch = new Map<string, { cpu: number; emulation: number; poolWaitMs?: number }>();

  /**
   * @param catalogs The profiled catalogs by tenant name (the reference of every ratio). The map is read at every
   *   call, so an owner may add and remove tenants in it (call {@link ServiceCorrection.forget} for a removed one).
   */
  constructor(
    private readonly catalogs: ReadonlyMap<string, TenantCatalog>,
    options: CorrectionOptions = {},
  ) {
    this.alpha = options.alpha ?? 0.05;
    this.min = options.min ?? 0.25;
    this.max = options.max ?? 8;
    this.minCount = options.minCount ?? 5;
    this.step = options.step ?? 0.01;
    this.outlier = options.outlier ?? 4;
  }

  /**
   * Says whether a functional emulator's pool computes the heads (its worker count) or not (null, the default:
   * the real device, timing-only emulation). With a pool, corrected catalogs carry each head's `emulationMs`.
   */
  setEmulation(workers: number | null): void {
    const w = workers !== null && Number.isInteger(workers) && workers >= 1 ? workers : null;
    if (w === this.#emulationWorkers) return;
    this.#emulationWorkers = w;
    this.cache.clear();
  }

  /** Workers of the emulation pool the heads are computed by (null: none, see {@link setEmulation}). */
  get emulationWorkers(): number | null {
    return this.#emulationWorkers;
  }

  /**
   * Says the host's cores are shared (`host`: its cores and what else keeps them busy) or not (null, the default).
   * Read by the predictors that plan with this correction (`DelayOptions.host`).
   */
  setHost(host: HostShare | null): void {
    this.#host =
      host !== null && host.cores >= 1 && host.busy >= 0 && Number.isFinite(host.busy)
        ? { cores: host.cores, busy: host.busy }
        : null;
  }

  /** The host share set by {@link setHost} (null: none). */
  get host(): HostShare | null {
    return this.#host;
  }

  /**
   * The stretch the configuration in force puts on each tenant's CPU stage (`cpu`) and emulated head (`emulation`)
   * on the shared host: observations from now on are divided by it before they are learned. Tenants not in
   * `byTenant` (and every tenant after `setContention(new Map())`) are learned as measured.
   */
  setContention(
    byTenant: ReadonlyMap<string, { cpu: number; emulation: number; poolWaitMs?: number }>,
  ): void {
    this.#stretch = new Map();
    for (const [name, s] of byTenant) {
      const ok = (x: number) => (Number.isFinite(x) && x >= 1 ? x : 1);
      const w = s.poolWaitMs;
      this.#stretch.set(name, {
        cpu: ok(s.cpu),
        emulation: ok(s.emulation),
        ...(w !== undefined && Number.isFinite(w) && w > 0 ? { poolWaitMs: w } : {}),
      });
    }
  }

  /** True when `tenant` has a catalog here. */
  has(tenant: string): boolean {
    return this.catalogs.has(tenant);
  }

  /** Drops everything learned about `tenant` (its model changed or it was removed). */
  forget(tenant: string): void {
    const prefix = `${tenant}${SEP}`;
    for (const map of [this.keyed, this.staged])
      for (const key of [...map.keys()]) if (key.startsWith(prefix)) map.delete(key);
    this.cache.delete(tenant);
    this.#stretch.delete(tenant);
  }

  private feed(map: Map<string, Ewma>, key: string, x: number, count: number, ratio: boolean): void {
    const e = map.get(key);
    // The first observations start the average rather than being pulled towards a prior.
    if (e === undefined) {
      map.set(key, { value: x, count });
      return;
    }
    let v = x;
    if (ratio && e.count >= this.minCount)
      v = Math.min(e.value * this.outlier, Math.max(e.value / this.outlier, x));
    const w = 1 - (1 - this.alpha) ** count;
    const ww = e.count < 1 / this.alpha ? Math.max(w, count / (e.count + count)) : w;
    e.value += ww * (v - e.value);
    e.count += count;
  }

  /** Feeds one observation; returns false when it cannot be matched to the catalog (unknown tenant, cut, threads). */
  observe(o: StageObservation): boolean {
    const known = this.catalogs.get(o.tenant);
    const cat = known !== undefined && o.stage === 'tpu' ? catalogOn(known, o.device) : known;
    const cut = cat?.cuts.find((c) => c.k === o.k);
    if (cut === undefined || !(o.ms >= 0) || !Number.isFinite(o.ms)) return false;
    let profiled: number;
    let kind: FactorKind;
    let threads = 0;
    if (o.stage === 'tpu') {
      if (cut.tpu === null) return false;
      kind = o.reload === true ? 'tpu-reload' : 'tpu';
      profiled = cut.tpu.serviceMs + (o.reload === true ? cut.tpu.reloadMs : 0);
    } else {
      kind = 'cpu';
      threads = o.threads ?? 1;
      const s = cut.cpu?.get(threads);
      if (s === undefined) return false;
      profiled = mean(s);
    }
    if (!(profiled > 0)) return false;
    const stretch = this.#stretch.get(o.tenant);
    const own = o.stage === 'cpu' ? (stretch?.cpu ?? 1) : 1;
    const ratio = Math.min(this.max * 2, Math.max(this.min / 2, o.ms / profiled / own));
    const count = Math.max(1, o.count ?? 1);
    this.feed(this.keyed, `${o.tenant}${SEP}${kind}${SEP}${o.k}${SEP}${threads}`, ratio, count, true);
    this.feed(this.staged, `${o.tenant}${SEP}${kind}`, ratio, count, true);
    if (
      o.stage === 'tpu' &&
      typeof o.computeMs === 'number' &&
      o.computeMs > 0 &&
      Number.isFinite(o.computeMs)
    ) {
      const head = profiledHeadMs(cat!, cut);
      if (head !== null) {
        const r = Math.min(
          this.max * 2,
          Math.max(this.min / 2, o.computeMs / head / (stretch?.emulation ?? 1)),
        );
        // Its square too (the spread, see emulationCv2), a stall counted as at most `outlier`× the mean.
        const m = this.trusted(this.staged, `${o.tenant}${SEP}emulation`);
        const rc = m === null ? r : Math.min(m * this.outlier, Math.max(m / this.outlier, r));
        this.feed(this.keyed, `${o.tenant}${SEP}emulation${SEP}${o.k}${SEP}0`, r, count, true);
        this.feed(this.staged, `${o.tenant}${SEP}emulation`, r, count, true);
        this.feed(this.staged, `${o.tenant}${SEP}emulation2`, rc * rc, count, false);
      }
      const back =
        typeof o.returnMs === 'number' && o.returnMs > 0 && Number.isFinite(o.returnMs) ? o.returnMs : 0;
      this.feed(this.staged, `${o.tenant}${SEP}return`, back, count, false);
      this.#feedPoolWait(o, stretch?.poolWaitMs, count);
    }
    if (o.stage === 'cpu') {
      const back =
        typeof o.returnMs === 'number' && o.returnMs > 0 && Number.isFinite(o.returnMs) ? o.returnMs : 0;
      this.feed(this.staged, `${o.tenant}${SEP}cpureturn`, back, count, false);
    }
    if (o.stage === 'tpu') {
      const lag = typeof o.lagMs === 'number' && o.lagMs > 0 && Number.isFinite(o.lagMs) ? o.lagMs : 0;
      this.feed(this.keyed, `${o.tenant}${SEP}lag${SEP}${o.k}`, lag, count, false);
      if (cut.tpuMacsShare > 0)
        this.feed(this.staged, `${o.tenant}${SEP}lag`, lag / cut.tpuMacsShare, count, false);
    }
    return true;
  }

  /**
   * The tenant's measured pool wait against the wait the model predicted for the configuration in force: their
   * ratio, learned per tenant (only where the model predicts at least `POOL_WAIT_MIN_MS`: a ratio to almost
   * nothing says little).
   */
  #feedPoolWait(o: StageObservation, predictedMs: number | undefined, count: number): void {
    const w = o.poolWaitMs;
    if (predictedMs === undefined || !(predictedMs >= POOL_WAIT_MIN_MS)) return;
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) return;
    const r = Math.min(POOL_WAIT_MAX, Math.max(1 / POOL_WAIT_MAX, w / predictedMs));
    this.feed(this.staged, `${o.tenant}${SEP}poolwait`, r, count, false);
  }

  /**
   * How much longer (or shorter) than the pool's modelled wait `tenant`'s heads wait for a worker: the ratio learned
   * by {@link observe}, quantised to 0.05 and clamped to [1/4, 4]; 1 until trusted and without a pool. The M/G/c
   * wait is the same for every Poisson arrival, but a tenant's calls reach the pool in bursts with others' (the
   * server's event loop takes requests in batches), so a tenant whose calls follow another's long heads waits more.
   */
  poolWaitFactor(tenant: string): number {
    if (this.#emulationWorkers === null) return 1;
    const f = this.trusted(this.staged, `${tenant}${SEP}poolwait`);
    if (f === null) return 1;
    return Math.round(Math.min(POOL_WAIT_MAX, Math.max(1 / POOL_WAIT_MAX, f)) / 0.05) * 0.05;
  }

  private trusted(map: Map<string, Ewma>, key: string): number | null {
    const e = map.get(key);
    return e !== undefined && e.count >= this.minCount ? e.value : null;
  }

  /**
   * The factor applied to `tenant`'s `kind` at cut `k` (and `threads` for the CPU): `'tpu'` the Edge TPU call
   * without a reload, `'tpu-reload'` a call that reloaded (relative to call + reload), `'cpu'` the CPU stage.
   */
  factor(tenant: string, kind: FactorKind, k: number, threads = 1): number {
    const key = (kd: FactorKind) => `${tenant}${SEP}${kd}${SEP}${k}${SEP}${kd === 'cpu' ? threads : 0}`;
    const chain: FactorKind[] =
      kind === 'cpu' || kind === 'emulation'
        ? [kind]
        : kind === 'tpu'
          ? ['tpu', 'tpu-reload']
          : ['tpu-reload', 'tpu'];
    let f: number | null = null;
    for (const kd of chain) {
      f = this.trusted(this.keyed, key(kd)) ?? this.trusted(this.staged, `${tenant}${SEP}${kd}`);
      if (f !== null) break;
    }
    for (const kd of chain) f ??= this.hostFactor(kd);
    if (f === null) return 1;
    const clamped = Math.min(this.max, Math.max(this.min, f));
    return Math.round(clamped / this.step) * this.step;
  }

  /**
   * The host's factor for a stage kind: the tenants' trusted factors for it, weighted by their observations (null
   * when no tenant has one). Computed from what is kept per tenant, so {@link forget} drops a tenant's share.
   */
  private hostFactor(kind: FactorKind): number | null {
    let sum = 0;
    let n = 0;
    for (const [key, e] of this.staged) {
      if (e.count < this.minCount || !key.endsWith(`${SEP}${kind}`)) continue;
      sum += e.value * e.count;
      n += e.count;
    }
    return n > 0 ? sum / n : null;
  }

  /**
   * Whether `tenant`'s stages at cut `k` have been measured enough for their own factors to apply: the Edge TPU
   * call (with or without a reload) when the cut has a head, the CPU stage (at any thread count) when it has a tail.
   * Until then the cut is predicted with the tenant's factors from other cuts (or none): a guess, which the
   * hysteresis asks a larger gain of (`HysteresisOptions.explorationGain`). False for an unknown tenant or cut.
   */
  measuredAt(tenant: string, k: number): boolean {
    const cut = this.catalogs.get(tenant)?.cuts.find((c) => c.k === k);
    if (cut === undefined) return false;
    const own = (kind: FactorKind, threads: number) =>
      this.trusted(this.keyed, `${tenant}${SEP}${kind}${SEP}${k}${SEP}${threads}`) !== null;
    if (cut.tpu !== null && !own('tpu', 0) && !own('tpu-reload', 0)) return false;
    return cut.cpu === null || [...cut.cpu.keys()].some((threads) => own('cpu', threads));
  }

  /**
   * Whether the host runs measurably off its profile: some tenant's factor for a stage kind (over all its cuts) is
   * trusted and more than `tolerance` (default 0.15) away from 1. On such a host a cut not yet measured is predicted
   * from factors that are evidently not the profile's, and the hysteresis asks it for a margin
   * (`HysteresisOptions.explorationGain`); on a host that runs as profiled (the simulator) extrapolating is sound.
   */
  offProfile(tolerance = 0.15): boolean {
    for (const [key, e] of this.staged) {
      const kind = key.slice(key.lastIndexOf(SEP) + 1);
      if (!RATIO_KINDS.has(kind) || e.count < this.minCount) continue;
      if (Math.abs(e.value - 1) > tolerance) return true;
    }
    return false;
  }

  /**
   * Mean emulation lag of `tenant`'s head at cut `k`, ms: learned at that cut, else extrapolated from the cuts run
   * so far by the head's share of the MACs, else 0.
   */
  lagMs(tenant: string, k: number): number {
    const own = this.trusted(this.keyed, `${tenant}${SEP}lag${SEP}${k}`);
    if (own !== null) return quantLag(own);
    const perShare = this.trusted(this.staged, `${tenant}${SEP}lag`);
    const share = this.catalogs.get(tenant)?.cuts.find((c) => c.k === k)?.tpuMacsShare ?? 0;
    return perShare === null ? 0 : quantLag(perShare * share);
  }

  /**
   * The emulation pool's compute of `tenant`'s head at cut `k`, ms: its profiled CPU time ({@link profiledHeadMs})
   * × the factor learned at that cut, else for the tenant, else 1. Null without a pool
   * ({@link ServiceCorrection.setEmulation}), a head, or a profile to derive it from.
   */
  emulationMs(tenant: string, k: number): number | null {
    if (this.#emulationWorkers === null) return null;
    const cat = this.catalogs.get(tenant);
    const cut = cat?.cuts.find((c) => c.k === k);
    if (cat === undefined || cut === undefined) return null;
    const head = profiledHeadMs(cat, cut);
    if (head === null) return null;
    return Number((head * this.factor(tenant, 'emulation', k)).toPrecision(3));
  }

  /**
   * Mean time `tenant`'s CPU stage outputs took from the worker back to the main thread, ms (0 until trusted): a
   * delay outside the CPU queue (the worker is free by then), added to every cut with a CPU stage.
   */
  cpuReturnMs(tenant: string): number {
    return quantLag(this.trusted(this.staged, `${tenant}${SEP}cpureturn`) ?? 0);
  }

  /**
   * Squared coefficient of variation of the pool's compute of `tenant`'s heads (variance / mean², from the ratios
   * to the profile over all its cuts), quantised to 0.05 and capped at 4; 0 until trusted and without a pool.
   */
  emulationCv2(tenant: string): number {
    if (this.#emulationWorkers === null) return 0;
    const m = this.trusted(this.staged, `${tenant}${SEP}emulation`);
    const m2 = this.trusted(this.staged, `${tenant}${SEP}emulation2`);
    if (m === null || m2 === null || !(m > 0)) return 0;
    const cv2 = Math.min(4, Math.max(0, m2 / (m * m) - 1));
    return Math.round(cv2 / 0.05) * 0.05;
  }

  /**
   * Mean time `tenant`'s emulated head outputs took from the pool worker back to the main thread, ms (0 until
   * trusted, and without a pool): outside the pool's queue, it adds to the lag as it is.
   */
  emulationReturnMs(tenant: string): number {
    if (this.#emulationWorkers === null) return 0;
    return quantLag(this.trusted(this.staged, `${tenant}${SEP}return`) ?? 0);
  }

  /**
   * The tenant's catalog with every factor applied: TPU call (×f, variance ×f²) and reload (so that call + reload
   * is ×f_reload), CPU samples (×f), and each cut's emulation lag as its `delayMs`. The same object is returned
   * while nothing applied changed, so caches keyed by catalog stay warm.
   */
  corrected(tenant: string): TenantCatalog {
    const cat = this.catalogs.get(tenant);
    if (cat === undefined)
      throw new RangeError(`Expected a known tenant for corrected() but received ${tenant}`);
    const parts: string[] = [];
    // With a pool the lag is its queue (predicted from `emulationMs`), not a constant of the cut.
    const pooled = this.#emulationWorkers !== null;
    const back = this.emulationReturnMs(tenant);
    const lagOf = (k: number) => (pooled ? back : this.lagMs(tenant, k));
    const emuOf = (k: number) => (pooled ? this.emulationMs(tenant, k) : null);
    const cv2 = this.emulationCv2(tenant);
    const waitFactor = this.poolWaitFactor(tenant);
    const cpuBack = this.cpuReturnMs(tenant);
    for (const c of cat.cuts) {
      if (c.tpu === null) parts.push('-');
      else {
        const emu = emuOf(c.k);
        parts.push(
          `${this.factor(tenant, 'tpu', c.k)}/${this.factor(tenant, 'tpu-reload', c.k)}+${lagOf(c.k)}${emu === null ? '' : `~${emu}±${cv2}×${waitFactor}`}`,
        );
      }
      for (const t of c.cpu?.keys() ?? []) parts.push(String(this.factor(tenant, 'cpu', c.k, t)));
    }
    parts.push(`^${cpuBack}`);
    const signature = parts.join(',');
    if (parts.every((p) => p === '-' || p === '1' || p === '1/1+0' || p === '^0')) return cat;
    const hit = this.cache.get(tenant);
    if (hit !== undefined && hit.catalog === cat && hit.signature === signature) return hit.corrected;
    const fix = (cuts: readonly CutCandidate[]): CutCandidate[] =>
      cuts.map((c) => {
        const ft = this.factor(tenant, 'tpu', c.k);
        const fr = this.factor(tenant, 'tpu-reload', c.k);
        const lag = (c.tpu === null ? 0 : lagOf(c.k)) + (c.cpu === null ? 0 : cpuBack);
        const emu = c.tpu === null ? null : emuOf(c.k);
        return {
          ...c,
          tpu:
            c.tpu === null
              ? null
              : {
                  ...c.tpu,
                  serviceMs: c.tpu.serviceMs * ft,
                  reloadMs: Math.max(0, (c.tpu.serviceMs + c.tpu.reloadMs) * fr - c.tpu.serviceMs * ft),
                  serviceVarianceMs2: c.tpu.serviceVarianceMs2 * ft * ft,
                  source: 'measured' as const,
                },
          cpu:
            c.cpu === null
              ? null
              : new Map(
                  [...c.cpu].map(([t, s]) => {
                    const f = this.factor(tenant, 'cpu', c.k, t);
                    return [t, f === 1 ? s : s.map((x) => x * f)] as const;
                  }),
                ),
          ...(lag > 0 ? { delayMs: (c.delayMs ?? 0) + lag } : {}),
          ...(emu !== null ? { emulationMs: emu } : {}),
          ...(emu !== null && cv2 > 0 ? { emulationCv2: cv2 } : {}),
          ...(emu !== null && waitFactor !== 1 ? { emulationWaitFactor: waitFactor } : {}),
        };
      });
    // The factors are ratios to each device's own modelled times (see `StageObservation.device`): the catalogs of
    // the other devices get them too, one corrected catalog per profile's catalog.
    const fixed = new Map<TenantCatalog, TenantCatalog>();
    const onDevice =
      cat.onDevice === undefined
        ? undefined
        : Object.fromEntries(
            Object.entries(cat.onDevice).map(([id, c]) => {
              const f = fixed.get(c) ?? { ...c, cuts: fix(c.cuts) };
              fixed.set(c, f);
              return [id, f] as const;
            }),
          );
    const corrected: TenantCatalog = {
      ...cat,
      cuts: fix(cat.cuts),
      ...(onDevice !== undefined ? { onDevice } : {}),
    };
    this.cache.set(tenant, { catalog: cat, signature, corrected });
    return corrected;
  }
}
