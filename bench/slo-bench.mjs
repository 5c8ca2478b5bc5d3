// SLO benchmark (run after `npm run build`): `npm run bench:slo [-- --json] [-- --quick] [-- --duration 300]`.
//
// Everything reported is SIMULATED (virtual time, @swapless/sim) on catalogs whose Edge TPU stages are EMULATED
// (device model, usb3) and whose CPU stages were MEASURED on this machine (profiler, auto cuts, 1 and 2 threads,
// 5 repetitions, cached), the same catalogs as `npm run bench:policies`.
//
// Workloads: the multi-tenant mixes of bench:policies, each with latency objectives (SLOs) set from the
// unconstrained SwapLess plan's own predicted quantiles: one tenant at 0.95 × its p99 (mild), two tenants at
// 0.9 × (one of them p95), and one tenant at 0.5 × its p99 (tight: often infeasible, then load is shed).
// Per workload, side by side, each configuration simulated with the same seed:
//   swapless    the mean-optimal configuration (the controller without SLOs);
//   slo         the SLO-constrained plan (sloPlan: saddlepoint screen, local search, admission control);
//   adaptive    the swapless policy with the SLOs, run in the simulator (rate estimator, hysteresis, 1 s ticks);
//   exhaustive  every configuration of the unpruned space, the best mean whose screen (margin 1, i.e. the model's
//               own tail) meets every SLO — "feasible" means this search found one.
// Printed per SLO tenant: simulated share of responses within sloMs and ✓ when the simulated quantile at the SLO's
// percentile is within it. Target: ≥ 99 % of the SLOs met by `slo` wherever exhaustive says they are feasible.
// Also: the screen's miss probability beside the exact model's (`responseDistributions`) and the simulator's.

import { availableParallelism, cpus, loadavg } from 'node:os';
import {
  createPolicy,
  fastSearch,
  fractionWithin,
  runPolicyInSim,
  SloScreen,
  sloLevel,
  sloPlan,
  systemSetup,
  tenantChoices,
} from '@swapless/controller';
import { defaultModel, responseDistributions } from '@swapless/queueing';
import { simulate } from '@swapless/sim';
import { MULTI_TENANT_MIXES, wholeTpuMs, zooCatalogs } from './zoo-catalogs.mjs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const durationMs = flag('--duration', quick ? 120 : 300) * 1000;
const warmupMs = durationMs / 10;
const log = (line = '') => {
  if (!json) console.log(line);
};
log(
  `SwapLess SLO benchmark — ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}, load ${loadavg()[0].toFixed(2)}`,
);
log(
  `All latencies SIMULATED (${durationMs / 1000} s per run, ${warmupMs / 1000} s warm-up, seed 1); TPU emulated (usb3), CPU measured.`,
);

const catalog = zooCatalogs({ device: 'usb3' });

/** Simulates one configuration: per tenant the share within its SLO and whether its percentile is met. */
function simulated(tenants, choices, cores) {
  const r = simulate(systemSetup(tenants, choices, cores), { durationMs, warmupMs, seed: 1 });
  return {
    meanMs: r.meanResponseMs,
    tenants: r.tenants.map((t, i) => sloOf(tenants[i], t)),
  };
}
function sloOf(tenant, t) {
  if (tenant.sloMs === undefined) return null;
  const q = sloLevel(tenant.sloPercentile) === 0.95 ? t.p95Ms : t.p99Ms;
  return { within: fractionWithin(t.cdfMs, tenant.sloMs), met: q <= tenant.sloMs, quantileMs: q };
}

/** The exhaustive search: every configuration, the best mean whose screen (margin 1) meets every SLO. */
function exhaustive(tenants, cores) {
  const screen = new SloScreen(tenants, 1);
  const opts = tenants.map((t) => tenantChoices(t.catalog, cores));
  let best = null;
  let count = 0;
  const cur = [];
  const walk = (i, left) => {
    if (i === tenants.length) {
      count++;
      const mean = defaultModel.predict(systemSetup(tenants, cur, cores)).meanResponseMs;
      if (!Number.isFinite(mean) || (best !== null && mean >= best.meanMs)) return;
      if (screen.evaluate(cur).violation > 0) return;
      best = { choices: [...cur], meanMs: mean };
      return;
    }
    for (const c of opts[i]) {
      if (c.cores > left) continue;
      cur.push(c);
      walk(i + 1, left - c.cores);
      cur.pop();
    }
  };
  walk(0, cores);
  return { best, count };
}

