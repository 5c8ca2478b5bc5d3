/**
 * One tick's window as the control loop reads it (control-loop.ts): the runtime's observation turned into the
 * policy's tick input (arrival times on the policy's clock, stage times, variant loads) and into the per-tenant
 * figures of the window (rate, completions, mean and p99, emulation lag, SLO attainment) for the series.
 */
import type { LoadObservation, StageObservation, TickObservations } from '@swapless/controller';
import { quantile } from '@swapless/core';
import type { RuntimeObservation, RuntimeStats } from '@swapless/runtime';
import type { ServiceState } from './state.js';

/** Per-tenant figures of one tick window. */
export interface TickWindow {
  completed: number;
  meanMs: number | null;
  p99Ms: number | null;
  emulationLagMs: number | null;
  withinSlo: number | null;
}

/** What {@link tickObservations} makes of a window. */
export interface WindowObservations {
  /** The policy's tick input. */
  tick: TickObservations;
  /** Arrival rate of each tenant over the window, req/s. */
  windowRates: Map<string, number>;
  windows: Map<string, TickWindow>;
}

type TenantObservation = RuntimeObservation['tenants'][string];

/**
 * The tenant's arrival times on the policy's clock. The runtime bounds its observation lists (it drops the oldest
 * entries of a busy window): the counters are exact, so the dropped arrivals are put back evenly between the
 * window start and the first kept one.
 */
function arrivalTimes(obs: RuntimeObservation, o: TenantObservation, admitted: number, t0: number): number[] {
  const times: number[] = [];
  const missing = admitted - o.arrivalsMs.length;
  if (missing > 0) {
    const from = obs.fromMs;
    const to = o.arrivalsMs[0] ?? obs.toMs;
    for (let i = 0; i < missing; i++) times.push(from + ((to - from) * (i + 0.5)) / missing - t0);
  }
  for (const a of o.arrivalsMs) times.push(a - t0);
  return times;
}

/**
 * The tenant's measured stage times of the window, as the policy's stage observations; the TPU samples name the
 * device the tenant runs on (`device`, on a host with several: its catalog there is what they are compared with).
 */
function stageObservations(
  name: string,
  o: TenantObservation,
  stages: StageObservation[],
  device: string | undefined,
): void {
  for (let i = 0; i < o.tpuServiceMs.length; i++) {
    stages.push({
      tenant: name,
      stage: 'tpu',
      ...(device !== undefined ? { device } : {}),
      k: o.tpuAt[i]!,
      ms: o.tpuServiceMs[i]!,
      reload: o.tpuReload[i] === true,
      // Emulation lag of the head's outputs behind the device (0 for the real device).
      lagMs: o.emulationLagMs[i] ?? 0,
      computeMs: o.emulationComputeMs?.[i] ?? 0,
      returnMs: o.emulationReturnMs?.[i] ?? 0,
      poolWaitMs: o.emulationWaitMs?.[i] ?? 0,
    });
  }
  for (let i = 0; i < o.cpuServiceMs.length; i++) {
    const at = o.cpuAt[i]!;
    stages.push({
      tenant: name,
      stage: 'cpu',
      k: at.k,
      threads: at.mode === 'mg1' ? at.cores : 1,
      ms: o.cpuServiceMs[i]!,
      returnMs: o.cpuReturnMs?.[i] ?? 0,
    });
  }
}

/** Mean and p99 of the window's latencies (null without completions). */
function latencyFigures(latencyMs: readonly number[]): { meanMs: number | null; p99Ms: number | null } {
  if (latencyMs.length === 0) return { meanMs: null, p99Ms: null };
  const sorted = Float64Array.from(latencyMs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return { meanMs: sum / sorted.length, p99Ms: quantile(sorted, 0.99, 'nearest-rank') };
}

/**
 * The runtime's observation as the policy's tick input, plus per-window figures for the series. Advances each
 * tenant's counters (`lastAdmitted`, `lastCompleted`) and takes the variant loads recorded since the last tick.
 */
export function tickObservations(
  state: ServiceState,
  obs: RuntimeObservation,
  stats: RuntimeStats,
  windowMs: number,
): WindowObservations {
  const arrivals: Record<string, number[]> = {};
  const stages: StageObservation[] = [];
  const windowRates = new Map<string, number>();
  const windows = new Map<string, TickWindow>();
  for (const [name, o] of Object.entries(obs.tenants)) {
    const e = state.tenants.get(name);
    const st = stats.tenants[name];
    if (e === undefined || st === undefined) continue;
    const admitted = Math.max(0, st.admitted - e.lastAdmitted);
    const completed = Math.max(0, st.completed - e.lastCompleted);
    e.lastAdmitted = st.admitted;
    e.lastCompleted = st.completed;
    arrivals[name] = arrivalTimes(obs, o, admitted, state.t0);
    windowRates.set(name, (Math.max(admitted, o.arrivalsMs.length) * 1000) / windowMs);
    const { placement } = state;
    const device = placement.several ? placement.deviceOf(st.choice) : undefined;
    stageObservations(name, o, stages, device);
    const { meanMs, p99Ms } = latencyFigures(o.latencyMs);
    const lags = stats.emulation === null ? [] : o.emulationLagMs;
    const emulationLagMs = lags.length > 0 ? lags.reduce((a, b) => a + b, 0) / lags.length : null;
    const withinSlo = state.slo.record(name, e.sloMs, o.latencyMs);
    windows.set(name, { completed, meanMs, p99Ms, emulationLagMs, withinSlo });
  }
  const loads: LoadObservation[] = state.loads;
  state.loads = [];
  return { tick: { arrivals, stages, loads }, windowRates, windows };
}
