/**
 * `swapless bench --mode live`: one policy driving the real runtime (real TFLite CPU stages on worker threads,
 * the Edge TPU emulated in real time; timing-only by default, functional on request) under open-loop Poisson arrivals — the same arrival
 * times for every policy (same seed). Latencies are measured end to end; the TPU part of each is emulated.
 */
import type { Decision, TensorArray } from '@swapless/contracts';
import {
  type Policy,
  type PolicyRunTenant,
  poissonArrivals,
  type RatePhase,
  type StageObservation,
} from '@swapless/controller';
import { quantile } from '@swapless/core';
import { createRuntime, type RequestTrace, type RuntimeObservation } from '@swapless/runtime';
import { SeededRandom } from '@swapless/tflite';
import { inputsFor } from './inference.js';
import type { PreparedTenant } from './workload-file.js';

/** Result of one policy's live run (same shape as the simulated one where it overlaps). */
export interface LiveRun {
  policy: string;
  source: string;
  meanResponseMs: number;
  tenants: (PolicyRunTenant & {
    cdfMs: number[];
    /** Per-stage means from the runtime's traces (same meaning as the simulator's per-tenant stage means). */
    stages: LiveStageMeans;
  })[];
  rejected: number;
  reconfigurations: number;
  /** The initial decision at 0 and every one the policy took after it (live ms since the start). */
  decisions: (Decision & { atMs: number })[];
  series: { windowMs: number; meanResponseMs: number[] };
}

/** Per-stage means of one tenant's completed requests, ms (from the runtime's request traces). */
export interface LiveStageMeans {
  /** Submit time − scheduled (Poisson) arrival time: lateness of the arrival generator. */
  submitLagMs: number;
  tpuWaitMs: number;
  /** TPU stage as it lasted (start → end), reloads included. */
  tpuServiceMs: number;
  /** TPU stage as the device model says (what the simulator uses). */
  tpuModelledMs: number;
  /** Fraction of TPU calls that paid a reload. */
  reloadFraction: number;
  cpuWaitMs: number;
  /** Compute time inside the worker. */
  cpuServiceMs: number;
  /** Rest of the CPU stage: worker → main-thread return hop and output assembly. */
  cpuReturnMs: number;
}

/** Sums over one tenant's completed requests, for {@link stageMeans}: counts, then ms. */
interface StageSums {
  n: number;
  submitLag: number;
  tpuN: number;
  tpuWait: number;
  tpuService: number;
  tpuModelled: number;
  reloads: number;
  cpuN: number;
  cpuWait: number;
  cpuService: number;
  cpuReturn: number;
}

const stageMeans = (a: StageSums): LiveStageMeans => {
  const per = (x: number, n: number) => (n > 0 ? x / n : 0);
  return {
    submitLagMs: per(a.submitLag, a.n),
    tpuWaitMs: per(a.tpuWait, a.tpuN),
    tpuServiceMs: per(a.tpuService, a.tpuN),
    tpuModelledMs: per(a.tpuModelled, a.tpuN),
    reloadFraction: per(a.reloads, a.tpuN),
    cpuWaitMs: per(a.cpuWait, a.cpuN),
    cpuServiceMs: per(a.cpuService, a.cpuN),
    cpuReturnMs: per(a.cpuReturn, a.cpuN),
  };
};

/** Options of {@link runPolicyLive}. */
interface LiveOptions {
  cores: number;
  device: string;
  durationMs: number;
  seed: number;
  phases: readonly RatePhase[];
  tickMs?: number;
  cdfLevels: readonly number[];
  /** `timing-only` (default): no head computed, TPU time purely modelled; `functional`: heads computed on the CPU too. */
  functional?: boolean;
}

