/**
 * Public shapes of the simulator: its options (workload, run length, randomness, bounded queues, the
 * reconfiguration hooks) and its result. The system itself is the shared `SystemSetup` of `@swapless/contracts`,
 * the one latency models predict for, so a simulation and a prediction of one setup are directly comparable.
 */
import type { TenantSetup, TpuDiscipline } from '@swapless/contracts';

/** From this time on, the listed tenants' arrival rates change (tenants not listed keep theirs). */
export interface SimPhase {
  /** Start of the phase in seconds, as in the workload file (give this or `atMs`). */
  atS?: number;
  /** Start of the phase in milliseconds (give this or `atS`). */
  atMs?: number;
  /** New mean rates, requests per second, by tenant name. */
  rates: Readonly<Record<string, number>>;
}

/** A planned reconfiguration: from `atMs` on, new arrivals of the listed tenants use these setups. */
export interface SimReconfiguration {
  /**
   * New setups of some tenants, matched by `name` (every name must exist; tenants cannot be added or removed).
   * Their `rate` is ignored: arrival rates come from the workload (`rate`, `phases`, `arrivals`); a
   * reconfiguration changes how requests are served, not how many arrive.
   */
  tenants: readonly TenantSetup[];
  /**
   * The Edge TPU queue discipline from then on (absent: unchanged). Calls already queued stay queued and are
   * picked under the new one.
   */
  discipline?: TpuDiscipline;
}

/** A {@link SimReconfiguration} at a given virtual time. */
export interface SimScheduledReconfiguration extends SimReconfiguration {
  /** Virtual time (ms) from which new arrivals use the new setups. */
  atMs: number;
}

/** What the controller sees of one tenant at a tick (only what a live runtime could have observed by then). */
export interface SimTickTenant {
  name: string;
  /** The setup new arrivals currently use. */
  setup: TenantSetup;
  /** Arrivals (accepted or rejected) in the last tick window [timeMs − tickMs, timeMs). */
  arrivals: number;
  /** Observed arrival rate over the last window, requests per second. */
  rate: number;
  /** Requests that completed in the last window (by completion time, whatever their arrival time). */
  completed: number;
  /** Mean response time of those completions, ms (NaN when none completed). */
  meanResponseMs: number;
  /** Requests rejected in the last window (bounded queues only). */
  rejected: number;
  /** Requests of this tenant in the system at `timeMs` (queued or in service at either stage). */
  inSystem: number;
  /** Edge TPU reloads caused by this tenant's calls so far (warm-up included). */
  swaps: number;
}

/** The state handed to `onTick`. */
export interface SimTickState {
  /** Virtual time of the tick, ms (a multiple of `tickMs`). */
  timeMs: number;
  /** 1 for the first tick. */
  tick: number;
  tickMs: number;
  tenants: readonly SimTickTenant[];
  /** Requests waiting for the Edge TPU at `timeMs` (not counting the one in service). */
  tpuQueue: number;
  /** Edge TPU reloads so far, all tenants. */
  swaps: number;
}

/** How CPU service times are drawn from a tenant's measured samples. */
export type CpuSampling =
  /** Resample the measured values with replacement (the empirical distribution itself). Default. */
  | 'empirical'
  /**
   * Smoothed bootstrap: a resampled value times a log-normal kernel exp(hZ − h²/2), h by Silverman's rule on
   * the samples' logarithms. Continuous, always positive, same mean as the samples; the second moment grows by
   * e^(h²), which vanishes as the sample count grows (h ∝ n^(−1/5)).
   */
  | 'smoothed';

/** Options of {@link simulate}. Give `durationMs`, `requests`, or both (the run stops at whichever comes first). */
export interface SimOptions {
  /** Arrivals are generated in [0, durationMs); everything admitted is then served to completion. */
  durationMs?: number;
  /** Stop generating arrivals once this many measured (post-warm-up) requests have been admitted and served. */
  requests?: number;
  /** Requests arriving before this time are simulated but not measured (default 0). */
  warmupMs?: number;
  /** Seed of every random draw (default 1, as the workload file). Same setup + options + seed → same result. */
  seed?: number;
  /** Rate changes over time (Poisson tenants only), in increasing time order. */
  phases?: readonly SimPhase[];
  /**
   * Trace-driven arrivals: explicit arrival times (ms, non-decreasing) per tenant name. A tenant listed here
   * ignores its `rate` and the phases. When every tenant is trace-driven, `durationMs` may be omitted.
   */
  arrivals?: Readonly<Record<string, ArrayLike<number>>>;
  /**
   * Bounded queues: at most this many requests wait (not counting those in service) at the Edge TPU and at
   * each tenant's CPU stage; an arrival that finds its queue full is rejected and counted. Unbounded if omitted.
   */
  maxQueue?: number;
  /** How CPU service times are drawn (default 'empirical'). */
  cpuSampling?: CpuSampling;
  /** 'exact' keeps every response time (8 bytes each); 'sketch' uses bounded memory, ±0.5 % (default 'exact'). */
  quantiles?: 'exact' | 'sketch';
  /** Token the device holds at time 0 (default null: the first call of any tenant pays its reload). */
  initialToken?: string | null;
  /** Reconfigurations at fixed virtual times, in increasing time order. */
  schedule?: readonly SimScheduledReconfiguration[];
  /** Interval of `onTick`, ms (required with `onTick`). */
  tickMs?: number;
  /**
   * Called at every multiple of `tickMs` while arrivals are generated, before any arrival at or after that
   * time; returning a reconfiguration applies it from that time on (as a `schedule` entry would).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a controller that only observes returns nothing at all.
  onTick?: (state: SimTickState) => SimReconfiguration | undefined | void;
  /** Width of the per-window time series, ms (omit for no time series). */
  seriesWindowMs?: number;
}

