/**
 * Public shapes of the service: its options, the status objects the adapters serialise (management API,
 * dashboard, Prometheus gauges, KServe metadata) and its event map. Everything here is plain data (JSON-safe:
 * no NaN, no Infinity — a missing figure is `null`).
 */

import type { VariantStore } from '@swapless/compiler';
import type {
  CpuMode,
  DeviceSetup,
  LatencyModel,
  NumericDatatype,
  SloPercentile,
  TpuDiscipline,
} from '@swapless/contracts';
import type { Policy, PolicyName, TickVerdict } from '@swapless/controller';
import type { ProgressListener } from '@swapless/core';
import type { Vetter } from '@swapless/edgetpu';
import type { LatencyModelChoice } from '@swapless/queueing';
import type {
  EdgeTpuBackendOptions,
  LatencySummary,
  ReconfigureEvent,
  RejectEvent,
  ReloadEvent,
  RequestTrace,
} from '@swapless/runtime';
import type { TenantDivergence } from './divergence.js';

/** Options of {@link createService}. */
export interface ServiceOptions {
  /**
   * The Edge TPU: an emulator profile name (`'usb3'` default, `'usb2'`, `'pcie'`, `'devboard'`), or
   * `{ edgetpu: {...} }` for the real delegate. With the real delegate, `profile` (default `'usb3'`) is the
   * device model the latency model and the compile reports use for the Edge TPU stages.
   */
  device?: string | { edgetpu: EdgeTpuBackendOptions; profile?: string; compilerPath?: string };
  /**
   * Several Edge TPUs on this host, each with its own FIFO queue: `{ id, profile? }` (profile default: the one of
   * `device`). Emulated: each device models its profile. Real (`device: { edgetpu }`): each id is the libedgetpu
   * device its delegate opens (`usb:0`, `pci:0`, …). The controller plans on them (`SystemSetup.devices`) and its
   * decisions' `device` is applied; a tenant a decision does not place runs on the first. Default: one device.
   * The catalogues (the Edge TPU stage's modelled times) use the first device's profile.
   */
  devices?: readonly DeviceSetup[];
  /**
   * CPU cores for the tenants' CPU stages together (default `max(1, availableParallelism() − 1)`: one core stays
   * with the main thread — event loop, HTTP, the TPU stage).
   */
  cores?: number;
  /** `functional` (default): results are the model's real outputs. `timing-only`: load tests (zero outputs). */
  mode?: 'functional' | 'timing-only';
  /**
   * Controller policy: a built-in name (default `'swapless'`), or a factory of a custom {@link Policy} (called
   * for every re-plan: a policy's tenant list is fixed).
   */
  policy?: PolicyName | (() => Policy);
  /** Options of a built-in policy (`createPolicy(policy, policyOptions)` of `@swapless/controller`). */
  policyOptions?: object;
  /**
   * The latency model the service predicts with and the swapless policy plans with: an id (`mg1-default`, an
   * installed plugin's model id such as `mg1-switchover`), a plugin package name or path, `{ id, options }`, or a
   * model instance. Resolved through the latency-model registry (docs/plugins.md): checked when it loads, every
   * prediction checked, and its `fit()` fed the runtime's measurements every tick. Default `mg1-default`
   * (or `policyOptions.model`, which cannot be combined with this).
   */
  latencyModel?: LatencyModelChoice | LatencyModel;
  /** Controller tick, ms (default 1000). */
  tickMs?: number;
  /** Per-tenant bound on requests in flight (default: the runtime's, 64). */
  queueLimit?: number;
  /** Profiling of new models (CPU stage samples; cached on disk by the profiler). */
  profiling?: { repetitions?: number; maxCuts?: number; cache?: boolean };
  /**
   * Where every tenant's variants come from — split, emulated compile report, compiled head — for the catalogues,
   * the runtime and the device view alike (default: `defaultVariantStore()` of @swapless/compiler).
   */
  variants?: VariantStore;
  /** Decisions kept by {@link Service.history} (default 500). */
  historyLimit?: number;
  /** Tick samples kept by {@link Service.series} (default 600: ten minutes at one tick a second). */
  seriesLimit?: number;
  /** Progress of catalog building (profiling) when a tenant is added. */
  onProgress?: ProgressListener;
  /**
   * Emulator settings passed to the runtime: real ms per modelled ms (default 1; 0 = do not wait the modelled
   * time out, for tests) and the jitter seed.
   */
  emulator?: { timeScale?: number; seed?: number };
  /**
   * Vetting of every new or changed model before this process loads it (default on): a short-lived child process
   * loads it with the interpreter options the service uses and invokes it once (`vetModel` of @swapless/edgetpu);
   * a model that kills it is refused with `ModelRejectedError`. `false` turns it off (trusted models only);
   * an object sets the child's limits and whether the verdict cache is used.
   */
  vetting?: boolean | ServiceVetting;
  /**
   * Epoch-ms clock of the tick samples, decisions and the divergence windows (default `Date.now`; tests inject a
   * simulated one).
   */
  clock?: () => number;
}