const mixes = MULTI_TENANT_MIXES;
/** SLO variants: [tenant index, factor × the free plan's quantile, percentile]. */
const variants = [
  { label: 'mild', slos: [[0, 0.95, 'p99']] },
  {
    label: 'two',
    slos: [
      [0, 0.9, 'p99'],
      [1, 0.9, 'p95'],
    ],
  },
  { label: 'tight', slos: [[1, 0.5, 'p99']] },
];

const cores = 4;
const results = [];
const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const cell = (s) => (s === null ? '' : `${f(100 * s.within, 1)} %${s.met ? ' ✓' : ' ✗'}`);
log();
log(
  `${'workload'.padEnd(58)} ${'SLOs'.padEnd(34)} ${'swapless'.padStart(20)} ${'slo'.padStart(20)} ${'adaptive'.padStart(20)} ${'exhaustive'.padStart(20)}  shed`,
);
const screenChecks = [];
const decisionMs = [];
for (const mix of quick ? mixes.slice(0, 2) : mixes) {
  const base = [];
  for (const [name, u] of mix) {
    const cat = await catalog(name);
    base.push({ name, catalog: cat, rate: (u * 1000) / wholeTpuMs(cat) });
  }
  const free = fastSearch(base, cores);
  const freeTails = responseDistributions(systemSetup(base, free.choices, cores));
  for (const v of variants) {
    const tenants = base.map((t) => ({ ...t }));
    for (const [i, factor, pct] of v.slos) {
      tenants[i].sloMs = +(factor * freeTails[i].quantileMs(sloLevel(pct))).toFixed(1);
      tenants[i].sloPercentile = pct;
    }
    const t0 = performance.now();
    const plan = sloPlan(tenants, cores, free.choices, { bestMeanMs: free.meanResponseMs });
    decisionMs.push(performance.now() - t0);
    const ex = exhaustive(tenants, cores);
    const run = runPolicyInSim({ tenants, cores, durationMs, warmupMs, seed: 1 }, createPolicy('swapless'), {
      quantiles: 'sketch',
    });
    const adaptive = {
      meanMs: run.meanResponseMs,
      tenants: run.tenants.map((t, i) => sloOf(tenants[i], { ...t, cdfMs: run.sim.tenants[i].cdfMs })),
      shed: run.tenants.map((t) => t.shed ?? 0),
    };
    const rows = {
      swapless: simulated(tenants, free.choices, cores),
      slo: simulated(tenants, plan.choices, cores),
      adaptive,
      exhaustive: ex.best === null ? null : simulated(tenants, ex.best.choices, cores),
    };
    // The screen against the exact model and the simulator, for the SLO plan's configuration.
    const exact = responseDistributions(systemSetup(tenants, plan.choices, cores));
    tenants.forEach((t, i) => {
      if (t.sloMs === undefined) return;
      screenChecks.push({
        screen: plan.miss[i],
        exact: 1 - exact[i].cdf(t.sloMs),
        simulated: 1 - rows.slo.tenants[i].within,
      });
    });
    const label = `${tenants.map((t) => `${t.name}@${t.rate.toFixed(1)}`).join('+')} ${v.label}`;
    const slos = tenants
      .filter((t) => t.sloMs !== undefined)
      .map((t) => `${t.name.slice(0, 10)} ${t.sloPercentile}≤${t.sloMs}`)
      .join(', ');
    const col = (r) => {
      if (r === null) return 'infeasible'.padStart(20);
      const s = r.tenants
        .filter((x) => x !== null)
        .map(cell)
        .join(' ');
      return `${f(r.meanMs, 1)} ${s}`.padStart(20);
    };
    log(
      `${label.slice(0, 58).padEnd(58)} ${slos.slice(0, 34).padEnd(34)} ${col(rows.swapless)} ${col(rows.slo)} ${col(rows.adaptive)} ${col(rows.exhaustive)}  ${plan.admit
        .map((a, i) => (a < 1 ? `${tenants[i].name} ${f(100 * (1 - a), 0)} %` : ''))
        .filter(Boolean)
        .join(', ')}`,
    );
    results.push({
      label,
      slos: tenants.map((t) =>
        t.sloMs === undefined ? null : { sloMs: t.sloMs, percentile: t.sloPercentile },
      ),
      feasible: ex.best !== null,
      configurations: ex.count,
      plan: { choices: plan.choices, admit: plan.admit, reason: plan.reason, meanMs: plan.meanResponseMs },
      exhaustiveMeanMs: ex.best?.meanMs ?? null,
      freeMeanMs: free.meanResponseMs,
      simulated: rows,
    });
  }
}

