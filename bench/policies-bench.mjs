// Policies benchmark (run after `npm run build`): `npm run bench:policies [-- --json] [-- --duration 120]
// [-- --quick] [-- --mixes]`.
//
// Everything reported is SIMULATED (virtual time, @swapless/sim) on catalogs whose Edge TPU stages are EMULATED
// (device model, usb3) and whose CPU stages were MEASURED on this machine (profiler, auto cuts, 1 and 2 threads,
// 5 repetitions, cached). Every policy of one workload sees the same arrival times (seeded trace).
//
// 1. Stationary, single tenant for each large zoo model at 3 rates (30 / 60 / 90 % of what the default
//    compiler's Edge TPU call can serve), 2 cores; 2-, 3- and 4-tenant mixes, 4 cores (the last ones small models
//    that take turns fast: reload-heavy). Per workload: mean response of swapless+, swapless, oracle, default,
//    cpu, fixed; swapless/oracle (target ≤ 1.05), reduction vs default, and for swapless+ (co-compiled head sets,
//    issue 15 A, and the Edge TPU queue discipline, issue 15 B: FIFO or switch-aware, printed per workload):
//    swapless+/swapless (target ≤ 1.01); `sw+queue` is swapless with the discipline choice but no sets (what a
//    real Edge TPU can run today), swapless+/oracle where reloads take ≥ 20 % of the
//    oracle's Edge TPU busy time (target ≤ 0.85), and its median reduction vs default over multi-tenant mixes.
// 2. Step change of the rates: time until the configuration swapless has in effect simulates within 1.10 × the
//    new oracle (target ≤ 10 s simulated).
//
// `--device D` plans another Edge TPU profile (default usb3); `--cpu P` another CPU profile (default host): e.g.
// `-- --device devboard --cpu devboard-a53` is the Dev Board regime, with CPU stages MODELLED for its quad
// Cortex-A53 instead of measured (docs/cpu-profiles.md).

import { availableParallelism, cpus, loadavg } from 'node:os';
import { createPolicy, oracleSearch, runPolicyInSim } from '@swapless/controller';
import { MULTI_TENANT_MIXES, wholeTpuMs, zooCatalogs } from './zoo-catalogs.mjs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const durationMs = flag('--duration', quick ? 40 : 120) * 1000;
const text = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args[at + 1];
};
const device = text('--device', 'usb3');
const cpu = text('--cpu', 'host');
const warmupMs = durationMs / 10;
const log = (line = '') => {
  if (!json) console.log(line);
};
log(
  `SwapLess policies benchmark — ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, Node ${process.version}, load ${loadavg()[0].toFixed(2)}`,
);
log(
  `All latencies SIMULATED (${durationMs / 1000} s per run, ${warmupMs / 1000} s warm-up, seed 1); TPU emulated (${device}), ${cpu === 'host' ? 'CPU measured' : `CPU modelled for ${cpu}`}.`,
);

const catalog = zooCatalogs({ device, cpu });

const POLICIES = ['swapless+', 'sw+queue', 'swapless', 'oracle', 'default', 'cpu', 'fixed'];

/** A policy of the table: `sw+queue` is swapless with the Edge TPU discipline choice and no co-compiled sets. */
function policyOf(p) {
  if (p === 'sw+queue') return createPolicy('swapless', { discipline: true });
  return createPolicy(p, p === 'oracle' ? { durationMs, warmupMs, seed: 1, topN: 20 } : undefined);
}

/** The Edge TPU queue discipline of a decision, short: `fifo` or `switch-aware ≤B ms`. */
function disciplineLabel(d) {
  return d === undefined || d === 'fifo' ? 'fifo' : `switch-aware ≤${d.maxExtraWaitMs.toFixed(1)} ms`;
}

