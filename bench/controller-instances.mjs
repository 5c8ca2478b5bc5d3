// What the controller benchmarks share (`bench:controller`, `bench:controller-compare`): the zoo models, their
// catalogs on ALL cuts, the rate that loads the Edge TPU to a given share, and quantiles.

import { readFile } from 'node:fs/promises';
import { buildCatalog, fastSearch, systemSetup } from '@swapless/controller';
import { quantile as coreQuantile } from '@swapless/core';
import { responseDistributions } from '@swapless/queueing';
import { generateZooModel } from '@swapless/zoo';

/** The zoo models of the controller benchmarks, in tenant order. */
export const MODELS = ['mobilenet_v2', 'squeezenet', 'efficientnet_edgetpu_s', 'mobilenet_v1'];

/**
 * The catalogs of {@link MODELS}: ALL cuts, 1 and 2 threads, 3 repetitions (profiles cached); `each` hears of
 * every catalog with the seconds it took.
 */
export async function controllerCatalogs(each = () => {}) {
  const out = [];
  for (const name of MODELS) {
    const g = await generateZooModel(name);
    const t0 = performance.now();
    const cat = await buildCatalog(new Uint8Array(await readFile(g.path)), {
      name,
      cuts: 'all',
      threads: [1, 2],
      repetitions: 3,
    });
    out.push(cat);
    each(cat, (performance.now() - t0) / 1000);
  }
  return out;
}

/** Rate that would load the Edge TPU to `u` with the whole model on it, shared by m tenants. */
export const rateFor = (cat, u, m) => {
  const whole = cat.cuts.find((c) => c.k === cat.edgetpuPrefix).tpu;
  return (u * 1000) / ((whole.serviceMs + whole.reloadMs * 0.5) * m);
};

/** The q-quantile of xs (nearest rank). */
export const quantile = (xs, q) =>
  coreQuantile(
    [...xs].sort((a, b) => a - b),
    q,
    'nearest-rank',
  );

/**
 * One swapless+ decision as the policy makes it, with the controller build `lib`: one fast model for the fast
 * search (from `starts` when given) and the co-compiled-set search, then the discipline for the layout found and,
 * when sets were chosen, for the heads alone. Returns what was decided.
 */
export function plusDecision(lib, model, tenants, cores, starts) {
  const fm = lib.prepareFastModel(tenants, cores);
  const base = lib.fastSearchPrepared(fm, starts ? { starts } : {});
  const plan = { choices: base.choices, predictedMs: base.meanResponseMs };
  // An older build takes no `model` option: it prepares its own (the same tables).
  const sets = lib.coCompileSearch(tenants, cores, model, plan, { model: fm });
  const disciplines = [
    lib.chooseDiscipline(model, lib.layoutSetup(tenants, sets.choices, cores, { grouping: sets.grouping })),
  ];
  if (sets.grouping.length > 0)
    disciplines.push(lib.chooseDiscipline(model, lib.layoutSetup(tenants, base.choices, cores)));
  return { base, sets, disciplines };
}

/** The loads of the next decision: new random ones (cold, or every 100 warm), else a drift of up to ±5 %. */
export const nextLoads = (us, warm, i, r) =>
  !warm || i % 100 === 0
    ? us.map(() => 0.2 + 0.9 * r())
    : us.map((u) => Math.min(1.1, Math.max(0.2, u * (1 + 0.05 * (2 * r() - 1)))));

/**
 * The SLOs of section 4 of `bench:controller` (tenants t0…t3 of the catalogs): 1.1 × the quantiles of the plan at
 * 0.6 of the Edge TPU each — they bind when the rates move up. t0 and t3 p99, t2 p95, t1 none.
 */
export function sloTargets(catalogs) {
  const ref = catalogs.map((catalog, j) => ({ name: `t${j}`, catalog, rate: rateFor(catalog, 0.6, 4) }));
  const tails = responseDistributions(systemSetup(ref, fastSearch(ref, 4).choices, 4));
  return [
    { sloMs: +(1.1 * tails[0].quantileMs(0.99)).toFixed(1), sloPercentile: 'p99' },
    {},
    { sloMs: +(1.1 * tails[2].quantileMs(0.95)).toFixed(1), sloPercentile: 'p95' },
    { sloMs: +(1.1 * tails[3].quantileMs(0.99)).toFixed(1), sloPercentile: 'p99' },
  ];
}

/** Tenants t0… of the catalogs at Edge TPU loads `us` (shared by all of them), with the SLOs `slo`. */
export const sloTenants = (catalogs, us, slo) =>
  catalogs.map((catalog, j) => ({
    name: `t${j}`,
    catalog,
    rate: rateFor(catalog, us[j], catalogs.length),
    ...slo[j],
  }));