/** Limits of the vetting process (see {@link ServiceOptions.vetting}). */
export interface ServiceVetting {
  /** Time the vetting process may take, ms (default: `vetModel`'s, 30 s). */
  timeoutMs?: number;
  /** Resident memory it may use, bytes (default: `vetModel`'s). */
  memoryLimitBytes?: number;
  /** Use the verdict cache (default true). */
  cache?: boolean;
  /** The vetter (default: @swapless/edgetpu's shared one, which bounds vetting processes for the whole process). */
  vetter?: Vetter;
}

/** What {@link Service.addTenant} takes. */
export interface TenantSpec {
  /** Tenant name, matching `MODEL_NAME_PATTERN` of `@swapless/contracts` (it appears in URLs and metric labels). */
  name: string;
  /** The whole model (.tflite bytes). */
  model: Uint8Array;
  /** Where the model came from, for reports (e.g. `zoo:mobilenet_v1`, `repository:cam`). */
  source: string;
  /** Expected rate, requests per second: the prior of the rate estimate (default 1). */
  rate?: number;
  /** Latency objective, ms (reported; passed to the policy). */
  sloMs?: number;
  /** The percentile `sloMs` bounds: `p95` or `p99` (default `p99`); only with `sloMs`. */
  sloPercentile?: SloPercentile;
  /** This tenant's bound on requests in flight (default: the service's `queueLimit`). */
  queueLimit?: number;
  /**
   * The device its head runs on (one of `ServiceOptions.devices`' ids), whatever the controller decides; default:
   * where the controller places it.
   */
  device?: string;
}

/** @deprecated `NumericDatatype` of `@swapless/contracts`: the datatypes a served model's tensors have. */
export type KServeDatatype = NumericDatatype;

/** One tenant now. */
export interface TenantStatus {
  name: string;
  /** Where the model came from (the spec's `source`). */
  source: string;
  /** Compute ops of the model (cut points are 0..ops). */
  ops: number;
  /**
   * How the tenant is placed: `partitioned` (the controller chooses its cut and cores), `cpu-only` (nothing of
   * the model maps to the Edge TPU, e.g. a float model: always k = 0, the controller chooses its cores), or
   * `compiled` (an `*_edgetpu.tflite` served whole on a real Edge TPU: fixed at k = ops, no CPU stage) — with
   * the reason in one sentence (null for `partitioned`).
   */
  modelClass: { kind: 'partitioned' | 'cpu-only' | 'compiled'; reason: string | null };
  /** Current cut: ops [0,k) on the Edge TPU. */
  k: number;
  /** Current CPU cores of its CPU stage. */
  cores: number;
  mode: CpuMode;
  /** Id of the Edge TPU its head runs on (the runtime's first device for a tenant without a head). */
  device: string;
  /** True when the operator placed it there (`TenantSpec.device`, `moveTenant`): decisions do not move it. */
  pinned: boolean;
  sloMs: number | null;
  /**
   * The tenant's SLO live (null without `sloMs`): its percentile, the fraction of the requests completed since it
   * was added that finished within `sloMs` (null before the first), and whether that fraction reaches the
   * percentile; `admit` is the share of its requests admission control admits (1: none shed).
   */
  slo: {
    percentile: SloPercentile;
    attainment: number | null;
    completed: number;
    met: boolean | null;
  } | null;
  /** Share of its requests admitted (1 unless the controller sheds its load for other tenants' SLOs). */
  admit: number;
  rate: {
    /** Current estimate, req/s (the policy's estimator, else the arrivals of the last tick). */
    estimatedPerS: number;
    /** The rate the tenant was registered with. */
    priorPerS: number;
  };
  /** Latency model's mean response for the current configuration at the estimated rates, ms (null: unstable/none). */
  predictedMs: number | null;
  /** Measured end-to-end latencies over the runtime's trace window. */
  measured: LatencySummary;
  /** How the TPU part of the latencies was obtained (the CPU part is always measured; k = 0 has no TPU part: `measured`). */
  timing: 'emulated' | 'measured';
  admitted: number;
  completed: number;
  failed: number;
  /** Admitted, then dropped before they ran because they could no longer finish by their deadline (504). */
  expired: number;
  /** Refused at admission (queue full, deadline out of reach, or shutting down). */
  rejected: number;
  inFlight: number;
  queueLimit: number;
  /**
   * Compile report of the head [0,k) (emulated device model); null for k = 0 (no Edge TPU part) and for a
   * compiled model (its on-chip split is edgetpu_compiler's, inside the file).
   */
  tpu: { cachedBytes: number; streamedBytes: number; token: string } | null;
  /**
   * Measured / predicted mean response over the last 10 s of completions (front-end time included on both
   * sides), and since when (epoch ms) it has been more than 25 % off without a break (null while within).
   */
  divergence: TenantDivergence;
}

