/**
 * Running a policy in the simulator, in virtual time, seeing only what a live system could see.
 *
 * Arrivals are a seeded Poisson trace ({@link poissonArrivals}) fed to the simulator as trace-driven tenants, so
 * every policy run with the same seed sees exactly the same arrival times. Every `tickMs` the simulation is
 * stepped (`Simulation.step`), the policy receives the arrivals of the last tick and stage-time observations
 * of the requests that completed in it, and its decision (if any) is applied with `Simulation.reconfigure`.
 *
 * Stage times: the simulator's tick state reports completions, not per-request stage times, so the runtime's
 * stage reports are reproduced here: for the c requests a tenant completed in the tick, `min(c, stageSamples)`
 * CPU times are drawn from the samples its *actual* setup uses (a separate seeded stream), and its TPU calls
 * are reported as the actual call time, with the tick's reloads (from the swap counter) as reloading calls. With
 * `actual` catalogs that differ from the policy's (e.g. a CPU 30 % slower than profiled) this is how the
 * correction is exercised.
 */
import type { Decision, DeviceSetup, TenantChoice, TpuDiscipline } from '@swapless/contracts';
import { expected, InvalidArgumentError, Xoshiro128 } from '@swapless/core';
import { type SimResult, type SimTenantSeries, type SimTickTenant, Simulation } from '@swapless/sim';
import { poissonArrivals, type RatePhase } from './arrivals.js';
import type { TenantCatalog } from './catalog.js';
import { groupedTenants, groupingOf } from './cocompile.js';
import { sameDiscipline } from './discipline.js';
import type { StageObservation } from './feedback.js';
import type { Policy, PolicyTenant } from './policy.js';
import { tenantSetup } from './setup.js';
import { admitted, ThinnedTraces } from './slo.js';

/** The workload a policy is run on. */
export interface SimWorkload {
  /** Tenants with their catalogs and initial (expected) rates. */
  tenants: readonly PolicyTenant[];
  cores: number;
  device?: string;
  /** The host's Edge TPUs (several: the policy places the tenants; see `PolicyContext.devices`). */
  devices?: readonly DeviceSetup[];
  /** Rate changes (as the workload file's phases). */
  phases?: readonly RatePhase[];
  durationMs: number;
  /** Excluded from the summary statistics, ms (default 0). */
  warmupMs?: number;
  seed?: number;
  /** The catalogs the simulated system really follows, by tenant name (default: the policy's). */
  actual?: Readonly<Record<string, TenantCatalog>>;
}

/** Options of {@link runPolicyInSim}. */
export interface RunPolicyOptions {
  /** Controller period, virtual ms (default 1,000). */
  tickMs?: number;
  /** Bounded queues (see the simulator); unbounded by default. */
  maxQueue?: number;
  /** At most this many CPU stage times reported per tenant and tick (default 20). */
  stageSamples?: number;
  /** Quantile mode of the simulator (default 'exact'). */
  quantiles?: 'exact' | 'sketch';
}

/** Summary of one tenant. */
export interface PolicyRunTenant {
  name: string;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  throughputPerS: number;
  completed: number;
  rejected: number;
  /** Measured arrivals refused by admission control (a decision's `admit` < 1); absent when none. */
  shed?: number;
}

/** One applied decision, and when (virtual ms). */
export interface AppliedDecision extends Decision {
  atMs: number;
}

/** Result of {@link runPolicyInSim}. All times are virtual (simulated). */
export interface PolicyRun {
  policy: string;
  source: 'simulated';
  meanResponseMs: number;
  tenants: PolicyRunTenant[];
  rejected: number;
  swaps: number;
  /** The initial decision at 0 and every reconfiguration after it. */
  decisions: AppliedDecision[];
  /** Reconfigurations after the initial decision. */
  reconfigurations: number;
  /** Per tick window: overall mean response (NaN when nothing completed) and the per-tenant series. */
  series: { windowMs: number; meanResponseMs: number[]; tenants: SimTenantSeries[] };
  /** The simulator's full result. */
  sim: SimResult;
}

