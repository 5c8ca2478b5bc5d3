/**
 * The description of one configured system that every latency model predicts for and the simulator runs:
 * which tenants share the Edge TPU, at which cut and CPU cores each runs, their request rates, and what
 * each stage costs. Latency models and the simulator consume this and nothing else, so a prediction and a
 * simulation of the same `SystemSetup` are directly comparable.
 *
 * Times are in milliseconds, rates in requests per second.
 */

/** Where a service time comes from: the Edge TPU device model, or a measurement. */
export type TimeSource = 'emulated' | 'measured';

/** The Edge TPU stage of one tenant at its cut (ops [0,k) on the device). */
export interface TpuStage {
  /**
   * Caching token of the compiled unit the tenant's segment belongs to. Segments compiled separately have
   * distinct tokens; co-compiled segments share one, and calls among them never reload.
   */
  token: string;
  /** Time of one call when the device already holds this token: overhead + I/O + compute + streamed parameters. */
  serviceMs: number;
  /** Variance of that time (0 for the deterministic device model; > 0 with jitter or measured). */
  serviceVarianceMs2: number;
  /** Extra time of a call that follows a call with another token: re-upload of the unit's cached parameters. */
  reloadMs: number;
  /** Where `serviceMs` and `reloadMs` come from. */
  source: TimeSource;
}

/** How a tenant's CPU stage serves requests. */
export type CpuMode =
  /** One request at a time using `cores` threads (one M/G/1 queue); samples are times at `cores` threads. */
  | 'mg1'
  /** `cores` single-thread workers in parallel (one M/G/c queue); samples are times at 1 thread. */
  | 'mgc';

/** The CPU stage of one tenant at its cut (ops [k,n) on the CPU). */
export interface CpuStage {
  mode: CpuMode;
  /** Measured service times of the suffix (ms), at `cores` threads for `mg1`, at 1 thread for `mgc`. */
  samplesMs: readonly number[];
  /** Where the samples come from (the profiler measures; tests may synthesise). */
  source: TimeSource;
}

/** The percentile a latency objective (`sloMs`) bounds: 95 % or 99 % of the responses finish within it. */
export type SloPercentile = 'p95' | 'p99';

/** One tenant at one configuration. */
export interface TenantSetup {
  name: string;
  /** Mean arrival rate λ, requests per second (Poisson). */
  rate: number;
  /** The cut point: ops [0,k) on the Edge TPU, [k,n) on the CPU. */
  k: number;
  /** Number of ops of the model (cut points are 0..n). */
  n: number;
  /** CPU cores given to the tenant (threads for `mg1`, workers for `mgc`); 0 only when there is no CPU stage. */
  cores: number;
  /** The Edge TPU stage; null when k = 0 (CPU only). */
  tpu: TpuStage | null;
  /** The CPU stage; null when k = n (everything on the Edge TPU). */
  cpu: CpuStage | null;
  /** Optional latency objective, ms: `sloPercentile` of the tenant's responses finish within it. */
  sloMs?: number;
  /** Which percentile `sloMs` bounds (default `p99` when `sloMs` is given without one). */
  sloPercentile?: SloPercentile;
  /**
   * Id of the Edge TPU the tenant's head runs on (one of `SystemSetup.devices`); absent: the system's first
   * device. Only tenants of the same device take turns on it (and reload each other's parameters).
   */
  device?: string;
}

/** One Edge TPU of a host: `usb:0`, `pci:1`, or any id naming an emulated device. */
export interface DeviceSetup {
  /** Unique id, e.g. `usb:0` or `pci:0` (the Edge TPU library's device names) or `tpu-a` for an emulated one. */
  id: string;
  /** Device profile name (e.g. `usb3`, `pcie`, `devboard`), for reports and the device model. */
  profile?: string;
}

/**
 * How an Edge TPU picks the next call among the queued ones.
 *
 * - `'fifo'` (the default): in arrival order.
 * - `{ kind: 'switch-aware', maxExtraWaitMs }`: bounded reordering. When the device becomes free, the oldest
 *   queued call whose caching token is the one on chip is served ahead of older calls of other tokens (no reload),
 *   unless that would make the oldest queued call's *overtaken time* exceed `maxExtraWaitMs`. A call's overtaken
 *   time is the sum of the expected service times (`TpuStage.serviceMs`) of the later-arriving calls served while
 *   it waited; it never exceeds `maxExtraWaitMs`. `maxExtraWaitMs` 0 is FIFO. docs/queueing.md has the model.
 *
 * JSON-friendly: a string or a plain object.
 */
export type TpuDiscipline = 'fifo' | SwitchAwareDiscipline;

/** The bounded switch-aware discipline (see {@link TpuDiscipline}). */
export interface SwitchAwareDiscipline {
  kind: 'switch-aware';
  /** Most expected service time (ms, finite, ≥ 0) later calls may take ahead of any queued call. */
  maxExtraWaitMs: number;
}

/**
 * A whole configured system: tenants sharing one Edge TPU (or several, see `devices`) and a pool of CPU cores.
 */
export interface SystemSetup {
  tenants: readonly TenantSetup[];
  /** CPU cores available to all CPU stages together (Σ cores ≤ this), whichever device a tenant uses. */
  cores: number;
  /** Device profile name, for reports. */
  device?: string;
  /**
   * The Edge TPUs of the host, each with its own FIFO queue. Absent or empty: one device, which every tenant
   * uses. A tenant names its device by `TenantSetup.device`.
   */
  devices?: readonly DeviceSetup[];
  /** How every Edge TPU of the system orders its queue (absent: `'fifo'`). */
  discipline?: TpuDiscipline;
}

/** Why a configuration has no finite mean response time. */
export interface Instability {
  /** The saturated queue. */
  stage: 'tpu' | 'cpu';
  /** Utilisation of that queue (≥ 1). */
  utilization: number;
  /** Human-readable: which queue and why, e.g. "Edge TPU utilisation 1.23 ≥ 1". */
  reason: string;
}

/** Predicted latency of one tenant. Infinite values mean the configuration is unstable (see `unstable`). */
export interface TenantPrediction {
  name: string;
  /** Mean response time: TPU wait + TPU service + CPU wait + CPU service. */
  responseMs: number;
  tpuWaitMs: number;
  /** Mean TPU service time including the expected reload (switch probability × reload). */
  tpuServiceMs: number;
  cpuWaitMs: number;
  cpuServiceMs: number;
  /** Utilisation of the tenant's Edge TPU (the same for every tenant of that device). */
  tpuUtilization: number;
  /** Utilisation of this tenant's CPU stage (per server for M/G/c). */
  cpuUtilization: number;
  /** Probability that a call of this tenant follows a call with another token (the reload probability used). */
  switchProbability: number;
  /** Set when the tenant's response time is infinite. */
  unstable?: Instability;
}

/** A latency model's answer for a whole system. */
export interface Prediction {
  /** Name of the model that produced it. */
  model: string;
  tenants: TenantPrediction[];
  /** λ-weighted mean response time Σ λ_i R_i / Λ (Infinity when any tenant is unstable). */
  meanResponseMs: number;
  /** True when every queue is stable. */
  stable: boolean;
}
