// Decisions of this build against another build of @swapless/controller, on the same instances (run after
// `npm run build`): `npm run bench:controller-compare -- --against <dir>/packages/controller/dist/index.js
// [-- --instances 600] [-- --json]`, e.g. the `packages/controller/dist` of a build of the previous commit, copied
// inside the workspace (its imports resolve from there). Exits 1 when a swapless+ decision differs.
//
// 1. swapless+ (fast search, co-compiled sets on the same fast model, discipline choice): 2–4 of the zoo models of
//    `bench:controller` on ALL cuts, random loads and 2–4 cores; the decisions (choices, sets, predictions, the
//    discipline) must be identical — a speed-up of the search must not change what it decides.
// 2. The SLO decisions of `bench:controller` section 4 (4 tenants, 3 SLOs, cold and warm rates; the warm runs
//    follow the other build's decisions, so both see the same inputs): how many are identical, and over those
//    that differ the predicted mean (default model), the SLOs met by the exact model's percentiles, and the
//    admitted share of the load, side by side.

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as current from '@swapless/controller';
import { SeededRandom } from '@swapless/core';
import { defaultModel, responseDistributions } from '@swapless/queueing';
import * as shared from './controller-instances.mjs';

const { controllerCatalogs, nextLoads, plusDecision, quantile, rateFor, sloTargets, sloTenants } = shared;
/** `--name value` of the command line (undefined when absent). */
const option = (name) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const json = process.argv.includes('--json');
const path = option('--against');
if (path === undefined) {
  console.error('usage: node bench/controller-compare.mjs --against <path to another build>/dist/index.js');
  process.exit(2);
}
const other = await import(pathToFileURL(isAbsolute(path) ? path : resolve(path)).href);
const instances = Number(option('--instances') ?? 600);
/** Progress lines, unless --json. */
function log(line = '') {
  if (!json) console.log(line);
}
/** Uniform draws in [0, 1) from a seed. */
const rand = (seed) => {
  const random = new SeededRandom(seed);
  return () => random.nextFloat();
};
const catalogs = await controllerCatalogs();

// --- 1. swapless+ decisions: identical or not.
/** Instance i: 2–4 of the catalogs in random order, loads 0.2–1.1 of the Edge TPU each, 2–4 cores. */
const plusInstance = (draw, i) => {
  const tenants = catalogs
    .map((catalog) => ({ catalog, key: draw() }))
    .sort((x, y) => x.key - y.key)
    .slice(0, 2 + (i % 3))
    .map(({ catalog }, j, all) => ({
      name: `t${j}`,
      catalog,
      rate: rateFor(catalog, 0.2 + 0.9 * draw(), all.length),
    }));
  return { tenants, cores: 2 + Math.floor(draw() * 3) };
};
let plusSame = 0;
const draw = rand(7);
for (let i = 0; i < instances; i++) {
  const { tenants, cores } = plusInstance(draw, i);
  const decided = (lib) => JSON.stringify(plusDecision(lib, defaultModel, tenants, cores));
  if (decided(current) === decided(other)) plusSame++;
}
const plusDifferent = instances - plusSame;
log(
  `1. swapless+ decisions, ${instances} random instances: ${plusSame} identical, ${plusDifferent} different`,
);

// --- 2. SLO decisions (bench:controller section 4).
const slo = sloTargets(catalogs);
/** Predicted mean, SLOs met by the exact percentiles (of the admitted load) and the admitted share. */
function quality(tenants, choices) {
  const system = current.systemSetup(tenants, choices, 4);
  const dist = responseDistributions(system);
  let met = 0;
  let slos = 0;
  tenants.forEach((t, i) => {
    if (t.sloMs === undefined) return;
    slos++;
    if (dist[i].quantileMs(t.sloPercentile === 'p95' ? 0.95 : 0.99) <= t.sloMs) met++;
  });
  const offered = tenants.reduce((s, t) => s + t.rate, 0);
  const admitted = choices.reduce((s, c, i) => s + tenants[i].rate * (c.admit ?? 1), 0);
  return { meanMs: defaultModel.predict(system).meanResponseMs, met, slos, admitted: admitted / offered };
}
const sloDecision = (lib, tenants, prev) => {
  const found = lib.fastSearch(tenants, 4, prev ? { starts: [prev] } : {});
  const plan = { choices: found.choices, predictedMs: found.meanResponseMs };
  return lib.withSlos(tenants, 4, plan, prev ?? undefined);
};
const differing = { ours: [], theirs: [] };
let sloSame = 0;
const sloTotal = 2 * Math.round(instances / 2);
for (const warm of [false, true]) {
  const r = rand(99);
  let prev = null;
  let us = catalogs.map(() => 0.2 + 0.9 * r());
  for (let i = 0; i < sloTotal / 2; i++) {
    us = nextLoads(us, warm, i, r);
    const tenants = sloTenants(catalogs, us, slo);
    const theirs = sloDecision(other, tenants, warm ? prev : null);
    const ours = sloDecision(current, tenants, warm ? prev : null);
    prev = theirs.choices;
    if (JSON.stringify(ours) === JSON.stringify(theirs)) {
      sloSame++;
      continue;
    }
    differing.ours.push(quality(tenants, ours.choices));
    differing.theirs.push(quality(tenants, theirs.choices));
  }
}
const summary = (qs) => ({
  decisions: qs.length,
  medianMeanMs:
    qs.length === 0
      ? Number.NaN
      : quantile(
          qs.map((q) => q.meanMs),
          0.5,
        ),
  sloMet: qs.reduce((s, q) => s + q.met, 0),
  slos: qs.reduce((s, q) => s + q.slos, 0),
  admitted: qs.reduce((s, q) => s + q.admitted, 0) / Math.max(1, qs.length),
});
const ours = summary(differing.ours);
const theirs = summary(differing.theirs);
const ratios = differing.ours.map((q, i) => q.meanMs / differing.theirs[i].meanMs);
log(
  `2. SLO decisions (section 4 of bench:controller), ${sloTotal} cold and warm: ${sloSame} identical, ${ours.decisions} different`,
);
for (const [name, s] of [
  ['this build', ours],
  ['the other', theirs],
])
  log(
    `  ${name.padEnd(10)}: median predicted mean ${s.medianMeanMs.toFixed(2)} ms, SLOs met (exact percentiles) ${s.sloMet}/${s.slos}, admitted ${(100 * s.admitted).toFixed(2)} % of the offered load`,
  );
if (ratios.length > 0)
  log(
    `  mean this/other per decision: p10 ${quantile(ratios, 0.1).toFixed(3)}, p50 ${quantile(ratios, 0.5).toFixed(3)}, p90 ${quantile(ratios, 0.9).toFixed(3)}`,
  );
if (json)
  console.log(
    JSON.stringify(
      { plus: { identical: plusSame, different: plusDifferent }, slo: { identical: sloSame, ours, theirs } },
      null,
      2,
    ),
  );
// A speed-up must not change what swapless+ decides.
if (plusDifferent > 0) process.exitCode = 1;