/**
 * Runs `policy` on `workload` in the simulator (see the module comment).
 * @throws InvalidArgumentError for an invalid workload or a decision the simulator refuses.
 */
export function runPolicyInSim(
  workload: SimWorkload,
  policy: Policy,
  options: RunPolicyOptions = {},
): PolicyRun {
  const tickMs = options.tickMs ?? 1000;
  if (!(tickMs > 0)) throw new InvalidArgumentError(expected('a tick > 0 ms', 'runPolicyInSim', tickMs));
  const seed = workload.seed ?? 1;
  const names = workload.tenants.map((t) => t.name);
  const arrivals = poissonArrivals(workload.tenants, {
    durationMs: workload.durationMs,
    seed,
    ...(workload.phases ? { phases: workload.phases } : {}),
  });
  const actual = workload.tenants.map((t) => ({ ...t, catalog: workload.actual?.[t.name] ?? t.catalog }));
  // A decision's co-compiled sets give their members the set's TPU stages (see cocompile.ts).
  const setups = (d: Decision) => {
    const grouped = groupedTenants(actual, d.tenants, groupingOf(actual, d.sets));
    return grouped.map((t, i) => tenantSetup(t, d.tenants[i]!));
  };

  const first = policy.initial({
    tenants: workload.tenants,
    cores: workload.cores,
    ...(workload.device !== undefined ? { device: workload.device } : {}),
    ...(workload.devices !== undefined ? { devices: workload.devices } : {}),
    nowMs: 0,
  });
  const decisions: AppliedDecision[] = [{ atMs: 0, ...first }];
  const thinned = new ThinnedTraces(arrivals, seed);
  thinned.admit(0, admitted(first));
  let current: readonly TenantChoice[] = first.tenants;
  let live = setups(first);
  let liveDiscipline: TpuDiscipline = first.discipline ?? 'fifo';
  const sim = new Simulation(
    {
      tenants: live,
      cores: workload.cores,
      ...(workload.device ? { device: workload.device } : {}),
      ...(workload.devices !== undefined ? { devices: workload.devices } : {}),
      ...(first.discipline !== undefined ? { discipline: first.discipline } : {}),
    },
    {
      durationMs: workload.durationMs,
      warmupMs: workload.warmupMs ?? 0,
      seed,
      arrivals: thinned.traces,
      tickMs,
      seriesWindowMs: tickMs,
      quantiles: options.quantiles ?? 'exact',
      ...(options.maxQueue !== undefined ? { maxQueue: options.maxQueue } : {}),
    },
  );
  const pos = names.map(() => 0);
  const prevSwaps = names.map(() => 0);
  const draw = new Xoshiro128(seed, 7777);
  const stageSamples = options.stageSamples ?? 20;
  for (let s = sim.step(); s !== null; s = sim.step()) {
    const now = s.timeMs;
    const arr: Record<string, Float64Array> = {};
    const stages: StageObservation[] = [];
    names.forEach((name, i) => {
      const trace = arrivals[name]!;
      let j = pos[i]!;
      const from = j;
      while (j < trace.length && trace[j]! < now) j++;
      pos[i] = j;
      arr[name] = trace.subarray(from, j);
      const st = s.tenants[i]!;
      const swaps = st.swaps - prevSwaps[i]!;
      prevSwaps[i] = st.swaps;
      observedStages(name, st, swaps, draw, stageSamples, stages);
    });
    const d: Decision | null = policy.onTick({ arrivals: arr, stages }, now);
    if (d === null) continue;
    thinned.admit(now, admitted(d));
    const next = setups(d);
    const changed = d.tenants
      .map((c, i) => ({ c, i }))
      .filter(
        ({ c, i }) =>
          c.k !== current[i]!.k ||
          c.cores !== current[i]!.cores ||
          c.mode !== current[i]!.mode ||
          c.device !== current[i]!.device ||
          next[i]!.tpu?.token !== live[i]!.tpu?.token ||
          next[i]!.tpu?.serviceMs !== live[i]!.tpu?.serviceMs ||
          next[i]!.tpu?.reloadMs !== live[i]!.tpu?.reloadMs,
      );
    // The Edge TPU's queue discipline: a decision without one is FIFO.
    const discipline = d.discipline ?? 'fifo';
    const reordered = !sameDiscipline(discipline, liveDiscipline);
    if (changed.length === 0 && !reordered && d.tenants.every((c, i) => c.admit === current[i]!.admit))
      continue;
    if (changed.length > 0 || reordered)
      sim.reconfigure({ tenants: changed.map(({ i }) => next[i]!), ...(reordered ? { discipline } : {}) });
    liveDiscipline = discipline;
    current = d.tenants;
    live = next;
    decisions.push({ atMs: now, ...d });
  }
  const run = policyRunResult(policy, sim.finish(), decisions);
  for (const t of run.tenants) {
    const shed = thinned.shed(t.name, workload.warmupMs ?? 0);
    if (shed > 0) t.shed = shed;
  }
  return run;
}

