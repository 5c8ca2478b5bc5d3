/** Public shapes of the runtime: options, traces, events, statistics, observations. */
import type { ServedVariant, VariantStore } from '@swapless/compiler';
import type {
  CpuMode,
  TenantChoice,
  TenantChoiceInput,
  TensorArray,
  TpuDiscipline,
} from '@swapless/contracts';
import type { CallBreakdown, ProfileInput } from '@swapless/tpu-emulator';

/**
 * What {@link Runtime.reconfigure} applies: a controller's `Decision` (`@swapless/contracts`) as it is, or any
 * object with its `tenants` list, where `mode` may be left out (`mg1`). Tenants not listed keep theirs.
 */
export interface ReconfigureRequest {
  readonly tenants: readonly (TenantChoiceInput & { name: string })[];
  /**
   * Co-compiled head sets (`Decision.sets`): tenant names whose heads run as one unit, in compile order (emulated
   * Edge TPU; ignored on the real one). A tenant whose set changes is reconfigured with its set. Absent: none.
   */
  readonly sets?: readonly (readonly string[])[];
  /**
   * How every Edge TPU orders its queue from this reconfiguration on (`Decision.discipline`): FIFO, or the
   * switch-aware discipline with its budget. Absent: FIFO.
   */
  readonly discipline?: TpuDiscipline;
}

/** The real Edge TPU backend: libedgetpu through `@swapless/edgetpu`'s delegate. */
export interface EdgeTpuBackendOptions {
  /** Library to dlopen (default `$SWAPLESS_EDGETPU_LIB`, else `libedgetpu.so.1`). */
  library?: string;
  /** Device (`usb:0`, `pci:0`, …; default any). */
  device?: string;
  /** Further libedgetpu options. */
  options?: Record<string, string>;
  /**
   * Turns a head segment (ops [0,k) as split) into the bytes the delegate runs — on real hardware the
   * `*_edgetpu.tflite` that `VariantStore.compiledHead(info.variant)` of `@swapless/compiler` makes (compiled once,
   * from the store's own split). Default: the head as split (what the mock delegate needs).
   */
  compileHead?: (
    head: Uint8Array,
    info: { tenant: string; k: number; variant: ServedVariant },
  ) => Promise<Uint8Array> | Uint8Array;
}

/**
 * One Edge TPU of a runtime with several (`RuntimeOptions.devices`): an emulated device with its own `profile`,
 * or a real one through its own libedgetpu delegate (`edgetpu`). With neither, the runtime's `device` option
 * applies: its profile, or its delegate settings with this device's `id` as the delegate's device (`usb:0`,
 * `pci:1`, … as libedgetpu's `device` option takes them).
 */
export interface RuntimeDeviceOptions {
  /** Unique id: what `TenantChoice.device` names (e.g. `usb:0`, `pci:0`, or `tpu-a` for an emulated one). */
  id: string;
  /** Emulator profile of this device (`'usb3'`, `'pcie'`, … or a profile object). */
  profile?: ProfileInput;
  /** The real device's delegate settings (`device` defaults to nothing: give it, e.g. the id). */
  edgetpu?: EdgeTpuBackendOptions;
}

