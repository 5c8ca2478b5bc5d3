// Model vs simulator: the default analytic latency model against the discrete-event simulator on a grid of
// configurations (zoo models, 1–4 tenants, several cuts, 1–4 cores, utilisation 0.1–0.9), both fed the same
// SystemSetup: TPU stages from the Edge TPU device model (emulated), CPU stages from measured profiles.
// Prints the mean-response MAPE overall and per region (low/high load × single/multi tenant), and for
// configurations whose heads are co-compiled in sets (2–4 tenants, random sets and compile orders: one caching
// token per set, the set's reload, streaming by compile order — issue 15 A; target ≤ 5 % MAPE).
// Switch-aware Edge TPU discipline (issue 15 B, bench/model-accuracy-switch.mjs): the default model's Edge TPU
// terms under that discipline against the simulator running it (target ≤ 5 % MAPE).
//   npm run build && npm run bench:model-accuracy [-- --configs 240] [-- --cocompiled 200] [-- --switch-aware 200]
//   [-- --plans 60] [-- --json]    (a count of 0 skips its section)

import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import {
  baselineChoices,
  buildCatalog,
  groupedTenants,
  planWorkload,
  systemSetup,
} from '@swapless/controller';
import { defaultModel, responseDistributions } from '@swapless/queueing';
import { simulate } from '@swapless/sim';
import { generateZooModel } from '@swapless/zoo';
import {
  atUtilization,
  switchAwareLines,
  switchAwareRows,
  switchAwareSummary,
  withHeads,
} from './model-accuracy-switch.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i === -1 ? fallback : args[i + 1];
};
const json = args.includes('--json');
const CONFIGS = Number(flag('--configs', 240));
const QUANTILE_LEVELS = [0.5, 0.95, 0.99];
const CORES = 4;
const MODELS = [
  'mobilenet_v1',
  'mobilenet_v2',
  'squeezenet',
  'efficientnet_edgetpu_s',
  'inception_v1',
  'resnet50_v1',
];
const log = (s) => process.stderr.write(`${s}\n`);

// A small seeded generator for the grid (the simulator has its own streams).
let state = 0x9e3779b9;
const rand = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

log(
  `model accuracy: catalogs for ${MODELS.length} zoo models (CPU times measured and cached; TPU times emulated)`,
);
const catalogs = {};
for (const name of MODELS) {
  const t0 = performance.now();
  const { path } = await generateZooModel(name);
  catalogs[name] = await buildCatalog(new Uint8Array(await readFile(path)), {
    name,
    device: 'usb3',
    threads: [1, 2],
    maxCuts: 8,
    repetitions: 20,
  });
  log(
    `  ${name}: ${catalogs[name].cuts.length} cuts, ${((performance.now() - t0) / 1000).toFixed(1)} s${catalogs[name].profile.cached ? ' (cached profile)' : ''}`,
  );
}

/** A random configuration of T tenants on CORES cores. */
function randomConfig(T) {
  const tenants = [];
  for (let i = 0; i < T; i++) {
    const catalog = catalogs[pick(MODELS)];
    tenants.push({ name: `t${i}`, rate: 0.5 + 1.5 * rand(), catalog });
  }
  const cuts = tenants.map((t) => pick(t.catalog.cuts));
  const withCpu = cuts.map((c) => c.cpu !== null);
  const m = withCpu.filter(Boolean).length;
  if (m > CORES) return null;
  // Each CPU stage gets one core, the rest go to random CPU stages.
  const cores = withCpu.map((w) => (w ? 1 : 0));
  for (let extra = CORES - m; extra > 0 && m > 0; extra--) {
    if (rand() < 0.5) continue;
    let j;
    do j = Math.floor(rand() * T);
    while (!withCpu[j]);
    cores[j]++;
  }
  const choices = cuts.map((c, i) => {
    if (c.cpu === null) return { k: c.k, cores: 0, mode: 'mg1' };
    const mode = c.cpu.has(cores[i]) && rand() < 0.7 ? 'mg1' : cores[i] >= 2 ? 'mgc' : 'mg1';
    return { k: c.k, cores: cores[i], mode };
  });
  return { tenants, choices };
}