/** Runs `policy` live for `durationMs`. */
export async function runPolicyLive(
  policy: Policy,
  tenants: readonly PreparedTenant[],
  options: LiveOptions,
): Promise<LiveRun> {
  const tickMs = options.tickMs ?? 1000;
  const rt = await createRuntime({
    device: options.device as 'usb3',
    mode: options.functional ? 'functional' : 'timing-only',
    cores: options.cores,
  });
  const t0 = performance.now();
  const first = policy.initial({ tenants, cores: options.cores, device: options.device, nowMs: 0 });
  const decisions: LiveRun['decisions'] = [{ atMs: 0, ...first }];
  for (const [i, t] of tenants.entries())
    await rt.addTenant({ name: t.name, model: t.model, choice: first.tenants[i]! });
  // Co-compiled head sets (swapless+) are a unit of several tenants: applied once all of them are there.
  if (first.sets !== undefined) await rt.reconfigure(first);
  const inputs = await seededInputs(tenants, options.seed);
  const arrivals = poissonArrivals(tenants, {
    durationMs: options.durationMs,
    seed: options.seed,
    phases: options.phases,
  });
  const latencies = new Map<string, { at: number; ms: number }[]>(tenants.map((t) => [t.name, []]));
  const rejected = new Map<string, number>(tenants.map((t) => [t.name, 0]));
  const acc = new Map(
    tenants.map((t): [string, StageSums] => [
      t.name,
      {
        n: 0,
        submitLag: 0,
        tpuN: 0,
        tpuWait: 0,
        tpuService: 0,
        tpuModelled: 0,
        reloads: 0,
        cpuN: 0,
        cpuWait: 0,
        cpuService: 0,
        cpuReturn: 0,
      },
    ]),
  );
  const pending: Promise<void>[] = [];
  const events = tenants
    .flatMap((t) => Array.from(arrivals[t.name]!, (at) => ({ at, name: t.name })))
    .sort((a, b) => a.at - b.at);

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
  let next = 0;
  let nextTick = tickMs;
  const applying: Promise<unknown>[] = [];
  while (next < events.length || performance.now() - t0 < options.durationMs) {
    const now = performance.now() - t0;
    while (next < events.length && events[next]!.at <= now) {
      const e = events[next++]!;
      const started = performance.now();
      pending.push(
        rt.submit(e.name, inputs.get(e.name)!).then(
          ({ trace }) => {
            latencies.get(e.name)!.push({ at: e.at, ms: performance.now() - started });
            addTrace(acc.get(e.name)!, trace, started - t0 - e.at);
          },
          () => void rejected.set(e.name, rejected.get(e.name)! + 1),
        ),
      );
    }
    if (now >= nextTick) {
      nextTick += tickMs;
      const d = policy.onTick(tickObservation(rt.observe(), t0), now);
      if (d !== null) {
        decisions.push({ atMs: now, ...d });
        applying.push(rt.reconfigure(d).catch(() => undefined));
      }
    }
    if (next >= events.length && now >= options.durationMs) break;
    // From a fresh clock: submitting and the policy's tick above took time since `now`.
    const later = performance.now() - t0;
    await sleep(Math.min(next < events.length ? events[next]!.at - later : tickMs, nextTick - later));
  }
  await Promise.all(pending);
  await Promise.all(applying);
  await rt.close();
  return liveRunResult(policy, tenants, options, { windowMs: tickMs, latencies, rejected, acc, decisions });
}

/**
 * One fixed input per tenant: the run measures latency, and functional mode checks results itself. The seeded
 * inputs every SwapLess command uses (one stream across the tenants, in order).
 */
async function seededInputs(
  tenants: readonly PreparedTenant[],
  seed: number,
): Promise<Map<string, TensorArray[]>> {
  const inputs = new Map<string, TensorArray[]>();
  const rng = new SeededRandom(seed);
  for (const t of tenants) {
    const { createInterpreter } = await import('@swapless/edgetpu');
    const probe = createInterpreter(t.model);
    inputs.set(t.name, inputsFor(probe.inputs, rng, `tenant "${t.name}"`));
    probe.dispose();
  }
  return inputs;
}

