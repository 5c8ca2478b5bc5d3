/**
 * The one object the parts of the service share (tenants.ts, control-loop.ts, planning.ts, read-models.ts): the
 * runtime, the settings, the tenants, the plan in force, the kept history and series. The `Service` facade makes
 * it and hands it to each part; no part keeps service state in a module global.
 */
import type { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import type { StoredModel, VariantStore } from '@swapless/compiler';
import type { ModelMetadata, TpuDiscipline } from '@swapless/contracts';
import {
  createPolicy,
  type LoadObservation,
  type Policy,
  type PolicyName,
  type Predictor,
  type TenantCatalog,
} from '@swapless/controller';
import { expected, InvalidArgumentError, NotFoundError } from '@swapless/core';
import type { HostedLatencyModel } from '@swapless/queueing';
import type { EdgeTpuBackendOptions, Runtime } from '@swapless/runtime';
import type { DeviceProfile } from '@swapless/tpu-emulator';
import { EmulationMonitor } from './emulation-monitor.js';
import { ClosedLoop } from './loop.js';
import { DeviceWindows, Placement } from './placement.js';
import { RefusalWindows } from './refusals.js';
import { SloAttainment } from './slo-attainment.js';
import type {
  DecisionRecord,
  PredictedStages,
  SeriesSample,
  ServiceEvents,
  ServiceOptions,
} from './types.js';

/** Policy tick times kept for the decision-time percentiles. */
export const DECISION_TIMES = 1024;

/** What the service keeps per tenant. */
export interface TenantEntry {
  name: string;
  source: string;
  /** The model as the variant store holds it (parsed once; its bytes and sha256 are the tenant's). */
  stored: StoredModel;
  catalog: TenantCatalog;
  metadata: ModelMetadata;
  priorPerS: number;
  sloMs: number | null;
  sloPercentile: 'p95' | 'p99' | null;
  /** Current rate estimate, req/s. */
  ratePerS: number;
  predictedMs: number | null;
  predictedStages: PredictedStages | null;
  /** Runtime counters at the previous tick (for per-window deltas). */
  lastAdmitted: number;
  lastCompleted: number;
}

/**
 * The part of a decision beyond the tenants' choices: co-compiled head sets (tenant names in compile order; empty:
 * every head compiled alone) and the Edge TPU queue discipline.
 */
export interface Layout {
  sets: string[][];
  discipline: TpuDiscipline;
}

/** Options after validation (internal; made by settings.ts). */
export interface ServiceSettings {
  /** Profile name of each device (`ServiceOptions.devices`), in the runtime's device order. */
  deviceProfiles: (string | undefined)[];
  cores: number;
  edgetpu: EdgeTpuBackendOptions | null;
  tickMs: number;
  profile: DeviceProfile;
  policy: PolicyName | (() => Policy);
  historyLimit: number;
  seriesLimit: number;
  latencyModel: HostedLatencyModel;
  variants: VariantStore;
}

/** The state of one service, shared by its parts (see the module comment). */
export interface ServiceState {
  /** The service itself, as the emitter of its events. */
  readonly events: EventEmitter<ServiceEvents>;
  readonly runtime: Runtime;
  readonly options: ServiceOptions;
  /** CPU cores of the tenants' CPU stages together. */
  readonly cores: number;
  /** Controller tick, ms. */
  readonly tickMs: number;
  readonly profile: DeviceProfile;
  /** The real Edge TPU's delegate settings (null when it is emulated): a compiled tenant is measured on it. */
  readonly edgetpu: EdgeTpuBackendOptions | null;
  /** The one home of the tenants' variants, shared with the runtime and the catalogues. */
  readonly variants: VariantStore;
  readonly policyFactory: () => Policy;
  /** Name of the policy in force (`'custom'` for a factory until it made one). */
  policyName: string;
  readonly predictor: Predictor & Pick<HostedLatencyModel['model'], 'fit'>;
  readonly latency: HostedLatencyModel;
  readonly historyLimit: number;
  readonly seriesLimit: number;
  /** Thread counts a CPU stage can get (1 … min(cores, host cores)). */
  readonly threads: number[];
  /** The tenants, in the order they were added. */
  readonly tenants: Map<string, TenantEntry>;
  readonly history: DecisionRecord[];
  readonly series: SeriesSample[];
  readonly emulation: EmulationMonitor;
  /** Ring of the last {@link DECISION_TIMES} policy tick times, ms. */
  readonly decisionTimes: Float64Array;
  decisionCount: number;
  lastDecisionMs: number | null;
  policy: Policy | null;
  /** Tenant order of the policy (its decisions' choices follow it). */
  planNames: string[];
  /** The co-compiled head sets and the Edge TPU queue discipline the runtime runs now (planning.ts). */
  inForce: Layout;
  /** What loading new variants cost since the last tick (the policy's switch-cost model learns from it). */
  loads: LoadObservation[];
  /** Number of the last decision record. */
  seq: number;
  ticks: number;
  readonly refusals: RefusalWindows;
  readonly slo: SloAttainment;
  /** Tail of the serial chain: tenant changes and ticks run one after the other. */
  chain: Promise<unknown>;
  closing: boolean;
  /** `performance.now()` at creation: the policy's time origin. */
  readonly t0: number;
  /** Online correction, front-end times and divergence (loop.ts). */
  readonly loop: ClosedLoop;
  /** Epoch ms of decision records and series samples. */
  readonly clock: () => number;
  /** The host's Edge TPUs and where the operator placed tenants (placement.ts). */
  readonly placement: Placement;
  readonly deviceWindows: DeviceWindows;
}

/** Makes the state of a new service whose events `events` emits. */
export function createState(
  events: EventEmitter<ServiceEvents>,
  runtime: Runtime,
  options: ServiceOptions,
  settings: ServiceSettings,
): ServiceState {
  const placement = new Placement(runtime.devices, settings.deviceProfiles);
  const loop = new ClosedLoop(options.policyOptions, settings.variants);
  if (placement.several) loop.devices = placement.devices;
  // A functional emulator's pool computes the heads: the loop models its queue (the emulation lag).
  loop.correction.setEmulation(runtime.stats().emulation?.workers ?? null);
  const chosen = settings.policy;
  return {
    events,
    runtime,
    options,
    cores: settings.cores,
    tickMs: settings.tickMs,
    profile: settings.profile,
    edgetpu: settings.edgetpu,
    variants: settings.variants,
    policyFactory:
      typeof chosen === 'string'
        ? () => createPolicy(chosen, loop.policyOptions(chosen, options.policyOptions) as never)
        : chosen,
    policyName: typeof chosen === 'string' ? chosen : 'custom',
    predictor: settings.latencyModel.model,
    latency: settings.latencyModel,
    historyLimit: settings.historyLimit,
    seriesLimit: settings.seriesLimit,
    threads: Array.from({ length: Math.min(settings.cores, availableParallelism()) }, (_, i) => i + 1),
    tenants: new Map(),
    history: [],
    series: [],
    emulation: new EmulationMonitor(),
    decisionTimes: new Float64Array(DECISION_TIMES),
    decisionCount: 0,
    lastDecisionMs: null,
    policy: null,
    planNames: [],
    inForce: { sets: [], discipline: 'fifo' },
    loads: [],
    seq: 0,
    ticks: 0,
    refusals: new RefusalWindows(),
    slo: new SloAttainment(),
    chain: Promise.resolve(),
    closing: false,
    t0: performance.now(),
    loop,
    clock: options.clock ?? Date.now,
    placement,
    deviceWindows: new DeviceWindows(),
  };
}

/** Runs `task` after every task queued before it: tenant changes and ticks never interleave. */
export function serial<T>(state: ServiceState, task: () => Promise<T>): Promise<T> {
  const run = state.chain.then(task);
  state.chain = run.catch(() => undefined);
  return run;
}

/** Milliseconds since the service was created (the policy's clock). */
export function sinceStart(state: ServiceState): number {
  return performance.now() - state.t0;
}

/**
 * Emits a service event to its listeners, if any. A listener's bug must not break the controller loop: what it
 * throws becomes a process warning.
 */
export function emitSafe<K extends keyof ServiceEvents>(
  state: ServiceState,
  event: K,
  ...args: ServiceEvents[K]
): void {
  const events = state.events;
  if (events.listenerCount(event) === 0) return;
  try {
    (events.emit as (e: K, ...a: ServiceEvents[K]) => boolean).call(events, event, ...args);
  } catch (error) {
    process.emitWarning(`A '${String(event)}' listener of the SwapLess service threw: ${message(error)}`);
  }
}

/** The `NotFoundError` for a name that is not a tenant (`details.reason` `'unknown-tenant'`). */
export function unknownTenant(name: unknown, tenants: string[]): NotFoundError {
  return new NotFoundError(expected('the name of a tenant', 'the tenant', name), {
    details: { reason: 'unknown-tenant', tenants },
  });
}

/** The tenant called `name`. @throws NotFoundError for a name that is not a tenant. */
export function entryOf(state: ServiceState, name: string): TenantEntry {
  const e = typeof name === 'string' ? state.tenants.get(name) : undefined;
  if (e === undefined) throw unknownTenant(name, [...state.tenants.keys()]);
  return e;
}

/** `value` when it is a finite number > 0. @throws InvalidArgumentError naming `what` otherwise. */
export function positiveNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(expected('a finite number > 0', what, value));
  }
  return value;
}

/** `x`, or null when it is not finite (the status shapes are JSON-safe). */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** The message of anything thrown. */
export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
