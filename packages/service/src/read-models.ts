/**
 * The service's read models: plain-data views of its state for the adapters — a tenant's status (management API,
 * dashboard), the controller's status, the decision history and tick series, the Edge TPU's state, and the cheap
 * gauges a metrics exporter reads on a scrape. They only read the shared state (and the runtime's stats).
 */
import { positiveInt, quantile, reorderBudgetMs } from '@swapless/core';
import type { RuntimeStats } from '@swapless/runtime';
import { MIB } from '@swapless/tpu-emulator';
import { deviceUses } from './placement.js';
import { DECISION_TIMES, type ServiceState, type TenantEntry } from './state.js';
import type {
  ControllerStatus,
  DecisionRecord,
  DeviceState,
  DeviceTenant,
  HostShareStatus,
  SeriesSample,
  ServiceGauges,
  TenantStatus,
} from './types.js';

/** Compile report of a tenant's head at cut k (emulated device model), from the variant store. */
function head(
  state: ServiceState,
  e: TenantEntry,
  k: number,
): { cachedBytes: number; streamedBytes: number; token: string } | null {
  // A compiled model's on-chip split is edgetpu_compiler's, inside the file: the device model cannot tell it.
  if (k === 0 || e.catalog.kind === 'compiled') return null;
  const report = state.variants.report(e.stored, k, state.profile)!;
  return {
    cachedBytes: report.onChipCachedBytes,
    streamedBytes: report.offChipStreamedBytes,
    token: report.cachingToken,
  };
}

/** Tenant `e` now, from the runtime's `stats`. */
export function tenantStatus(state: ServiceState, e: TenantEntry, stats: RuntimeStats): TenantStatus {
  const { placement, runtime } = state;
  const st = stats.tenants[e.name];
  const choice = st?.choice ?? { k: 0, cores: 0, mode: 'mg1' as const };
  return {
    name: e.name,
    source: e.source,
    ops: e.catalog.n,
    modelClass: { kind: e.catalog.kind, reason: e.catalog.reason },
    k: choice.k,
    cores: choice.cores,
    mode: choice.mode,
    device: placement.deviceOf(choice),
    pinned: placement.pinned(e.name) !== undefined,
    sloMs: e.sloMs,
    slo: state.slo.status(e.name, e.sloMs, e.sloPercentile),
    admit: st?.admit ?? 1,
    rate: { estimatedPerS: e.ratePerS, priorPerS: e.priorPerS },
    predictedMs: e.predictedMs,
    measured: st?.latency ?? { count: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0 },
    // No TPU stage at k = 0: the whole latency is measured on the CPU.
    timing: runtime.backend === 'edgetpu' || choice.k === 0 ? 'measured' : 'emulated',
    admitted: st?.admitted ?? 0,
    completed: st?.completed ?? 0,
    failed: st?.failed ?? 0,
    expired: st?.expired ?? 0,
    rejected: st === undefined ? 0 : st.rejected.overloaded + st.rejected.shuttingDown + st.rejected.shed,
    inFlight: st?.inFlight ?? 0,
    queueLimit: st?.queueLimit ?? 0,
    tpu: head(state, e, choice.k),
    divergence: { ...state.loop.divergence.status(e.name) },
  };
}

/** `Service.tenants`: every tenant now, in the order they were added. */
export function tenantStatuses(state: ServiceState): TenantStatus[] {
  const stats = state.runtime.stats();
  return [...state.tenants.values()].map((e) => tenantStatus(state, e, stats));
}

/** `Service.controller`: policy, tick, counts, the last decision and the measured time of a policy tick. */
export function controllerStatus(state: ServiceState): ControllerStatus {
  const stats = state.runtime.stats();
  const n = Math.min(state.decisionCount, DECISION_TIMES);
  const sorted = state.decisionTimes.slice(0, n).sort((a, b) => a - b);
  const { id, package: pkg, version, label } = state.latency;
  return {
    policy: state.policyName,
    latencyModel: id,
    latencyModelDetails: {
      id,
      package: pkg,
      version,
      label,
      fitted: typeof state.predictor.fit === 'function' ? state.loop.fitted : null,
    },
    tickMs: state.tickMs,
    ticks: state.ticks,
    cores: state.cores,
    device: state.profile.name,
    devices: state.placement.devices.map((d) => ({ ...d })),
    backend: state.runtime.backend,
    mode: state.runtime.mode,
    decisions: state.seq,
    reconfigurations: stats.reconfigurations.completed,
    lastDecision: state.history.at(-1) ?? null,
    decisionMs: {
      last: state.lastDecisionMs,
      p50: n > 0 ? quantile(sorted, 0.5, 'nearest-rank') : null,
      p99: n > 0 ? quantile(sorted, 0.99, 'nearest-rank') : null,
      max: n > 0 ? sorted[n - 1]! : null,
    },
    emulation: state.emulation.status(stats.emulation),
    hostShare: state.loop.hostShare,
    sets: state.inForce.sets.map((set) => [...set]),
    discipline: state.inForce.discipline,
    lastVerdict: state.policy?.lastVerdict ?? null,
  };
}