/**
 * What the policy observes of tenant `name`'s stages in a tick, pushed to `stages`: its Edge TPU calls at the
 * modelled time (with and without a reload: `swaps` reloads this tick) and up to `stageSamples` CPU times drawn
 * from the samples the simulator uses.
 */
function observedStages(
  name: string,
  st: SimTickTenant,
  swaps: number,
  draw: Xoshiro128,
  stageSamples: number,
  stages: StageObservation[],
): void {
  const c = st.completed;
  if (c === 0) return;
  const setup = st.setup;
  if (setup.tpu !== null) {
    const reloads = Math.min(c, swaps);
    if (c - reloads > 0)
      stages.push({
        tenant: name,
        stage: 'tpu',
        k: setup.k,
        ms: setup.tpu.serviceMs,
        count: c - reloads,
      });
    if (reloads > 0)
      stages.push({
        tenant: name,
        stage: 'tpu',
        k: setup.k,
        ms: setup.tpu.serviceMs + setup.tpu.reloadMs,
        reload: true,
        count: reloads,
      });
  }
  if (setup.cpu !== null) {
    const m = Math.min(c, stageSamples);
    const xs = setup.cpu.samplesMs;
    let sum = 0;
    for (let q = 0; q < m; q++) sum += xs[Math.floor(draw.next() * xs.length)]!;
    const threads = setup.cpu.mode === 'mg1' ? setup.cores : 1;
    stages.push({ tenant: name, stage: 'cpu', k: setup.k, threads, ms: sum / m, count: m });
  }
}

/** The run's result from the simulator's: per-tenant figures, the decisions, and the overall mean per window. */
function policyRunResult(policy: Policy, result: SimResult, decisions: AppliedDecision[]): PolicyRun {
  const series = result.series!;
  const windows = series.tenants[0]?.completed.length ?? 0;
  const meanResponseMs: number[] = [];
  for (let w = 0; w < windows; w++) {
    let n = 0;
    let sum = 0;
    for (const t of series.tenants) {
      const c = t.completed[w]!;
      if (c > 0) {
        n += c;
        sum += c * t.meanResponseMs[w]!;
      }
    }
    meanResponseMs.push(n > 0 ? sum / n : Number.NaN);
  }
  return {
    policy: policy.name,
    source: 'simulated',
    meanResponseMs: result.meanResponseMs,
    tenants: result.tenants.map((t) => ({
      name: t.name,
      meanMs: t.meanResponseMs,
      p50Ms: t.p50Ms,
      p95Ms: t.p95Ms,
      p99Ms: t.p99Ms,
      throughputPerS: t.throughputPerS,
      completed: t.completed,
      rejected: t.rejected,
    })),
    rejected: result.rejected,
    swaps: result.swaps,
    decisions,
    reconfigurations: decisions.length - 1,
    series: { windowMs: series.windowMs, meanResponseMs, tenants: series.tenants },
    sim: result,
  };
}
