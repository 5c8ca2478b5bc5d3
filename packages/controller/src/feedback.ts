/**
 * Service-time feedback: measured stage times correct the catalog the search uses.
 *
 * For every (tenant, stage, k, threads) the correction keeps an EWMA of observed / profiled mean, where the
 * profiled mean is the catalog's Edge TPU call time (+ its reload when the observation says the call reloaded)
 * or the mean of the CPU samples at that thread count. A key's own factor is used once it has `minCount`
 * observations; before that the tenant's factor for that stage over all keys (the usual case of a machine that
 * is uniformly slower than when it was profiled); before that 1. Factors are clamped to [min, max] (default
 * [0.5, 2]) so one bad measurement cannot throw the search off, and quantised to `step` (default 1 %) so a
 * corrected catalog is rebuilt only when a factor really moved.
 */
import type { CutCandidate, TenantCatalog } from './catalog.js';

/** One measured stage time of a completed request (or the mean of `count` of them). */
export interface StageObservation {
  tenant: string;
  stage: 'tpu' | 'cpu';
  /** Cut in effect for the request. */
  k: number;
  /** CPU: threads one request used (cores for mg1, 1 for mgc). Ignored for the TPU. */
  threads?: number;
  /** Measured service time (no queueing), ms. */
  ms: number;
  /** TPU: true when the call paid a reload (the device held another token). */
  reload?: boolean;
  /** Number of requests `ms` is the mean of (default 1). */
  count?: number;
}

/** Options of {@link ServiceCorrection}. */
export interface CorrectionOptions {
  /** EWMA weight of one observation (default 0.05). */
  alpha?: number;
  /** Bounds of a factor (default 0.5 and 2). */
  min?: number;
  max?: number;
  /** Observations before a factor is trusted (default 5). */
  minCount?: number;
  /** Quantisation of applied factors (default 0.01). */
  step?: number;
}

interface Ewma {
  value: number;
  count: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/** Per-(tenant, stage, k, threads) multiplicative corrections of profiled service times. */
export class ServiceCorrection {
  private readonly keyed = new Map<string, Ewma>();
  private readonly staged = new Map<string, Ewma>();
  private readonly cache = new Map<string, { signature: string; catalog: TenantCatalog }>();
  private readonly alpha: number;
  private readonly min: number;
  private readonly max: number;
  private readonly minCount: number;
  private readonly step: number;

  /** @param catalogs The profiled catalogs by tenant name (the reference of every ratio). */
  constructor(
    private readonly catalogs: ReadonlyMap<string, TenantCatalog>,
    options: CorrectionOptions = {},
  ) {
    this.alpha = options.alpha ?? 0.05;
    this.min = options.min ?? 0.5;
    this.max = options.max ?? 2;
    this.minCount = options.minCount ?? 5;
    this.step = options.step ?? 0.01;
  }

  /** Feeds one observation; returns false when it cannot be matched to the catalog (unknown tenant, cut, threads). */
  observe(o: StageObservation): boolean {
    const cat = this.catalogs.get(o.tenant);
    const cut = cat?.cuts.find((c) => c.k === o.k);
    if (cut === undefined || !(o.ms >= 0) || !Number.isFinite(o.ms)) return false;
    let profiled: number;
    let threads = 0;
    if (o.stage === 'tpu') {
      if (cut.tpu === null) return false;
      profiled = cut.tpu.serviceMs + (o.reload === true ? cut.tpu.reloadMs : 0);
    } else {
      threads = o.threads ?? 1;
      const s = cut.cpu?.get(threads);
      if (s === undefined) return false;
      profiled = mean(s);
    }
    if (!(profiled > 0)) return false;
    const ratio = Math.min(this.max * 2, Math.max(this.min / 2, o.ms / profiled));
    const count = Math.max(1, o.count ?? 1);
    const w = 1 - (1 - this.alpha) ** count;
    for (const [map, key] of [
      [this.keyed, `${o.tenant}\u0000${o.stage}\u0000${o.k}\u0000${threads}`],
      [this.staged, `${o.tenant}\u0000${o.stage}`],
    ] as const) {
      const e = map.get(key);
      // The first observations start the average rather than being pulled towards 1.
      if (e === undefined) map.set(key, { value: ratio, count });
      else {
        const ww = e.count < 1 / this.alpha ? Math.max(w, count / (e.count + count)) : w;
        e.value += ww * (ratio - e.value);
        e.count += count;
      }
    }
    return true;
  }

  /** The factor applied to `tenant`'s `stage` at cut `k` (and `threads` for the CPU). */
  factor(tenant: string, stage: 'tpu' | 'cpu', k: number, threads = 1): number {
    const key = `${tenant}\u0000${stage}\u0000${k}\u0000${stage === 'tpu' ? 0 : threads}`;
    let e = this.keyed.get(key);
    if (e === undefined || e.count < this.minCount) e = this.staged.get(`${tenant}\u0000${stage}`);
    if (e === undefined || e.count < this.minCount) return 1;
    const f = Math.min(this.max, Math.max(this.min, e.value));
    return Math.round(f / this.step) * this.step;
  }

  /**
   * The tenant's catalog with every factor applied: TPU call, reload and variance (×f, ×f, ×f²) and CPU samples
   * (×f). The same object is returned while no applied factor changed, so caches keyed by catalog stay warm.
   */
  corrected(tenant: string): TenantCatalog {
    const cat = this.catalogs.get(tenant);
    if (cat === undefined)
      throw new RangeError(`Expected a known tenant for corrected() but received ${tenant}`);
    const parts: string[] = [];
    for (const c of cat.cuts) {
      parts.push(c.tpu === null ? '-' : String(this.factor(tenant, 'tpu', c.k)));
      for (const t of c.cpu?.keys() ?? []) parts.push(String(this.factor(tenant, 'cpu', c.k, t)));
    }
    const signature = parts.join(',');
    if (signature.split(',').every((p) => p === '-' || p === '1')) return cat;
    const hit = this.cache.get(tenant);
    if (hit !== undefined && hit.signature === signature) return hit.catalog;
    const cuts: CutCandidate[] = cat.cuts.map((c) => {
      const ft = this.factor(tenant, 'tpu', c.k);
      return {
        ...c,
        tpu:
          c.tpu === null
            ? null
            : {
                ...c.tpu,
                serviceMs: c.tpu.serviceMs * ft,
                reloadMs: c.tpu.reloadMs * ft,
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
      };
    });
    const catalog: TenantCatalog = { ...cat, cuts };
    this.cache.set(tenant, { signature, catalog });
    return catalog;
  }
}
