/**
 * Additive delays on top of a latency model: time a request spends outside every queue the model knows (a cut's
 * `delayMs`, e.g. emulation lag learned online; a tenant's front-end time, e.g. HTTP decode and encode). They hold
 * no server busy, so they shift a tenant's mean response and nothing else.
 */
import type { Prediction, SystemSetup, TenantSetup } from '@swapless/contracts';
import { erlangC, mgcWaitMs } from '@swapless/queueing';
import type { TenantCatalog } from './catalog.js';
import { type HostContention, type HostShare, hostContention } from './contention.js';
import type { Predictor } from './search.js';

/** The additive delay of `catalog`'s cut `k`, ms (0 when the cut has none or is not catalogued). */
export function cutDelayMs(catalog: TenantCatalog, k: number): number {
  const d = catalog.cuts.find((c) => c.k === k)?.delayMs ?? 0;
  return Number.isFinite(d) && d > 0 ? d : 0;
}

/**
 * `prediction` with `delays[i]` ms added to tenant i's response (in `system`'s tenant order) and the λ-weighted
 * mean moved accordingly. An unstable prediction stays unstable; with no delay the same object is returned.
 */
export function addDelays(
  prediction: Prediction,
  system: SystemSetup,
  delays: readonly number[],
): Prediction {
  if (!delays.some((d) => d > 0)) return prediction;
  let weighted = 0;
  let total = 0;
  const tenants = prediction.tenants.map((t, i) => {
    const d = delays[i] ?? 0;
    const rate = system.tenants[i]?.rate ?? 0;
    if (rate > 0) weighted += rate * d;
    total += rate;
    return d > 0 ? { ...t, responseMs: t.responseMs + d } : t;
  });
  const shift = total > 0 ? weighted / total : delays.reduce((s, d) => s + d, 0) / Math.max(1, delays.length);
  return { ...prediction, tenants, meanResponseMs: prediction.meanResponseMs + shift };
}

/** Options of {@link delayedPredictor}. */
export interface DelayOptions {
  /**
   * Workers of a functional emulator's pool that computes the heads (their `CutCandidate.emulationMs`), or
   * null/absent for none: then each head's outputs are ready after the pool's queue, modelled below.
   */
  emulationWorkers?: number | null;
  /**
   * The host's cores shared by the CPU stages, the pool and the rest of the host ({@link hostContention}), or
   * null/absent to give each its own (the model's default). Applies with an emulation pool only: the fast path
   * that plans without one has no per-configuration hook for it.
   */
  host?: HostShare | null;
}

/**
 * The emulation pool's lag per tenant (in `system`'s order), ms: the heads of every tenant on the Edge TPU share
 * `workers` workers, an M/G/c queue with each head's `emulationMs` as its mean service time (and `emulationCv2` as
 * its squared coefficient of variation, 0 when absent) and the
 * tenants' rates as Poisson arrivals; a head's outputs lag the device by E[max(0, W_pool + h − x)], x the device's
 * time from the start of the request's Edge TPU stage (the pool starts computing then): `deviceMs[i]` when given —
 * the model's Edge TPU wait + call with its expected reload, what the device really takes — else the call alone.
 * `stretch` multiplies every head's compute (the pool's slowdown on a shared host, {@link hostContention}); a
 * tenant's `emulationWaitFactor` (learned by `ServiceCorrection`) scales its own share of the wait.
 * Infinity for every pooled tenant when the pool is overloaded; null when no tenant uses the pool.
 */
export function emulationLags(
  system: SystemSetup,
  catalogs: ReadonlyMap<string, TenantCatalog>,
  workers: number,
  deviceMs?: readonly number[],
  stretch = 1,
): number[] | null {
  const pool = poolQueue(system, catalogs, workers, stretch);
  if (pool === null) return null;
  const { wait, queued, heads } = pool;
  if (!Number.isFinite(wait)) return heads.map((h) => (h === null ? 0 : Infinity));
  return heads.map((h, i) => {
    if (h === null) return 0;
    const device = deviceMs?.[i];
    const x = device !== undefined && Number.isFinite(device) ? device : h.callMs;
    // A tenant's own wait: the pool's, scaled by what was learned of how its calls meet the queue.
    return expectedLag(wait * h.waitFactor, queued, h.h - x);
  });
}

/**
 * The emulation pool's mean wait for a worker, ms, as the model predicts it for `system` (before any tenant's
 * `emulationWaitFactor`): the M/G/c queue of every pooled head (see {@link emulationLags}). Null when no tenant uses
 * the pool; Infinity when it is overloaded.
 */
export function emulationPoolWaitMs(
  system: SystemSetup,
  catalogs: ReadonlyMap<string, TenantCatalog>,
  workers: number,
  stretch = 1,
): number | null {
  return poolQueue(system, catalogs, workers, stretch)?.wait ?? null;
}

/** A pooled head: its compute (stretched), its call on the device, and its tenant's wait factor. */
interface PooledHead {
  h: number;
  callMs: number;
  waitFactor: number;
}