/** Share of the Edge TPU's busy time spent reloading in a run of static choices (separately compiled heads). */
function reloadShare(run, tenants) {
  const choices = run.decisions.at(-1).tenants;
  let reload = 0;
  let busy = 0;
  run.sim.tenants.forEach((t, i) => {
    const tpu = tenants[i].catalog.cuts.find((c) => c.k === choices[i].k)?.tpu;
    if (!tpu) return;
    reload += t.swaps * tpu.reloadMs;
    busy += t.completed * t.tpuServiceMs;
  });
  return busy > 0 ? reload / busy : 0;
}
async function runWorkload(label, tenants, cores) {
  const workload = { tenants, cores, durationMs, warmupMs, seed: 1 };
  const out = { label, cores, rates: tenants.map((t) => +t.rate.toFixed(2)), policies: {} };
  for (const p of POLICIES) {
    let policy;
    try {
      policy = policyOf(p);
      const run = runPolicyInSim(workload, policy);
      const last = run.decisions.at(-1);
      out.policies[p] = {
        meanMs: run.meanResponseMs,
        p99Ms: Math.max(...run.tenants.map((t) => t.p99Ms)),
        reconfigurations: run.reconfigurations,
        choices: last.tenants.map((c) => `${c.k}/${c.cores}${c.mode === 'mgc' ? 'w' : 't'}`).join(' '),
        sets: last.sets ?? [],
        discipline: disciplineLabel(last.discipline),
      };
      if (p === 'oracle') out.oracleReloadShare = reloadShare(run, tenants);
    } catch (e) {
      out.policies[p] = { meanMs: Number.NaN, error: e.message.slice(0, 60) };
    }
  }
  const s = out.policies.swapless.meanMs;
  const plus = out.policies['swapless+'].meanMs;
  out.tenants = tenants.length;
  out.swaplessOverOracle = s / out.policies.oracle.meanMs;
  out.reductionVsDefault = 1 - s / out.policies.default.meanMs;
  out.plusOverSwapless = plus / s;
  out.plusOverOracle = plus / out.policies.oracle.meanMs;
  out.plusReductionVsDefault = 1 - plus / out.policies.default.meanMs;
  out.queueOverSwapless = out.policies['sw+queue'].meanMs / s;
  const f = (x) => (Number.isFinite(x) ? x.toFixed(2).padStart(8) : '     n/a');
  const sets = out.policies['swapless+'].sets?.map((x) => x.join('+')).join(', ');
  log(
    `${label.padEnd(44)} ${POLICIES.map((p) => f(out.policies[p].meanMs)).join(' ')}   ${out.swaplessOverOracle.toFixed(3)}   ${(100 * out.reductionVsDefault).toFixed(1).padStart(5)} %   ${out.plusOverSwapless.toFixed(3)}   ${out.plusOverOracle.toFixed(3)}   ${(100 * (out.oracleReloadShare ?? 0)).toFixed(0).padStart(3)} %   ${(100 * out.plusReductionVsDefault).toFixed(1).padStart(5)} %   [${out.policies.swapless.choices}] vs oracle [${out.policies.oracle.choices}]; swapless+ [${out.policies['swapless+'].choices}]${sets ? ` sets ${sets}` : ''} queue ${out.policies['swapless+'].discipline ?? 'n/a'}; sw+queue ${out.queueOverSwapless.toFixed(3)} × swapless, queue ${out.policies['sw+queue'].discipline ?? 'n/a'}`,
  );
  return out;
}

const results = [];
log();
log(
  `${'workload (rates req/s)'.padEnd(44)} ${POLICIES.map((p) => p.padStart(8)).join(' ')}   sw/or   vs default   +/sw    +/or   reload  + vs def   [swapless k/cores] vs oracle; swapless+`,
);
// `--mixes`: only the multi-tenant workloads (and the step changes).
const singles = args.includes('--mixes')
  ? []
  : quick
    ? ['resnet50_v1', 'inception_v4']
    : ['resnet50_v1', 'inception_v4', 'resnet152_v2', 'vgg16', 'efficientnet_edgetpu_l'];
