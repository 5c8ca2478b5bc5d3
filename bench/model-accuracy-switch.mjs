// Section of `npm run bench:model-accuracy`: the default model under the switch-aware Edge TPU discipline (issue
// 15 B) against the simulator running that discipline. Random configurations of 2–4 tenants on the zoo catalogs
// (TPU stages emulated, CPU stages measured), a third of them with two heads co-compiled (one shared token),
// reordering budgets from 0.5 to 5 reload times or 2 to 20 call times, utilisation 0.1–0.85 of the busiest queue
// under FIFO. The new terms are the Edge TPU's: its mean sojourn (wait + service with reloads), λ-weighted; the
// target is ≤ 5 % MAPE on it. The whole mean response (CPU stages included, as the FIFO sections) is reported too.

import { groupedTenants, meanReloadMs, systemSetup } from '@swapless/controller';
import { defaultModel } from '@swapless/queueing';
import { simulate } from '@swapless/sim';

/**
 * The system of `tenants` at `choices` with every rate scaled so that its busiest queue (the Edge TPU or a CPU
 * stage) has utilisation `target` under the FIFO model; null when nothing is loaded.
 */
export function atUtilization(tenants, choices, cores, target) {
  const p0 = defaultModel.predict(systemSetup(tenants, choices, cores));
  const util0 = Math.max(p0.tenants[0].tpuUtilization, ...p0.tenants.map((t) => t.cpuUtilization));
  if (!(util0 > 0)) return null;
  return systemSetup(
    tenants.map((t) => ({ ...t, rate: (t.rate * target) / util0 })),
    choices,
    cores,
  );
}

/** A random configuration with its Edge TPU tenants' indices (`heads`), or null when it has fewer than two. */
export function withHeads(cfg) {
  if (cfg === null) return null;
  const heads = cfg.choices.flatMap((c, i) => (c.k > 0 ? [i] : []));
  return heads.length < 2 ? null : { ...cfg, heads };
}

/** λ-weighted mean Edge TPU sojourn of the tenants with a TPU stage, from per-tenant waits and services. */
function tpuSojourn(system, perTenant, weightOf) {
  let sum = 0;
  let weight = 0;
  system.tenants.forEach((t, i) => {
    if (t.tpu === null) return;
    const w = weightOf(i);
    sum += w * (perTenant[i].tpuWaitMs + perTenant[i].tpuServiceMs);
    weight += w;
  });
  return weight > 0 ? sum / weight : Number.NaN;
}

/** A random reordering budget, ms: a multiple of the rate-weighted reload or of the call time. */
function randomBudget(system, rand) {
  const reload = meanReloadMs(system);
  const service = rateWeighted(
    system,
    system.tenants.map((t) => t.tpu?.serviceMs ?? 0),
  );
  const choices = [0.5, 1, 2, 5].map((x) => x * reload);
  choices.push(...[2, 5, 20].map((x) => x * service));
  return choices[Math.floor(rand() * choices.length)];
}

/**
 * Predicts and simulates `count` random switch-aware configurations; returns their rows.
 * @param ctx `{ randomConfig, rand, cores, log }` of the main bench (same catalogs and generator).
 */
