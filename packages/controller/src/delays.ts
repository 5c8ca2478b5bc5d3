/**
 * Additive delays on top of a latency model: time a request spends outside every queue the model knows (a cut's
 * `delayMs`, e.g. emulation lag learned online; a tenant's front-end time, e.g. HTTP decode and encode). They hold
 * no server busy, so they shift a tenant's mean response and nothing else.
 */
import type { Prediction, SystemSetup } from '@swapless/queueing';
import type { TenantCatalog } from './catalog.js';
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
    weighted += rate * d;
    total += rate;
    return d > 0 ? { ...t, responseMs: t.responseMs + d } : t;
  });
  const shift = total > 0 ? weighted / total : delays.reduce((s, d) => s + d, 0) / Math.max(1, delays.length);
  return { ...prediction, tenants, meanResponseMs: prediction.meanResponseMs + shift };
}

/**
 * A predictor that adds each tenant's cut delay (`CutCandidate.delayMs` of its catalog, looked up by tenant name
 * in `catalogs`) to `model`'s prediction. The same `model` when no catalog has a delay.
 */
export function delayedPredictor(
  model: Predictor,
  catalogs: ReadonlyMap<string, TenantCatalog> | readonly { name: string; catalog: TenantCatalog }[],
): Predictor {
  const byName: ReadonlyMap<string, TenantCatalog> =
    catalogs instanceof Map
      ? catalogs
      : new Map(
          (catalogs as readonly { name: string; catalog: TenantCatalog }[]).map((t) => [t.name, t.catalog]),
        );
  if (![...byName.values()].some((c) => c.cuts.some((x) => (x.delayMs ?? 0) > 0))) return model;
  return {
    name: model.name,
    predict(system) {
      const p = model.predict(system);
      const delays = system.tenants.map((t) => {
        const c = byName.get(t.name);
        return c === undefined ? 0 : cutDelayMs(c, t.k);
      });
      return addDelays(p, system, delays);
    },
  };
}