for (const name of singles) {
  const cat = await catalog(name);
  for (const u of [0.3, 0.6, 0.9]) {
    const rate = (u * 1000) / wholeTpuMs(cat);
    results.push(await runWorkload(`${name} @ ${rate.toFixed(1)}`, [{ name, catalog: cat, rate }], 2));
  }
}
const mixes = [
  ...MULTI_TENANT_MIXES,
  // Small models taking turns fast: reloads dominate separately compiled heads.
  [
    ['squeezenet', 0.25],
    ['mobilenet_v2', 0.25],
  ],
  [
    ['mobilenet_v1', 0.25],
    ['efficientnet_edgetpu_s', 0.25],
  ],
  [
    ['squeezenet', 0.17],
    ['mobilenet_v2', 0.17],
    ['efficientnet_edgetpu_s', 0.17],
  ],
  [
    ['squeezenet', 0.12],
    ['mobilenet_v1', 0.12],
    ['mobilenet_v2', 0.12],
    ['inception_v1', 0.08],
  ],
];
for (const mix of quick ? [mixes[0], mixes[4]] : mixes) {
  const tenants = [];
  for (const [name, u] of mix) {
    const cat = await catalog(name);
    tenants.push({ name, catalog: cat, rate: (u * 1000) / wholeTpuMs(cat) });
  }
  results.push(
    await runWorkload(tenants.map((t) => `${t.name} @ ${t.rate.toFixed(1)}`).join(' + '), tenants, 4),
  );
}
const ratios = results.map((r) => r.swaplessOverOracle).filter(Number.isFinite);
const reductions = results.map((r) => r.reductionVsDefault).filter(Number.isFinite);
log();
log(
  `swapless/oracle: median ${ratios.sort((a, b) => a - b)[ratios.length >> 1].toFixed(3)}, max ${Math.max(...ratios).toFixed(3)} (${ratios.filter((x) => x <= 1.05).length}/${ratios.length} ≤ 1.05); reduction vs default: median ${(100 * reductions.sort((a, b) => a - b)[reductions.length >> 1]).toFixed(1)} %, max ${(100 * Math.max(...reductions)).toFixed(1)} %`,
);

const multi = results.filter((r) => r.tenants > 1);
const plusRatios = results.map((r) => r.plusOverSwapless).filter(Number.isFinite);
const heavy = results.filter((r) => (r.oracleReloadShare ?? 0) >= 0.2);
const plusReductions = multi
  .map((r) => r.plusReductionVsDefault)
  .filter(Number.isFinite)
  .sort((a, b) => a - b);
const swReductions = multi
  .map((r) => r.reductionVsDefault)
  .filter(Number.isFinite)
  .sort((a, b) => a - b);
const coCompiled = {
  maxPlusOverSwapless: Math.max(...plusRatios),
  plusWithin1Pct: plusRatios.filter((x) => x <= 1.01).length,
  workloads: plusRatios.length,
  reloadHeavy: heavy.map((r) => ({
    label: r.label,
    reloadShare: r.oracleReloadShare,
    plusOverOracle: r.plusOverOracle,
  })),
  medianPlusReductionVsDefaultMulti: plusReductions[plusReductions.length >> 1],
  medianSwaplessReductionVsDefaultMulti: swReductions[swReductions.length >> 1],
};
const queued = results.filter((r) => r.policies['sw+queue'].discipline?.startsWith('switch-aware'));
log(
  `sw+queue (swapless + the discipline choice, no sets) chose switch-aware in ${queued.length}/${results.length} workloads; sw+queue/swapless there: ${queued.map((r) => r.queueOverSwapless.toFixed(3)).join(', ') || '—'}; max over all ${Math.max(...results.map((r) => r.queueOverSwapless).filter(Number.isFinite)).toFixed(3)}`,
);
coCompiled.queueOnly = queued.map((r) => ({
  label: r.label,
  discipline: r.policies['sw+queue'].discipline,
  queueOverSwapless: r.queueOverSwapless,
}));
const aware = results.filter((r) => r.policies['swapless+'].discipline?.startsWith('switch-aware'));
coCompiled.switchAware = aware.map((r) => ({
  label: r.label,
  discipline: r.policies['swapless+'].discipline,
  plusOverSwapless: r.plusOverSwapless,
}));
log(
  `swapless+ chose the switch-aware Edge TPU queue in ${aware.length}/${results.length} workloads (issue 15 B); swapless+/swapless there: ${aware.map((r) => r.plusOverSwapless.toFixed(3)).join(', ') || '—'}`,
);
log(
  `swapless+/swapless: max ${coCompiled.maxPlusOverSwapless.toFixed(3)} (${coCompiled.plusWithin1Pct}/${coCompiled.workloads} ≤ 1.01, target all)`,
);
log(
  `reload-heavy workloads (reloads ≥ 20 % of the oracle's Edge TPU busy time): ${heavy.length}; swapless+/oracle ${heavy.map((r) => r.plusOverOracle.toFixed(3)).join(', ') || '—'} (target ≤ 0.85 each: ${heavy.filter((r) => r.plusOverOracle <= 0.85).length}/${heavy.length})`,
);
log(
  `median reduction vs default over ${multi.length} multi-tenant workloads: swapless+ ${(100 * coCompiled.medianPlusReductionVsDefaultMulti).toFixed(1)} %, swapless ${(100 * coCompiled.medianSwaplessReductionVsDefaultMulti).toFixed(1)} % (target ≥ 60 % is for issue 15 A+B+C together)`,
);