export function switchAwareRows(ctx, count) {
  const { randomConfig, rand, cores, log } = ctx;
  const rows = [];
  for (let attempt = 0; rows.length < count && attempt < count * 20; attempt++) {
    const T = 2 + (rows.length % 3);
    const cfg = withHeads(randomConfig(T));
    if (cfg === null) continue;
    const heads = cfg.heads;
    const grouping = heads.length >= 3 && rand() < 0.5 ? [heads.slice(0, 2)] : [];
    const tenants = groupedTenants(cfg.tenants, cfg.choices, grouping);
    const target = 0.1 + 0.75 * ((rows.length * 0.618034) % 1);
    const scaled = atUtilization(tenants, cfg.choices, cores, target);
    if (scaled === null) continue;
    const maxExtraWaitMs = randomBudget(scaled, rand);
    const system = { ...scaled, discipline: { kind: 'switch-aware', maxExtraWaitMs } };
    const predicted = defaultModel.predict(system);
    const fifo = defaultModel.predict(scaled);
    if (!predicted.stable) continue;
    const requests = target < 0.5 ? 200_000 : 600_000;
    const sim = simulate(system, { requests, seed: 9000 + rows.length, quantiles: 'sketch' });
    const simTpu = tpuSojourn(system, sim.tenants, (i) => sim.tenants[i].completed);
    const predTpu = tpuSojourn(system, predicted.tenants, (i) => system.tenants[i].rate);
    const fifoTpu = tpuSojourn(system, fifo.tenants, (i) => system.tenants[i].rate);
    rows.push({
      tenants: T,
      coCompiled: grouping.length > 0,
      utilization: target,
      maxExtraWaitMs,
      tpuErrorPct: (100 * (predTpu - simTpu)) / simTpu,
      errorPct: (100 * (predicted.meanResponseMs - sim.meanResponseMs)) / sim.meanResponseMs,
      fifoModelTpuErrorPct: Number.isFinite(fifoTpu) ? (100 * (fifoTpu - simTpu)) / simTpu : Infinity,
      predictedSwitch: rateWeighted(
        system,
        predicted.tenants.map((t) => t.switchProbability),
      ),
      simulatedSwitch: sim.swaps / Math.max(1, sim.completed),
      predictedMs: predicted.meanResponseMs,
      simulatedMs: sim.meanResponseMs,
      maxOvertakenMs: sim.maxOvertakenMs,
    });
    if (rows.length % 50 === 0)
      log(`  ${rows.length}/${count} switch-aware configurations predicted and simulated`);
  }
  return rows;
}

/** Σ λ_i x_i / Σ λ_i over the tenants with a TPU stage. */
function rateWeighted(system, xs) {
  let s = 0;
  let w = 0;
  system.tenants.forEach((t, i) => {
    if (t.tpu === null) return;
    s += t.rate * xs[i];
    w += t.rate;
  });
  return s / w;
}

/** The section's summary (MAPE of the TPU terms and of the whole mean; the FIFO model on the same runs). */
export function switchAwareSummary(rows) {
  const mape = (xs) => xs.reduce((s, x) => s + Math.abs(x), 0) / Math.max(1, xs.length);
  const finite = rows.filter((r) => Number.isFinite(r.fifoModelTpuErrorPct));
  return {
    configurations: rows.length,
    tpuMapePct: mape(rows.map((r) => r.tpuErrorPct)),
    tpuLowLoadMapePct: mape(rows.filter((r) => r.utilization < 0.5).map((r) => r.tpuErrorPct)),
    tpuHighLoadMapePct: mape(rows.filter((r) => r.utilization >= 0.5).map((r) => r.tpuErrorPct)),
    tpuMaxAbsErrorPct: Math.max(...rows.map((r) => Math.abs(r.tpuErrorPct))),
    responseMapePct: mape(rows.map((r) => r.errorPct)),
    switchProbabilityMapePct: mape(
      rows.map((r) => (100 * (r.predictedSwitch - r.simulatedSwitch)) / Math.max(1e-9, r.simulatedSwitch)),
    ),
    fifoModelTpuMapePct: mape(finite.map((r) => r.fifoModelTpuErrorPct)),
    fifoModelUnstable: rows.length - finite.length,
    worst: [...rows].sort((a, b) => Math.abs(b.tpuErrorPct) - Math.abs(a.tpuErrorPct)).slice(0, 3),
  };
}

/** The section's lines for the text report. */
export function switchAwareLines(s) {
  const f = (x) => x.toFixed(2);
  return [
    `  switch-aware discipline: n=${s.configurations}  Edge TPU sojourn MAPE ${f(s.tpuMapePct)} % (target ≤ 5 %; low load ${f(s.tpuLowLoadMapePct)} %, high load ${f(s.tpuHighLoadMapePct)} %)  max |error| ${s.tpuMaxAbsErrorPct.toFixed(1)} %`,
    `    whole mean response MAPE ${f(s.responseMapePct)} %; switch probability MAPE ${f(s.switchProbabilityMapePct)} %; the FIFO model on the same runs: Edge TPU sojourn MAPE ${f(s.fifoModelTpuMapePct)} % (${s.fifoModelUnstable} predicted unstable)`,
    ...s.worst.map(
      (w) =>
        `    worst: ${w.tpuErrorPct >= 0 ? '+' : ''}${w.tpuErrorPct.toFixed(1)} %  ρ=${w.utilization.toFixed(2)} ${w.tenants} tenants${w.coCompiled ? ' (2 co-compiled)' : ''}, budget ${w.maxExtraWaitMs.toFixed(1)} ms`,
    ),
  ];
}