/** Adds a completed request's stages to its tenant's sums (`submitLagMs`: how late it was submitted). */
function addTrace(a: StageSums, trace: RequestTrace, submitLagMs: number): void {
  a.n++;
  a.submitLag += submitLagMs;
  if (trace.tpu !== null) {
    a.tpuN++;
    a.tpuWait += trace.tpu.startMs - trace.tpu.enqueuedMs;
    a.tpuService += trace.tpu.endMs - trace.tpu.startMs;
    a.tpuModelled += trace.tpu.modelledMs ?? trace.tpu.endMs - trace.tpu.startMs;
    if (trace.tpu.reload) a.reloads++;
  }
  if (trace.cpu !== null) {
    a.cpuN++;
    a.cpuWait += trace.cpu.startMs - trace.cpu.enqueuedMs;
    a.cpuService += trace.cpu.computeMs;
    a.cpuReturn += trace.endMs - trace.cpu.startMs - trace.cpu.computeMs;
  }
}

/** What a policy's tick sees of the runtime's observation: arrivals (ms since `t0`) and stage times per tenant. */
function tickObservation(
  obs: RuntimeObservation,
  t0: number,
): { arrivals: Record<string, number[]>; stages: StageObservation[] } {
  const stages: StageObservation[] = [];
  const arrivals: Record<string, number[]> = {};
  for (const [name, o] of Object.entries(obs.tenants)) {
    arrivals[name] = o.arrivalsMs.map((a) => a - t0);
    for (const [i, ms] of o.tpuServiceMs.entries())
      stages.push({ tenant: name, stage: 'tpu', k: o.tpuAt[i]!, ms, reload: o.tpuReload[i] === true });
    o.cpuServiceMs.forEach((ms, i) => {
      const at = o.cpuAt[i]!;
      stages.push({ tenant: name, stage: 'cpu', k: at.k, threads: at.mode === 'mg1' ? at.cores : 1, ms });
    });
  }
  return { arrivals, stages };
}

/** The run's result from what it recorded: per-tenant quantiles and stage means, and the mean per window. */
function liveRunResult(
  policy: Policy,
  tenants: readonly PreparedTenant[],
  options: LiveOptions,
  recorded: {
    windowMs: number;
    latencies: ReadonlyMap<string, readonly { at: number; ms: number }[]>;
    rejected: ReadonlyMap<string, number>;
    acc: ReadonlyMap<string, StageSums>;
    decisions: LiveRun['decisions'];
  },
): LiveRun {
  const { windowMs, latencies, rejected, acc, decisions } = recorded;
  const windows = Math.ceil(options.durationMs / windowMs);
  const sums = new Float64Array(windows);
  const counts = new Float64Array(windows);
  const rows = tenants.map((t) => {
    const l = latencies.get(t.name)!;
    for (const x of l) {
      const w = Math.min(windows - 1, Math.floor(x.at / windowMs));
      sums[w]! += x.ms;
      counts[w]! += 1;
    }
    const sorted = l.map((x) => x.ms).sort((a, b) => a - b);
    const mean = sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length);
    return {
      name: t.name,
      meanMs: mean,
      p50Ms: quantile(sorted, 0.5, 'nearest-rank'),
      p95Ms: quantile(sorted, 0.95, 'nearest-rank'),
      p99Ms: quantile(sorted, 0.99, 'nearest-rank'),
      throughputPerS: (sorted.length * 1000) / options.durationMs,
      completed: sorted.length,
      rejected: rejected.get(t.name)!,
      cdfMs: options.cdfLevels.map((q) => quantile(sorted, q, 'nearest-rank')),
      stages: stageMeans(acc.get(t.name)!),
    };
  });
  const total = rows.reduce((s, r) => s + r.completed, 0);
  return {
    policy: policy.name,
    source: `measured (TPU emulated in real time, ${options.functional ? 'functional' : 'timing-only'})`,
    meanResponseMs: rows.reduce((s, r) => s + r.meanMs * r.completed, 0) / Math.max(1, total),
    tenants: rows,
    rejected: rows.reduce((s, r) => s + r.rejected, 0),
    reconfigurations: decisions.length - 1,
    decisions,
    series: {
      windowMs,
      meanResponseMs: Array.from(sums, (s, i) => (counts[i]! > 0 ? s / counts[i]! : Number.NaN)),
    },
  };
}