/** Options of {@link createRuntime}. */
export interface RuntimeOptions {
  /**
   * The Edge TPU: a device profile for the emulator (`'usb3'`, `'usb2'`, `'pcie'`, `'devboard'` or a profile
   * object), or `{ edgetpu: {...} }` for the real delegate. Default `'usb3'`.
   */
  device?: ProfileInput | { edgetpu: EdgeTpuBackendOptions };
  /**
   * Several Edge TPUs, each with its own FIFO queue and backend (see {@link RuntimeDeviceOptions}); a tenant's
   * `choice.device` names its device, absent: the first. All emulated or all real. Default: one device, from
   * `device`, whose id is `device.edgetpu.device` or `'tpu0'`.
   */
  devices?: readonly RuntimeDeviceOptions[];
  /**
   * `functional` (default): heads are computed (on the CPU with the emulator) so every output is the model's
   * real output. `timing-only`: the emulator only times heads; tails get zero boundary inputs (load tests).
   * Ignored by the real Edge TPU backend, which always computes.
   */
  mode?: 'functional' | 'timing-only';
  /**
   * CPU cores the tenants' CPU stages may use in total (default {@link defaultCores}: `max(1,
   * os.availableParallelism() − 1)`, one core left to the main thread).
   */
  cores?: number;
  /** Default per-tenant bound on requests admitted and not yet completed (default 64). */
  queueLimit?: number;
  /**
   * Emulator: real ms per modelled ms (default 1), jitter seed, and the worker threads that compute heads in
   * functional mode off the device's timeline (default 1; each holds every head in use).
   */
  emulator?: { timeScale?: number; seed?: number; workers?: number };
  /** Threads of the interpreters that compute heads in functional emulated mode (default 1). */
  headThreads?: number;
  /**
   * µs a CPU-stage worker spins for its next request after finishing one, before it sleeps (default 0: off).
   * A request sent within that window skips the wake-up of a sleeping thread: measured −7 to −10 points of
   * sequential `submit` overhead on a ~1 ms model (docs/runtime.md). Opt-in because the spinning takes a core:
   * under load on a 2-core machine it cut the server's throughput for a tiny model from ~9,600 to ~5,500 req/s.
   * Use it only when a core is free for it. The functional emulator's head worker never spins.
   */
  workerSpinUs?: number;
  /** Completed traces kept per tenant for {@link Runtime.stats} percentiles and observations (default 2048). */
  window?: number;
  /**
   * Where the tenants' variants come from (split, emulated report): pass the store the controller's catalogues
   * use so each (model, k) is split once in the process. Default: `defaultVariantStore()` of @swapless/compiler.
   */
  variants?: VariantStore;
}

/** Options of {@link Runtime.addTenant}. */
export interface TenantOptions {
  /** Tenant name (unique; used by submit and decisions). */
  name: string;
  /** The whole model (.tflite bytes). */
  model: Uint8Array;
  /** Initial choice (`mode` may be left out: `mg1`). */
  choice: TenantChoiceInput;
  /** Per-tenant queue bound (default: the runtime's `queueLimit`). */
  queueLimit?: number;
}

/** Edge TPU part of a trace (null when the request's variant has no head, k = 0). */
export interface TpuTrace {
  /** `emulated`: time from the device model (real-time wait); `edgetpu`: measured on the delegate. */
  backend: 'emulated' | 'edgetpu';
  /** Id of the device that ran the head (the configuration's device at admission). */
  device: string;
  /** Entered the TPU queue, ms. */
  enqueuedMs: number;
  /** Started on the device, ms. */
  startMs: number;
  /**
   * The device was free again, ms: start + modelled time for the emulator, the call's end for the real device.
   * `deviceEndMs − startMs` is the device time (what the Edge TPU would take), whatever the host.
   */
  deviceEndMs: number;
  /**
   * Stage finished, ms: the later of `deviceEndMs` and the head's outputs being ready (the functional emulator
   * computes them on the host, off the device's timeline; see `emulation`).
   */
  endMs: number;
  /** Modelled device time (emulator), ms; null for the real backend. */
  modelledMs: number | null;
  /** Time spent computing the head on the host (functional emulator, or the real delegate), ms; null if none. */
  computedMs: number | null;
  /** The device held another caching token and re-uploaded this unit's cached parameters. */
  reload: boolean;
  /** The emulator's breakdown of the modelled time. */
  breakdown: CallBreakdown | null;
  /**
   * The functional emulator's host computation of the head (null for the real device and in timing-only mode):
   * its invoke time, how long it waited for a pool worker (`waitMs`), when its outputs were ready, and
   * `lagMs = max(0, readyMs − deviceEndMs)`, how long the request waited for the host after the emulated device was
   * done. Lag is the host being slower than the Edge TPU it emulates, not device time.
   */
  emulation: { computeMs: number; waitMs: number; readyMs: number; lagMs: number; returnMs: number } | null;
}

/** CPU part of a trace (null when the variant has no tail, k = n). */
export interface CpuTrace {
  /** Entered the tenant's CPU queue, ms. */
  enqueuedMs: number;
  /**
   * Started in the worker, ms (under mg1 the next request is handed to the worker while the previous one runs and
   * waits there, so this is when its own setInput began, not when it was sent).
   */
  startMs: number;
  /** Result back on the main thread, ms. */
  endMs: number;
  /** Invoke time measured inside the worker (setInput + invoke + getOutput), ms. */
  computeMs: number;
  /** Worker that ran it. */
  worker: number;
}