const rows = [];
let attempts = 0;
while (rows.length < CONFIGS && attempts < CONFIGS * 20) {
  attempts++;
  const T = 1 + (rows.length % 4);
  const cfg = randomConfig(T);
  if (cfg === null) continue;
  const base = systemSetup(cfg.tenants, cfg.choices, CORES);
  const p0 = defaultModel.predict(base);
  const util0 = Math.max(p0.tenants[0].tpuUtilization, ...p0.tenants.map((t) => t.cpuUtilization));
  if (!(util0 > 0)) continue;
  const target = 0.1 + 0.8 * ((rows.length * 0.618034) % 1); // spread evenly over 0.1..0.9
  const scale = target / util0;
  const tenants = cfg.tenants.map((t) => ({ ...t, rate: t.rate * scale }));
  const system = systemSetup(tenants, cfg.choices, CORES);
  const predicted = defaultModel.predict(system);
  if (!predicted.stable) continue;
  const requests = target < 0.5 ? 200_000 : 600_000;
  const sim = simulate(system, { requests, warmupMs: 0, seed: 1000 + rows.length, quantiles: 'sketch' });
  const err = (predicted.meanResponseMs - sim.meanResponseMs) / sim.meanResponseMs;
  // Percentiles: the predicted response-time distribution against the simulator's (sketched, ±0.5 %) quantiles.
  const dists = responseDistributions(system);
  const quantileErrorsPct = Object.fromEntries(
    QUANTILE_LEVELS.map((p) => [
      p,
      system.tenants.map((_, i) => {
        const simulated = sim.tenants[i].cdfMs[Math.round(p * 100) - 1];
        return (100 * (dists[i].quantileMs(p) - simulated)) / simulated;
      }),
    ]),
  );
  rows.push({
    tenants: T,
    utilization: target,
    region: `${target < 0.5 ? 'low' : 'high'} load, ${T === 1 ? 'single' : 'multi'}-tenant`,
    predictedMs: predicted.meanResponseMs,
    simulatedMs: sim.meanResponseMs,
    errorPct: 100 * err,
    quantileErrorsPct,
    tpuUtilization: predicted.tenants[0].tpuUtilization,
    swaps: sim.swaps,
    setup: system.tenants
      .map(
        (t) =>
          `${t.name}:${tenants[Number(t.name.slice(1))].catalog.model}@k${t.k}/${t.cores}c/${t.cpu?.mode ?? '-'}`,
      )
      .join(' '),
  });
  if (rows.length % 40 === 0) log(`  ${rows.length}/${CONFIGS} configurations predicted and simulated`);
}

// Co-compiled head sets: random configurations of 2–4 tenants whose heads (k > 0) are grouped into one or two
// sets in a random compile order; the members' TPU stages are the set's (groupedTenants), the rest as above.
const CO_CONFIGS = Number(flag('--cocompiled', 200));
const coRows = [];
for (let attempt = 0; coRows.length < CO_CONFIGS && attempt < CO_CONFIGS * 20; attempt++) {
  const T = 2 + (coRows.length % 3);
  const cfg = withHeads(randomConfig(T));
  if (cfg === null) continue;
  const heads = cfg.heads;
  for (let i = heads.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [heads[i], heads[j]] = [heads[j], heads[i]];
  }
  const size = 2 + Math.floor(rand() * (heads.length - 1));
  const grouping = [heads.slice(0, size)];
  if (heads.length - size >= 2 && rand() < 0.5) grouping.push(heads.slice(size));
  const grouped = groupedTenants(cfg.tenants, cfg.choices, grouping);
  const target = 0.1 + 0.8 * ((coRows.length * 0.618034) % 1);
  const system = atUtilization(grouped, cfg.choices, CORES, target);
  if (system === null) continue;
  const predicted = defaultModel.predict(system);
  if (!predicted.stable) continue;
  const requests = target < 0.5 ? 200_000 : 600_000;
  const sim = simulate(system, { requests, warmupMs: 0, seed: 5000 + coRows.length, quantiles: 'sketch' });
  coRows.push({
    tenants: T,
    sets: grouping.map((g) => g.length),
    utilization: target,
    predictedMs: predicted.meanResponseMs,
    simulatedMs: sim.meanResponseMs,
    errorPct: (100 * (predicted.meanResponseMs - sim.meanResponseMs)) / sim.meanResponseMs,
    swaps: sim.swaps,
    setup: `${system.tenants.map((t) => `${t.name}:${cfg.tenants[Number(t.name.slice(1))].catalog.model}@k${t.k}`).join(' ')} sets ${grouping.map((g) => g.map((i) => `t${i}`).join('+')).join(', ')}`,
  });
  if (coRows.length % 50 === 0)
    log(`  ${coRows.length}/${CO_CONFIGS} co-compiled configurations predicted and simulated`);
}