// --- 2. step change
log();
log(
  'Step change (rates swap at 60 s; 1 s ticks): time until swapless runs a configuration within 1.10 × the new oracle',
);
const steps = [];
const stepCases = [
  [
    ['mobilenet_v2', 0.6, 0.1],
    ['resnet50_v1', 0.1, 0.6],
  ],
  [
    ['inception_v4', 0.5, 0.1],
    ['efficientnet_edgetpu_l', 0.1, 0.5],
  ],
  [['resnet50_v1', 0.3, 0.9]],
];
for (const c of stepCases) {
  const tenants = [];
  const after = {};
  for (const [name, u0, u1] of c) {
    const cat = await catalog(name);
    tenants.push({ name, catalog: cat, rate: (u0 * 1000) / wholeTpuMs(cat) });
    after[name] = (u1 * 1000) / wholeTpuMs(cat);
  }
  const cores = tenants.length === 1 ? 2 : 4;
  const stepMs = 60_000;
  const run = runPolicyInSim(
    {
      tenants,
      cores,
      durationMs: 150_000,
      warmupMs: 10_000,
      seed: 2,
      phases: [{ atMs: stepMs, rates: after }],
    },
    createPolicy('swapless'),
  );
  const newTenants = tenants.map((t) => ({ ...t, rate: after[t.name] }));
  const evalOpts = { durationMs: 90_000, warmupMs: 9000, seed: 2 };
  const oracle = oracleSearch({ tenants: newTenants, cores }, { ...evalOpts, topN: 20 })[0];
  const simulateChoices = (choices) =>
    runPolicyInSim(
      { tenants: newTenants, cores, ...evalOpts },
      {
        name: 'static',
        initial: () => ({ tenants: choices, predictedMs: Number.NaN, reason: '' }),
        onTick: () => null,
      },
    ).meanResponseMs;
  // Configurations in effect from the step on: the one at the step, then each later decision.
  const inEffect = [
    run.decisions.filter((d) => d.atMs <= stepMs).at(-1),
    ...run.decisions.filter((d) => d.atMs > stepMs),
  ];
  let recoveredAt = Number.POSITIVE_INFINITY;
  const trail = [];
  for (let i = inEffect.length - 1; i >= 0; i--) {
    const ms = simulateChoices(inEffect[i].tenants);
    trail.unshift({ atMs: inEffect[i].atMs, simulatedMs: ms });
    if (ms <= 1.1 * oracle.simulatedMs) recoveredAt = Math.max(stepMs, inEffect[i].atMs);
    else break;
  }
  const s = {
    label: c.map(([n, u0, u1]) => `${n} ${u0}→${u1}`).join(' + '),
    oracleMs: oracle.simulatedMs,
    recoverySeconds: (recoveredAt - stepMs) / 1000,
    reconfigurations: run.reconfigurations,
    decisions: trail,
  };
  steps.push(s);
  log(
    `  ${s.label.padEnd(60)} new oracle ${oracle.simulatedMs.toFixed(2)} ms; swapless configs after the step: ${trail.map((t) => `${(t.atMs / 1000).toFixed(0)} s → ${t.simulatedMs.toFixed(2)} ms`).join(', ')}; within 1.10× after ${s.recoverySeconds} s`,
  );
}
if (json)
  console.log(JSON.stringify({ durationMs, device, cpu, stationary: results, coCompiled, steps }, null, 2));