/** One configuration decision of the controller. */
export interface DecisionRecord {
  /** 1, 2, … in the order decisions were taken. */
  seq: number;
  /** When, epoch ms. */
  atMs: number;
  /**
   * `initial`: the first tenant's plan; `tick`: the policy changed its mind; `tenant-*`: re-planned for a change;
   * `divergence`: re-planned past the hysteresis because a tenant's measured mean stayed > 25 % off the prediction
   * for 10 s.
   */
  trigger: 'initial' | 'tick' | 'tenant-added' | 'tenant-removed' | 'divergence';
  /** One choice per tenant (every tenant of the plan); `device` only on a host with several devices. */
  choices: { name: string; k: number; cores: number; mode: CpuMode; device?: string }[];
  /**
   * Mean response predicted for it at the decision's rates, ms: the service's prediction (corrected model plus
   * emulation lag and front-end time, λ-weighted), or the policy's own when the service cannot predict it; null
   * when the policy has no finite prediction.
   */
  predictedMs: number | null;
  /** The policy's reason. */
  reason: string;
  /** Rates the decision was taken at, req/s. */
  rates: Record<string, number>;
  /** Time the policy took to decide (measured), ms. */
  decisionMs: number;
  /** True when the runtime runs this configuration now (or ran it: it was applied). */
  applied: boolean;
  /** Why applying failed. */
  error?: string;
  /**
   * Co-compiled head sets it decided (`Decision.sets`: tenant names in compile order; empty: every head compiled
   * alone — all but the `swapless+` policy).
   */
  sets: string[][];
  /** The Edge TPU queue discipline it decided (`Decision.discipline`; `fifo` unless `swapless+` chose otherwise). */
  discipline: TpuDiscipline;
}

/**
 * The functional emulator's head computation over the last 10 s: the host computes each head's outputs while the
 * emulated device keeps its modelled time, and a call whose outputs come after the device is done has waited for
 * the host (emulation lag), not for the Edge TPU.
 */
export interface EmulationStatus {
  /** More than 10 % of the window's head calls lagged the device by more than 0.5 ms. */
  lagging: boolean;
  /** Share of the window's head calls that lagged (null when none ran). */
  laggingFraction: number | null;
  /** Mean lag of the outputs behind the device's end over the window's calls, ms (null when none ran). */
  meanLagMs: number | null;
  /** Mean host compute time of a head over the window's calls, ms (null when none ran). */
  meanComputeMs: number | null;
  /** One sentence for people when lagging, else null. */
  message: string | null;
}

/**
 * How the host's cores are shared, as the service's predictions model it (with a functional emulator's pool only,
 * see `ClosedLoop.shareHost` and `hostContention` in `@swapless/controller`).
 */
export interface HostShareStatus {
  /** Cores of the host. */
  cores: number;
  /** Busy cores of the whole host over the last tick (niced processes excluded); null before a measure. */
  measuredBusyCores: number | null;
  /** Busy cores the CPU stages and the emulation pool of the configuration in force account for (predicted). */
  modelledBusyCores: number;
  /** What else keeps the cores busy (main thread, load generators, other processes): a moving average. */
  otherBusyCores: number;
  /** Per tenant: the stretch of its CPU stage and of the pool's head compute in the configuration in force. */
  stretch: Record<string, { cpu: number; pool: number }>;
}

