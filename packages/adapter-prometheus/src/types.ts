/**
 * What the Prometheus adapter reads. Structural: the adapter declares the shapes it needs and imports nothing
 * from the runtime or the service, so anything with these events and `gauges()` can be measured.
 */

/** Edge TPU part of a request trace (the fields the adapter reads). Times are `performance.now()` ms. */
export interface MetricsTpuTrace {
  /** `emulated`: device time from the device model; `edgetpu`: measured on the real delegate. */
  backend: 'emulated' | 'edgetpu';
  /** Id of the device that ran it (absent: the `device` label is empty). */
  device?: string;
  enqueuedMs: number;
  startMs: number;
  endMs: number;
  /** When the device was done (before `endMs` when the emulator's outputs lagged it); absent: `endMs`. */
  deviceEndMs?: number;
  /**
   * The functional emulator's host computation of the head: compute time, and how long the outputs came after the
   * emulated device was done, ms (absent or null for the real device and timing-only heads).
   */
  emulation?: { computeMs: number; lagMs: number } | null;
}

/** CPU part of a request trace (always measured). Times are `performance.now()` ms. */
export interface MetricsCpuTrace {
  enqueuedMs: number;
  startMs: number;
  endMs: number;
}

/** A completed request as the runtime reports it (`@swapless/runtime`'s `RequestTrace` satisfies it). */
export interface MetricsTrace {
  tenant: string;
  /** End to end (admission → completion), ms. */
  latencyMs: number;
  /** Null when the request had no Edge TPU stage (cut k = 0). */
  tpu: MetricsTpuTrace | null;
  /** Null when the request had no CPU stage (cut k = n). */
  cpu: MetricsCpuTrace | null;
  /** Set when the request failed. */
  error?: string;
  /** Set (with `error`) when the request was dropped because it could not finish by its deadline. */
  expired?: boolean;
}

/** Per-tenant values read at scrape time. */
export interface MetricsTenantGauges {
  name: string;
  /** Partition point: ops [0,k) on the Edge TPU. */
  k: number;
  /** CPU cores of the tenant's CPU stage. */
  cores: number;
  /** Admitted and not completed. */
  inFlight: number;
  /** Estimated arrival rate, requests per second. */
  ratePerS: number;
  /** The latency model's prediction for the current configuration, ms (null when there is none). */
  predictedMs: number | null;
  /** Measured / predicted mean response over the controller's divergence window (null or absent: none). */
  divergence?: number | null;
  /** Id of the Edge TPU its head runs on (absent: no `tenant_device_info` series). */
  device?: string;
  /**
   * Its co-compiled head set, the members in compile order joined by `+` (absent: compiled alone, no
   * `tenant_head_set_info` series).
   */
  set?: string;
}

/** Everything the adapter reads at scrape time. */
export interface MetricsGauges {
  tenants: readonly MetricsTenantGauges[];
  /** Requests waiting for the Edge TPU (all devices). */
  tpuQueued: number;
  /** Per Edge TPU: requests waiting and device time since start, ms (absent: no per-device series). */
  devices?: readonly { id: string; queued: number; busyMs: number }[];
  /**
   * The switch-aware discipline's bound on a call's extra wait beyond its FIFO position, ms (0 or absent: FIFO).
   */
  tpuReorderBudgetMs?: number;
  /** Which Edge TPU backend serves the TPU stages. */
  backend: 'emulated' | 'edgetpu';
  /**
   * True when the functional emulator computes heads slower than the device it emulates on more than 10 % of
   * recent calls; null or absent when there is no emulation.
   */
  emulationLagging?: boolean | null;
  /**
   * The host's busy cores over the last controller tick as the predictions share them: `measured` (the whole host,
   * niced processes left out), `modelled` (the CPU stages and emulation pool of the configuration in force) and
   * `other` (the rest, a moving average); null or absent without a functional emulator's pool.
   */
  hostBusyCores?: { measured: number | null; modelled: number; other: number } | null;
}

/**
 * The source of the metrics: request-level events (the runtime's `request`, `reject`, `reload`, `reconfigure`),
 * the controller's `decision` events, and `gauges()` read at scrape time. An `EventEmitter` (or a small object
 * that forwards `on` to the runtime and the service) satisfies it. `off` is used by `close()` when present.
 */
export interface MetricsSource {
  on(event: 'request', listener: (trace: MetricsTrace) => void): unknown;
  on(event: 'reject', listener: (event: { tenant: string; code: string }) => void): unknown;
  on(event: 'reload', listener: (event: { tenant: string; reloadMs: number }) => void): unknown;
  on(event: 'reconfigure', listener: (event: { phase: string }) => void): unknown;
  on(
    event: 'decision',
    listener: (event: { decisionMs: number; applied: boolean; trigger?: string }) => void,
  ): unknown;
  off?(event: string, listener: (...args: unknown[]) => void): unknown;
  gauges(): MetricsGauges;
}