const SWITCH_CONFIGS = Number(flag('--switch-aware', 200));
const switchRows = switchAwareRows({ randomConfig, rand, cores: CORES, log }, SWITCH_CONFIGS);

// Planning check: on random workloads, whenever the model predicts SwapLess's choice beats the default compiler
// (whole model on the Edge TPU), does the simulator agree?
const PLANS = Number(flag('--plans', 60));
const planRows = [];
for (let i = 0; planRows.length < PLANS && i < PLANS * 20; i++) {
  const T = 1 + (i % 3);
  const cores = rand() < 0.5 ? 2 : 4;
  const tenants = Array.from({ length: T }, (_, j) => ({
    name: `t${j}`,
    rate: 0.5 + 1.5 * rand(),
    catalog: catalogs[pick(MODELS)],
  }));
  const def = baselineChoices('default', tenants, cores);
  const p0 = defaultModel.predict(systemSetup(tenants, def, cores));
  const target = 0.2 + 0.65 * rand(); // default compiler's Edge TPU utilisation
  const scale = target / p0.tenants[0].tpuUtilization;
  const scaled = tenants.map((t) => ({ ...t, rate: t.rate * scale }));
  const sim = (system) => {
    const r = simulate(system, { requests: 200_000, seed: 77 + i, quantiles: 'sketch' });
    return { meanResponseMs: r.meanResponseMs, swaps: r.swaps, tenants: [] };
  };
  const plan = planWorkload(scaled, cores, defaultModel, { simulate: sim });
  const [sw, df] = plan.plans;
  planRows.push({
    tenants: T,
    cores,
    predictedGain: 1 - sw.prediction.meanResponseMs / df.prediction.meanResponseMs,
    simulatedGain: 1 - sw.simulated.meanResponseMs / df.simulated.meanResponseMs,
  });
}
const claimed = planRows.filter((r) => r.predictedGain > 0);
const confirmed = claimed.filter((r) => r.simulatedGain > 0);