/** Controller state. */
export interface ControllerStatus {
  policy: string;
  /** Id of the latency model (`mg1-default`, `mg1-switchover`, …). */
  latencyModel: string;
  /**
   * The latency model in full: id, package and version, `label` as every output names it
   * (`mg1-switchover (@swapless/latency-model-switchover@0.1.0)`), and `fitted`, the measurement windows fed to
   * its `fit()` so far (null for a model without `fit`).
   */
  latencyModelDetails: {
    id: string;
    package: string | null;
    version: string | null;
    label: string;
    fitted: number | null;
  };
  tickMs: number;
  /** Ticks run so far. */
  ticks: number;
  cores: number;
  /** Device profile name (of the emulator, or of the device model used for the real Edge TPU). */
  device: string;
  /** The Edge TPUs the controller plans on (`SystemSetup.devices`), the first being the default. */
  devices: DeviceSetup[];
  backend: 'emulated' | 'edgetpu';
  mode: 'functional' | 'timing-only';
  /** Decisions taken (initial, tick and tenant changes). */
  decisions: number;
  /** Reconfigurations the runtime completed. */
  reconfigurations: number;
  lastDecision: DecisionRecord | null;
  /** Time of one policy tick (`onTick`), measured over the last ticks, ms; null before the first tick with tenants. */
  decisionMs: { last: number | null; p50: number | null; p99: number | null; max: number | null };
  /** The functional emulator's head computation (null for the real device and in timing-only mode). */
  emulation: EmulationStatus | null;
  /** How the host's cores are shared by the CPU stages, the emulation pool and the rest (null without a pool). */
  hostShare: HostShareStatus | null;
  /**
   * Co-compiled head sets the runtime runs now (tenant names in compile order; members it serves, sets of ≥ 2);
   * empty: every head compiled alone. Set by the applied decisions (`swapless+`); the service's predictions use them.
   */
  sets: string[][];
  /**
   * The Edge TPU queue discipline in force: `fifo`, or `{ kind: 'switch-aware', maxExtraWaitMs }` (a call may
   * wait up to that much beyond its FIFO position so the device serves a run of one caching token).
   */
  discipline: TpuDiscipline;
  /**
   * The last tick's weighing by an adaptive policy: the best configuration its search found, its predicted gain
   * against the one in force, the switch cost, and why it switched or kept (`reason`, e.g. `relative gain 0.021 <
   * 0.03`). Null for a static policy and before the first tick.
   */
  lastVerdict: TickVerdict | null;
}

/**
 * A tenant's predicted mean response split by stage, ms; the parts add up to its predicted response. Set beside
 * the measured stage times (Prometheus `swapless_stage_duration_seconds`, `swapless_emulation_lag_seconds`), it says
 * which stage a prediction misses.
 */
export interface PredictedStages {
  /** Waiting for the Edge TPU (the device's FIFO). */
  tpuWaitMs: number;
  /** The device's time per call, with the expected reload. */
  tpuMs: number;
  /** The emulated head's outputs after the device's end (the emulation pool's wait and compute beyond the device). */
  emulationMs: number;
  /** Waiting for the CPU stage. */
  cpuWaitMs: number;
  /** The CPU stage. */
  cpuMs: number;
  /** The server's own time outside the runtime (HTTP, decode, encode, event-loop lateness). */
  frontendMs: number;
  /**
   * The emulation pool's compute of the tenant's head, ms (0 without a functional emulator or a head): not a part
   * of the response by itself — the lag (`emulationMs`) is what of it and of the pool's queue outlasts the device.
   */
  poolMs: number;
}

/** Per-tenant figures of one tick. */
export interface SeriesTenant {
  /** Estimated rate, req/s. */
  ratePerS: number;
  /** Requests completed during the tick window. */
  completed: number;
  /** Mean and p99 of the latencies completed during the tick window, ms (null when none completed). */
  meanMs: number | null;
  p99Ms: number | null;
  k: number;
  cores: number;
  inFlight: number;
  /** Predicted mean response at this tick, ms. */
  predictedMs: number | null;
  /** Where the predicted response goes, stage by stage (null when there is no prediction). */
  predictedStages: PredictedStages | null;
  /** Measured / predicted mean response over the divergence window at this tick (null: too few completions). */
  divergence: number | null;
  /**
   * Mean emulation lag of the head calls of the tick window, ms: how long outputs came after the emulated device
   * was done (null without head calls, on the real device and in timing-only mode).
   */
  emulationLagMs: number | null;
  /** Requests refused at admission during the tick window (HTTP 503: queue full, deadline out of reach, closing). */
  rejected: number;
  /** Fraction of the window's completed requests within the tenant's `sloMs` (null: no SLO or none completed). */
  withinSlo: number | null;
  /** Requests dropped during the tick window because they could no longer finish by their deadline (HTTP 504). */
  expired: number;
}