/** The pool's M/G/c queue over the pooled heads of `system` (null when none is pooled). */
function poolQueue(
  system: SystemSetup,
  catalogs: ReadonlyMap<string, TenantCatalog>,
  workers: number,
  stretch: number,
): { wait: number; queued: number; heads: (PooledHead | null)[] } | null {
  let lam = 0;
  let first = 0;
  let second = 0;
  const heads = system.tenants.map((t): PooledHead | null => {
    const cut = catalogs.get(t.name)?.cuts.find((c) => c.k === t.k);
    const h = cut?.emulationMs === undefined ? undefined : cut.emulationMs * stretch;
    if (cut?.tpu == null || h === undefined || !(h > 0)) return null;
    const l = Math.max(0, t.rate) / 1000;
    const cv2 = cut.emulationCv2 !== undefined && cut.emulationCv2 > 0 ? cut.emulationCv2 : 0;
    lam += l;
    first += l * h;
    second += l * h * h * (1 + cv2);
    const f = cut.emulationWaitFactor;
    return { h, callMs: cut.tpu.serviceMs, waitFactor: f !== undefined && f > 0 ? f : 1 };
  });
  if (!heads.some((h) => h !== null)) return null;
  const wait = lam > 0 ? mgcWaitMs(lam, { meanMs: first / lam, secondMomentMs2: second / lam }, workers) : 0;
  const queued = wait > 0 && Number.isFinite(wait) ? erlangC(workers, first) : 0;
  return { wait, queued, heads };
}

/**
 * E[max(0, W + d)] for the pool's wait W: 0 with probability 1 − `queued`, else exponential with mean
 * `wait` / `queued` (exact for M/M/c, the usual approximation of the M/G/c wait's shape). For d ≥ 0 it is simply
 * E[W] + d; for d < 0 (a head shorter than the device's stage) a request lags only when it waited more than −d, and
 * max(0, E[W] + d) would miss what the long waits add.
 */
function expectedLag(wait: number, queued: number, d: number): number {
  if (d >= 0) return wait + d;
  if (!(wait > 0) || !(queued > 0)) return 0;
  const m = wait / queued;
  return queued * m * Math.exp(d / m);
}

/**
 * A predictor that adds each tenant's cut delay (`CutCandidate.delayMs` of its catalog, looked up by tenant name
 * in `catalogs`) and, with `options.emulationWorkers`, the emulation pool's lag ({@link emulationLags}) to
 * `model`'s prediction. The same `model` when there is neither.
 */
export function delayedPredictor(
  model: Predictor,
  catalogs: ReadonlyMap<string, TenantCatalog> | readonly { name: string; catalog: TenantCatalog }[],
  options: DelayOptions = {},
): Predictor {
  const byName: ReadonlyMap<string, TenantCatalog> =
    catalogs instanceof Map
      ? catalogs
      : new Map(
          (catalogs as readonly { name: string; catalog: TenantCatalog }[]).map((t) => [t.name, t.catalog]),
        );
  const cuts = [...byName.values()].flatMap((c) => c.cuts);
  const delays = cuts.some((x) => (x.delayMs ?? 0) > 0);
  const workers = options.emulationWorkers ?? null;
  const pooled = workers !== null && workers >= 1 && cuts.some((x) => (x.emulationMs ?? 0) > 0);
  if (!delays && !pooled) return model;
  const host = pooled ? (options.host ?? null) : null;
  return {
    name: model.name,
    predict(given) {
      const shared = host === null ? null : contentionOf(given, byName, workers!, host);
      const system = shared === null ? given : stretchedCpu(given, shared);
      const p = model.predict(system);
      // The pool computes a head from the start of the Edge TPU stage: the device's wait and reload overlap it.
      const device = p.tenants.map((t) => t.tpuWaitMs + t.tpuServiceMs);
      const lags = pooled ? emulationLags(system, byName, workers, device, shared?.pool ?? 1) : null;
      const added = system.tenants.map((t, i) => {
        const c = byName.get(t.name);
        return (c === undefined ? 0 : cutDelayMs(c, t.k)) + (lags?.[i] ?? 0);
      });
      const q = addDelays(p, system, added);
      return lags?.some((l) => l === Infinity) === true ? { ...q, stable: false } : q;
    },
  };
}

/**
 * The host contention of `system` ({@link hostContention}) with the emulation pool's heads taken from each tenant's
 * cut in `catalogs` (`CutCandidate.emulationMs`).
 */
export function contentionOf(
  system: SystemSetup,
  catalogs: ReadonlyMap<string, TenantCatalog>,
  workers: number,
  host: HostShare,
): HostContention {
  const headsMs = system.tenants.map((t) => {
    const cut = catalogs.get(t.name)?.cuts.find((c) => c.k === t.k);
    return cut?.tpu == null ? null : (cut.emulationMs ?? null);
  });
  return hostContention(system, { workers, headsMs }, host);
}

/** Stretched CPU samples by the samples and the stretch (to 0.5 %), so the model's moment caches stay warm. */
const stretchedSamples = new WeakMap<readonly number[], Map<number, readonly number[]>>();

/** `system` with each tenant's CPU samples stretched by `shared.cpu[i]` (the same object when none stretches). */
function stretchedCpu(system: SystemSetup, shared: HostContention): SystemSetup {
  if (!shared.cpu.some((s) => s > 1.0025)) return system;
  const tenants = system.tenants.map((t, i): TenantSetup => {
    const q = Math.round((shared.cpu[i] ?? 1) * 200) / 200;
    if (t.cpu === null || q <= 1) return t;
    let byStretch = stretchedSamples.get(t.cpu.samplesMs);
    if (byStretch === undefined) {
      byStretch = new Map();
      stretchedSamples.set(t.cpu.samplesMs, byStretch);
    }
    let samplesMs = byStretch.get(q);
    if (samplesMs === undefined) {
      samplesMs = t.cpu.samplesMs.map((x) => x * q);
      byStretch.set(q, samplesMs);
    }
    return { ...t, cpu: { ...t.cpu, samplesMs } };
  });
  return { ...system, tenants };
}