/**
 * `Service.history`: the last `limit` decisions (default: all kept), oldest first.
 * @throws InvalidArgumentError for a limit that is not an integer ≥ 0.
 */
export function decisionHistory(state: ServiceState, limit?: number): DecisionRecord[] {
  if (limit === undefined) return [...state.history];
  positiveInt(limit, 'the history limit', 0);
  return limit === 0 ? [] : state.history.slice(-limit);
}

/** `Service.series`: tick samples with `atMs` after `sinceMs` (epoch ms; default: all kept), oldest first. */
export function seriesSince(state: ServiceState, sinceMs?: number): SeriesSample[] {
  const series = state.series;
  if (sinceMs === undefined || !Number.isFinite(sinceMs)) return [...series];
  let i = series.length;
  while (i > 0 && series[i - 1]!.atMs > sinceMs) i--;
  return series.slice(i);
}

/** `Service.device`: capacity, token holder, each tenant's head (cached vs streamed bytes), call counters. */
export function deviceState(state: ServiceState): DeviceState {
  const { profile, runtime } = state;
  const stats = runtime.stats();
  const tenants: DeviceTenant[] = [];
  for (const e of state.tenants.values()) {
    const st = stats.tenants[e.name];
    if (st === undefined) continue;
    const h = head(state, e, st.choice.k);
    tenants.push({
      name: e.name,
      k: st.choice.k,
      device: state.placement.deviceOf(st.choice),
      cachedBytes: h?.cachedBytes ?? 0,
      streamedBytes: h?.streamedBytes ?? 0,
      token: h?.token ?? e.catalog.cuts.find((c) => c.k === st.choice.k)?.tpu?.token ?? '',
    });
  }
  return {
    profile: profile.name,
    backend: runtime.backend,
    capacityBytes: Math.max(0, Math.floor((profile.sramMiB - profile.fixedReserveMiB) * MIB)),
    holder: stats.tpu.holder?.tenant ?? null,
    tenants,
    calls: stats.tpu.calls,
    reloads: stats.tpu.reloads,
    busyMs: stats.tpu.busyMs,
    devices: deviceUses(stats.devices),
  };
}

/** `Service.gauges`: what a metrics exporter reads on a scrape (cheap: no percentiles). */
export function serviceGauges(state: ServiceState): ServiceGauges {
  const stats = state.runtime.stats();
  const tenants: ServiceGauges['tenants'] = [];
  const setOf = new Map(state.inForce.sets.flatMap((set) => set.map((n) => [n, set.join('+')] as const)));
  for (const e of state.tenants.values()) {
    const st = stats.tenants[e.name];
    if (st === undefined) continue;
    tenants.push({
      name: e.name,
      k: st.choice.k,
      cores: st.choice.cores,
      inFlight: st.inFlight,
      ratePerS: e.ratePerS,
      predictedMs: e.predictedMs,
      divergence: state.loop.divergence.status(e.name).ratio,
      device: state.placement.deviceOf(st.choice),
      ...(setOf.has(e.name) ? { set: setOf.get(e.name)! } : {}),
    });
  }
  const emulation = state.emulation.status(stats.emulation);
  return {
    tenants,
    tpuQueued: stats.tpu.queued,
    tpuReorderBudgetMs: reorderBudgetMs(state.inForce.discipline),
    devices: stats.devices.map((d) => ({ id: d.id, queued: d.queued, busyMs: d.busyMs })),
    backend: state.runtime.backend,
    emulationLagging: emulation === null ? null : emulation.lagging,
    hostBusyCores: hostBusy(state.loop.hostShare),
  };
}

/** The busy cores of a host share, for the metrics (null without one). */
function hostBusy(share: HostShareStatus | null): ServiceGauges['hostBusyCores'] {
  return share === null
    ? null
    : { measured: share.measuredBusyCores, modelled: share.modelledBusyCores, other: share.otherBusyCores };
}