/** One controller tick. */
export interface SeriesSample {
  /** End of the tick window, epoch ms. */
  atMs: number;
  tenants: Record<string, SeriesTenant>;
  tpu: {
    /** Requests waiting for the Edge TPU at the end of the window. */
    queued: number;
    /** Cache reloads (token switches) during the window. */
    reloads: number;
    /** Share of the window the Edge TPU stage was busy (0..1). */
    busyFraction: number;
  };
  /** Time the policy took for this tick, ms (null without tenants). */
  decisionMs: number | null;
  /** The same per device, by id (`tpu` sums them). */
  devices: Record<string, { queued: number; reloads: number; busyFraction: number }>;
}

/** One tenant's head on the device. */
export interface DeviceTenant {
  name: string;
  k: number;
  /** Id of the Edge TPU it runs on. */
  device: string;
  /** Parameters cached in SRAM / streamed over the link per call, bytes (0 for k = 0). */
  cachedBytes: number;
  streamedBytes: number;
  /** Caching token of the head ('' for k = 0). */
  token: string;
}

/** The Edge TPU's state. */
export interface DeviceState {
  /** Device profile of the model (emulator profile, or the one used for the real device's reports). */
  profile: string;
  backend: 'emulated' | 'edgetpu';
  /** On-chip SRAM usable for parameters (SRAM − fixed reserve), bytes. */
  capacityBytes: number;
  /** Tenant whose head holds the caching token now (null when none ran yet or it is unknown). */
  holder: string | null;
  tenants: DeviceTenant[];
  /** Edge TPU calls, cache reloads and busy time since start. */
  calls: number;
  reloads: number;
  busyMs: number;
  /** Every Edge TPU of the host (one entry with one device); the fields above sum them (`holder`: the first's). */
  devices: DeviceUse[];
}

/** One Edge TPU of the host in {@link DeviceState}. */
export interface DeviceUse {
  id: string;
  /** Profile of its device model (null for a real device without one). */
  profile: string | null;
  /** Tenant whose head holds its caching token now (null: none yet, or unknown). */
  holder: string | null;
  /** Tenants whose heads run on it. */
  tenants: string[];
  queued: number;
  calls: number;
  reloads: number;
  busyMs: number;
}

/** What the Prometheus adapter reads on each scrape. */
export interface ServiceGauges {
  tenants: {
    name: string;
    k: number;
    cores: number;
    inFlight: number;
    ratePerS: number;
    predictedMs: number | null;
    /** Measured / predicted mean response over the divergence window (null: none). */
    divergence: number | null;
    /** Id of the Edge TPU its head runs on. */
    device: string;
    /** Its co-compiled set in force, members in compile order joined by `+` (absent: compiled alone). */
    set?: string;
  }[];
  tpuQueued: number;
  /**
   * The switch-aware discipline's bound on a call's extra wait beyond its FIFO position, ms (0: FIFO), in force on
   * every Edge TPU.
   */
  tpuReorderBudgetMs: number;
  /** Per Edge TPU: requests waiting and busy time since start, ms (utilisation is its rate of change). */
  devices: { id: string; queued: number; busyMs: number }[];
  backend: 'emulated' | 'edgetpu';
  /** `ControllerStatus.emulation.lagging` (null when there is no emulation). */
  emulationLagging: boolean | null;
  /** `ControllerStatus.hostShare`'s busy cores (null without a functional emulator's pool). */
  hostBusyCores: { measured: number | null; modelled: number; other: number } | null;
}

/** A tenant was added or removed. */
export interface TenantEvent {
  action: 'added' | 'removed';
  name: string;
}

/**
 * Event map of the service. `request`, `reject`, `reload` and `reconfigure` are the runtime's own events,
 * forwarded (a forwarder is attached to the runtime only while the service has a listener for that event).
 */
export interface ServiceEvents {
  decision: [DecisionRecord];
  tenant: [TenantEvent];
  tick: [SeriesSample];
  request: [RequestTrace];
  reject: [RejectEvent];
  reload: [ReloadEvent];
  reconfigure: [ReconfigureEvent];
}