/** Everything the runtime recorded about one completed request. Times are `performance.now()` ms. */
export interface RequestTrace {
  /** Runtime-wide request number. */
  id: number;
  tenant: string;
  /** Variant the request was pinned to at admission: `<model hash 8>:k=<k>`. */
  variant: string;
  /** Configuration generation of the tenant at admission. */
  config: number;
  k: number;
  cores: number;
  mode: CpuMode;
  /** Admitted, ms. */
  arrivalMs: number;
  tpu: TpuTrace | null;
  cpu: CpuTrace | null;
  /** Completed, ms. */
  endMs: number;
  /** endMs − arrivalMs. */
  latencyMs: number;
  /** True when the outputs are the model's real outputs (false in timing-only mode with an emulated head). */
  functional: boolean;
  /** Set when the request failed (the error went to the caller). */
  error?: string;
  /** Set when the request was dropped because it could not finish by its deadline (`error` says why). */
  expired?: boolean;
}

/** The result of {@link Runtime.submit}. */
export interface SubmitResult {
  /** The model's outputs, in model output order. */
  outputs: TensorArray[];
  trace: RequestTrace;
}

/** Options of one `submit`. */
export interface SubmitOptions {
  /**
   * Output arrays of an earlier result that the caller no longer needs (opt-in buffer reuse): their memory is
   * written with this request's outputs instead of freshly allocated memory (less allocation and GC work, warm
   * pages for the worker). Each array is **transferred** (detached) by the call, so it must not be used
   * afterwards — read it through the new result. Indexed like `SubmitResult.outputs`; an entry that does not
   * match (not a whole non-shared `ArrayBuffer` of the output's byte size, or already detached) is ignored.
   */
  reuse?: readonly (TensorArray | null | undefined)[];
  /**
   * When the result stops being useful, on the `performance.now()` clock (ms). Admission refuses the request at
   * once (`OverloadedError`, `details.reason` `'deadline'`) when the tenant's queues predict it cannot finish by
   * then; an admitted request that can no longer finish by then is dropped before its next stage starts
   * (`DeadlineExceededError`), never run late. Default: no deadline.
   */
  deadlineMs?: number;
}

/** A request that was refused at admission. */
export interface RejectEvent {
  tenant: string;
  code: string;
  atMs: number;
}

/** A request that was admitted (what a rate estimator counts). */
export interface ArrivalEvent {
  tenant: string;
  id: number;
  atMs: number;
}

/** A step of a reconfiguration. */
export interface ReconfigureEvent {
  /** `prepared`: new variants loaded; `switched`: new requests use them; `retired`: old ones disposed. */
  phase: 'prepared' | 'switched' | 'retired' | 'failed';
  /** Reconfiguration number. */
  seq: number;
  atMs: number;
  tenants: { name: string; from: TenantChoice & { config: number }; to: TenantChoice & { config: number } }[];
  /** Time from the call to this phase, ms. */
  elapsedMs: number;
  error?: string;
}

/** The device re-uploaded a unit's cached parameters (token switch). */
export interface ReloadEvent {
  tenant: string;
  /** Id of the device that reloaded. */
  device: string;
  variant: string;
  atMs: number;
  reloadMs: number;
  tokenBefore: string | null;
  tokenAfter: string;
}

/** Event map of the runtime's EventEmitter. */
export interface RuntimeEvents {
  request: [RequestTrace];
  arrival: [ArrivalEvent];
  reject: [RejectEvent];
  reconfigure: [ReconfigureEvent];
  reload: [ReloadEvent];
}

/** Latency summary over the trace window, ms. */
export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** A device's queue and counters, or all devices' together (`RuntimeStats.tpu`). */
export interface DeviceCounters {
  /** Requests waiting for the device. */
  queued: number;
  busy: boolean;
  calls: number;
  reloads: number;
  /** Device time of its calls together, ms (busy time: utilisation = Δ busyMs / Δ time). */
  busyMs: number;
  /**
   * Tenant and variant (`RequestTrace.variant` form) whose head holds the device's caching token now: from the
   * emulator's token state, or for the real device the last head that ran (the token is not observable).
   * Null before the first head call, and after the holding tenant was removed.
   */
  holder: { tenant: string; variant: string } | null;
}

/** One device's queue and counters (`RuntimeStats.devices`). */
export interface DeviceStats extends DeviceCounters {
  id: string;
  /** Emulator profile name; null for the real device. */
  profile: string | null;
  /** Tenants whose current configuration runs its head here (a tenant without a head is on no device). */
  tenants: string[];
}