const mape = (rs) => rs.reduce((s, r) => s + Math.abs(r.errorPct), 0) / Math.max(1, rs.length);
const regions = [...new Set(rows.map((r) => r.region))].sort();
const summary = {
  source: 'predicted (analytic) vs simulated (virtual time); TPU emulated, CPU measured',
  configurations: rows.length,
  cores: CORES,
  machineCores: availableParallelism(),
  mapePct: mape(rows),
  regions: regions.map((region) => {
    const rs = rows.filter((r) => r.region === region);
    return {
      region,
      configurations: rs.length,
      mapePct: mape(rs),
      maxAbsErrorPct: Math.max(...rs.map((r) => Math.abs(r.errorPct))),
    };
  }),
  // Per tenant and configuration: |predicted − simulated| / simulated of each quantile, mean and worst.
  quantiles: QUANTILE_LEVELS.map((p) => {
    const errs = rows.flatMap((r) => r.quantileErrorsPct[p].map(Math.abs)).sort((a, b) => a - b);
    const at = (q) => errs[Math.min(errs.length - 1, Math.floor(q * errs.length))] ?? null;
    return {
      level: p,
      tenantConfigurations: errs.length,
      mapePct: errs.reduce((a, b) => a + b, 0) / Math.max(1, errs.length),
      medianAbsErrorPct: at(0.5),
      p90AbsErrorPct: at(0.9),
      maxAbsErrorPct: errs[errs.length - 1] ?? null,
    };
  }),
  planCheck: {
    workloads: planRows.length,
    modelPredictsGain: claimed.length,
    simulatorConfirms: confirmed.length,
    medianSimulatedGainPct:
      100 * ([...claimed.map((r) => r.simulatedGain)].sort((a, b) => a - b)[claimed.length >> 1] ?? 0),
    worstSimulatedGainPct: 100 * Math.min(...claimed.map((r) => r.simulatedGain)),
  },
  worst: [...rows].sort((a, b) => Math.abs(b.errorPct) - Math.abs(a.errorPct)).slice(0, 5),
  coCompiled: {
    configurations: coRows.length,
    mapePct: mape(coRows),
    lowLoadMapePct: mape(coRows.filter((r) => r.utilization < 0.5)),
    highLoadMapePct: mape(coRows.filter((r) => r.utilization >= 0.5)),
    maxAbsErrorPct: Math.max(...coRows.map((r) => Math.abs(r.errorPct))),
    worst: [...coRows].sort((a, b) => Math.abs(b.errorPct) - Math.abs(a.errorPct)).slice(0, 3),
  },
  switchAware: switchAwareSummary(switchRows),
};
if (json) {
  console.log(JSON.stringify({ ...summary, rows, coRows, switchRows }, null, 2));
} else {
  console.log(
    `mean-response MAPE, default model vs simulator, ${rows.length} configurations (1–4 tenants, ${CORES} cores, utilisation 0.1–0.9)`,
  );
  console.log(`  overall: ${summary.mapePct.toFixed(2)} % (target ≤ 10 %)`);
  for (const r of summary.regions) {
    console.log(
      `  ${r.region.padEnd(26)} n=${String(r.configurations).padStart(3)}  MAPE ${r.mapePct.toFixed(2).padStart(6)} %  max |error| ${r.maxAbsErrorPct.toFixed(1)} %`,
    );
  }
  const co = summary.coCompiled;
  if (co.configurations > 0)
    console.log(
      `  co-compiled head sets: n=${co.configurations}  MAPE ${co.mapePct.toFixed(2)} % (target ≤ 5 %; low load ${co.lowLoadMapePct.toFixed(2)} %, high load ${co.highLoadMapePct.toFixed(2)} %)  max |error| ${co.maxAbsErrorPct.toFixed(1)} %`,
    );
  if (summary.switchAware.configurations > 0)
    for (const line of switchAwareLines(summary.switchAware)) console.log(line);
  console.log(
    'response-time percentiles (responseDistributions) vs simulator, per tenant and configuration:',
  );
  for (const q of summary.quantiles.filter((x) => x.tenantConfigurations > 0)) {
    console.log(
      `  p${String(q.level * 100).padEnd(2)} n=${q.tenantConfigurations}  MAPE ${q.mapePct.toFixed(2).padStart(6)} %  median |error| ${q.medianAbsErrorPct.toFixed(2)} %  90th ${q.p90AbsErrorPct.toFixed(2)} %  max ${q.maxAbsErrorPct.toFixed(1)} %`,
    );
  }
  const pc = summary.planCheck;
  if (pc.workloads > 0)
    console.log(
      `planning check on ${pc.workloads} random workloads (1–3 tenants, 2 or 4 cores, default-compiler TPU utilisation 0.2–0.85):`,
    );
  if (pc.workloads > 0)
    console.log(
      `  model predicts SwapLess beats the default compiler in ${pc.modelPredictsGain}; the simulator confirms ${pc.simulatorConfirms} ` +
        `(median simulated reduction ${pc.medianSimulatedGainPct.toFixed(1)} %, smallest ${pc.worstSimulatedGainPct.toFixed(1)} %)`,
    );
  if (summary.worst.length > 0) console.log('  worst configurations:');
  for (const w of summary.worst) {
    console.log(
      `    ${w.errorPct >= 0 ? '+' : ''}${w.errorPct.toFixed(1)} %  ρ=${w.utilization.toFixed(2)}  predicted ${w.predictedMs.toFixed(2)} ms, simulated ${w.simulatedMs.toFixed(2)} ms  ${w.setup}`,
    );
  }
}