// --- summary
const met = (key, where) => {
  const pairs = results
    .filter(where)
    .flatMap((r) => (r.simulated[key]?.tenants ?? []).filter((x) => x !== null));
  return { met: pairs.filter((x) => x.met).length, of: pairs.length };
};
const feasible = (r) => r.feasible;
const summary = {
  workloads: results.length,
  feasible: results.filter(feasible).length,
  sloMet: {
    swapless: met('swapless', feasible),
    slo: met('slo', feasible),
    adaptive: met('adaptive', feasible),
    exhaustive: met('exhaustive', feasible),
  },
  infeasibleSloMet: met('slo', (r) => !r.feasible),
  meanOverExhaustive: results
    .filter((r) => r.feasible && r.plan.admit.every((a) => a === 1))
    .map((r) => r.plan.meanMs / r.exhaustiveMeanMs),
  meanOverFree: results
    .filter((r) => r.plan.admit.every((a) => a === 1))
    .map((r) => r.plan.meanMs / r.freeMeanMs),
  screen: screenChecks,
  decisionMs: {
    max: Math.max(...decisionMs),
    median: decisionMs.sort((a, b) => a - b)[decisionMs.length >> 1],
  },
};
const share = (x) => `${x.met}/${x.of} (${x.of === 0 ? '—' : f((100 * x.met) / x.of, 1)} %)`;
const med = (xs) => (xs.length === 0 ? Number.NaN : [...xs].sort((a, b) => a - b)[xs.length >> 1]);
log();
log(
  `SLOs met in simulation where exhaustive says feasible (${summary.feasible}/${summary.workloads} workloads): swapless ${share(summary.sloMet.swapless)}, slo ${share(summary.sloMet.slo)} (target ≥ 99 %), adaptive ${share(summary.sloMet.adaptive)}, exhaustive ${share(summary.sloMet.exhaustive)}`,
);
log(
  `Where infeasible (load shed by admission control): slo meets ${share(summary.infeasibleSloMet)} of the SLOs`,
);
log(
  `Predicted mean of slo / exhaustive (feasible, nothing shed): median ${f(med(summary.meanOverExhaustive), 3)}, max ${f(Math.max(...summary.meanOverExhaustive), 3)}; slo / swapless: median ${f(med(summary.meanOverFree), 3)}`,
);
const ratio = (a, b) => summary.screen.filter((c) => c[b] > 0).map((c) => c[a] / c[b]);
log(
  `Screen's miss probability at sloMs / exact model's: median ${f(med(ratio('screen', 'exact')), 3)}; / simulated: median ${f(med(ratio('screen', 'simulated')), 3)} (${summary.screen.length} SLOs)`,
);
log(
  `SLO plan (sloPlan, wall clock incl. the search and any shedding): median ${f(summary.decisionMs.median, 1)} ms, max ${f(summary.decisionMs.max, 1)} ms`,
);
if (json) console.log(JSON.stringify({ durationMs, results, summary }, null, 2));