/** Per-tenant counters. */
export interface TenantStats {
  choice: TenantChoice;
  variant: string;
  config: number;
  admitted: number;
  completed: number;
  failed: number;
  /** Admitted, then dropped before a stage because they could no longer finish by their deadline. */
  expired: number;
  /** Refused requests: queue full or deadline, shutting down, shed by admission control (`SWAPLESS_SHED_FOR_SLO`). */
  rejected: { overloaded: number; shuttingDown: number; shed: number };
  /** Admitted fraction of its requests (`TenantChoice.admit`; 1 without admission control). */
  admit: number;
  /** Admitted and not completed. */
  inFlight: number;
  queueLimit: number;
  latency: LatencySummary;
}

/** Aggregated metrics (what a server exposes). */
export interface RuntimeStats {
  uptimeMs: number;
  closing: boolean;
  backend: 'emulated' | 'edgetpu';
  mode: 'functional' | 'timing-only';
  tenants: Record<string, TenantStats>;
  /**
   * Every device of the runtime; `tpu` sums them (its `holder` is the first device's). One entry without
   * `RuntimeOptions.devices`.
   */
  devices: DeviceStats[];
  /** Every device together (one device: its own counters); `holder` is the first device's. */
  tpu: DeviceCounters;
  reconfigurations: { completed: number; failed: number; tenantSwitches: number };
  workers: number;
  variantsCached: number;
  /**
   * The functional emulator's head computation (null for the real device and in timing-only mode): pool worker
   * threads, calls queued on it now, and cumulative counts — head calls computed, calls whose outputs were ready
   * more than `EMULATION_LAG_THRESHOLD_MS` after the device's modelled end (`lagging`), and the sums of compute
   * and lag, ms.
   */
  emulation: {
    workers: number;
    queued: number;
    calls: number;
    lagging: number;
    computeMs: number;
    lagMs: number;
  } | null;
}

/** Per-tenant samples since the previous {@link Runtime.observe} (each list bounded by the window). */
export interface TenantObservation {
  /** Admission times, ms. */
  arrivalsMs: number[];
  /** Rejected at admission. */
  rejected: number;
  /** TPU service times (device time: start → the device's end), ms, with the cut they were measured at. */
  tpuServiceMs: number[];
  /**
   * Per TPU sample (parallel to `tpuServiceMs`): how long its outputs lagged the device's end on the functional
   * emulator, ms (0 without lag, on the real device and in timing-only mode).
   */
  emulationLagMs: number[];
  /**
   * Per TPU sample (parallel to `tpuServiceMs`): the host's compute of the emulated head by the emulation pool, ms
   * (its service time there, without the pool's queue; 0 on the real device and in timing-only mode).
   */
  emulationComputeMs: number[];
  /**
   * Per TPU sample (parallel to `tpuServiceMs`): from the pool worker's end of the head to its outputs being back
   * on the main thread, ms (the reply's transfer and the main thread's lateness; 0 without a functional emulator).
   */
  emulationReturnMs: number[];
  /**
   * Per TPU sample (parallel to `tpuServiceMs`): how long the head's computation waited for an emulation pool
   * worker, ms (its queue there; 0 without a functional emulator).
   */
  emulationWaitMs?: number[];
  /** CPU service times (worker compute), ms. */
  cpuServiceMs: number[];
  /**
   * Per CPU sample (parallel to `cpuServiceMs`): from the worker's end of the CPU stage to its outputs being back on
   * the main thread, ms (the reply's transfer and the main thread's lateness: the worker is already free).
   */
  cpuReturnMs?: number[];
  /** Cut and cores of each CPU sample. */
  cpuAt: { k: number; cores: number; mode: CpuMode }[];
  /** Cut of each TPU sample. */
  tpuAt: number[];
  /** Whether each TPU sample paid a reload (the device held another head's caching token). */
  tpuReload: boolean[];
  /** End-to-end latencies, ms. */
  latencyMs: number[];
}

/**
 * What a controller reads: the interval and per-tenant samples (per request; the service turns them into the
 * window means a latency model's `fit()` takes, `FitObservation` of `@swapless/contracts`).
 */
export interface RuntimeObservation {
  fromMs: number;
  toMs: number;
  tenants: Record<string, TenantObservation>;
}

/** @deprecated The name of {@link RuntimeObservation} before 0.2. */
export type Observation = RuntimeObservation;