/** Per-tenant result. Means are over measured, completed requests; utilisations over the observation window. */
export interface SimTenantResult {
  name: string;
  /** Measured arrivals (accepted or rejected). */
  arrivals: number;
  /** Measured requests that completed. */
  completed: number;
  /** Measured requests rejected because a queue was full (`rejectedTpu + rejectedCpu`). */
  rejected: number;
  /** Rejected on arrival at the full Edge TPU queue. */
  rejectedTpu: number;
  /** Served by the Edge TPU, then rejected at the tenant's full CPU queue. */
  rejectedCpu: number;
  /** Completed requests per second over the observation window. */
  throughputPerS: number;
  meanResponseMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /**
   * Response-time quantiles at q = 0.01, 0.02, …, 0.99 and 0.999 (101 values, ms): enough to draw the CDF
   * without keeping every response. Exact or sketched like the other quantiles.
   */
  cdfMs: number[];
  maxResponseMs: number;
  /** Mean wait for the Edge TPU (0 for a tenant without a TPU stage). */
  tpuWaitMs: number;
  /** Mean Edge TPU service time including reloads. */
  tpuServiceMs: number;
  cpuWaitMs: number;
  cpuServiceMs: number;
  /** Utilisation of the tenant's Edge TPU (the same for every tenant of one device). */
  tpuUtilization: number;
  /** This tenant's share of its Edge TPU's time (Σ over the tenants of a device = its `tpuUtilization`). */
  tpuShare: number;
  /** Busy server time / available server time of this tenant's CPU stage (per server for mgc). */
  cpuUtilization: number;
  /** Edge TPU reloads caused by this tenant's measured calls. */
  swaps: number;
  /** swaps / measured Edge TPU calls: the observed switch probability (0 without a TPU stage). */
  switchFraction: number;
}

/** Per-window series of one tenant (the whole run, warm-up included). */
export interface SimTenantSeries {
  name: string;
  /** Arrivals per window, by arrival time. */
  arrivals: number[];
  /** Completions per window, by completion time. */
  completed: number[];
  /** Mean response of those completions (NaN for an empty window). */
  meanResponseMs: number[];
  /** Reloads per window, by the start time of the call. */
  swaps: number[];
}

/** Per-window time series for plots. Window w covers [w·windowMs, (w+1)·windowMs). */
export interface SimSeries {
  windowMs: number;
  tenants: SimTenantSeries[];
}

/** One reconfiguration that took effect ('controller': returned by `onTick` or passed to `reconfigure`). */
export interface SimAppliedReconfiguration {
  atMs: number;
  source: 'schedule' | 'controller';
  /** Names of the tenants whose setup changed. */
  tenants: string[];
}

/** One Edge TPU of a simulated host with several devices. */
export interface SimDeviceResult {
  id: string;
  /** Its utilisation over the observation window. */
  tpuUtilization: number;
  /** The tenants placed on it at the end of the run. */
  tenants: string[];
}

/** Result of {@link simulate}. Every time in it is virtual (simulated), in ms. */
export interface SimResult {
  /** Always 'simulated': nothing here was measured on a device. */
  source: 'simulated';
  seed: number;
  tenants: SimTenantResult[];
  /** λ-weighted mean response Σ λ_i R_i / Λ, with λ_i the measured completions (= the mean over all requests). */
  meanResponseMs: number;
  /** Measured requests completed, all tenants. */
  completed: number;
  /** Measured requests rejected, all tenants. */
  rejected: number;
  /** Edge TPU reloads of measured calls, all tenants. */
  swaps: number;
  /**
   * Utilisation of the Edge TPU over the observation window (with several devices, their mean; each device's is
   * in `devices`).
   */
  tpuUtilization: number;
  /** Per device, with several devices (`SystemSetup.devices`): its utilisation and the tenants on it at the end. */
  devices?: SimDeviceResult[];
  /** Start of the observation window (= warmupMs). */
  windowStartMs: number;
  /** End of the observation window: durationMs, or the last completion when the run stopped on `requests`. */
  windowEndMs: number;
  /** Requests simulated in total, warm-up and rejected included. */
  simulatedRequests: number;
  /** 'exact' or 'sketch' (quantiles within ±0.5 %). */
  quantiles: 'exact' | 'sketch';
  /** Largest number of requests seen waiting for the Edge TPU (tracked with `maxQueue` or `onTick`, else 0). */
  maxTpuQueue: number;
  /**
   * Switch-aware discipline: the largest overtaken time of any call (expected service of later calls served
   * ahead of it, ms); never above the discipline's `maxExtraWaitMs`. 0 under FIFO.
   */
  maxOvertakenMs: number;
  reconfigurations: SimAppliedReconfiguration[];
  series?: SimSeries;
}
