/**
 * The live executor: one FIFO Edge TPU stage in front of each device, per-tenant CPU stages on worker threads,
 * bounded admission, live reconfiguration with per-request variant pinning, traces and metrics.
 * Protocols and rationale: docs/runtime.md.
 */

import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { defaultVariantStore, type VariantStore } from '@swapless/compiler';
import type { CpuMode, TenantChoice, TenantChoiceInput, TensorArray } from '@swapless/contracts';
import {
  ConflictError,
  DeadlineExceededError,
  expected,
  InvalidArgumentError,
  NotFoundError,
  OverloadedError,
  positiveInt,
  quantile,
  reorderBudgetMs,
  ShedForSloError,
  ShuttingDownError,
  type SwapLessError,
} from '@swapless/core';
import { createInterpreter, type TensorInfo, TYPED_ARRAYS, zeroInput } from '@swapless/edgetpu';
import { ms, type ServicePrior, StageEstimate } from './deadline.js';
import { createDevices, type DeviceLane } from './devices.js';
import { EMULATION_LAG_THRESHOLD_MS } from './emulation.js';
import { preparedPart } from './parts.js';
import { type SetPlace, setPlaces, setVariant } from './sets.js';
import type { SharedEmulation, TpuRun } from './tpu.js';
import type {
  DeviceStats,
  LatencySummary,
  ReconfigureEvent,
  ReconfigureRequest,
  RequestTrace,
  RuntimeEvents,
  RuntimeObservation,
  RuntimeOptions,
  RuntimeStats,
  SubmitOptions,
  SubmitResult,
  TenantObservation,
  TenantOptions,
  TenantStats,
  TpuTrace,
} from './types.js';
import { ModelEntry, type Variant } from './variants.js';
import { type TfliteWorker, WorkerPool } from './worker.js';

interface Executor {
  worker: TfliteWorker;
  key: string;
  /** Requests sent to the worker and not yet back (at most `depth` of the config). */
  running: number;
}

/** A head on a device: what holds a device's caching token. */
interface Head {
  tenant: TenantState;
  variant: Variant;
}

/** One device of the runtime (see devices.ts). */
type Lane = DeviceLane<Req, Config, Head>;

/** A request's caching token on the Edge TPU (null when its head has no compile report). */
const tokenOfRequest = (r: Req): string | null => r.config.variant.report?.cachingToken ?? null;
/** A request's expected Edge TPU time, ms (the configuration's running mean). */
const expectedTpuMs = (r: Req): number => r.config.tpu.ms;

interface Config {
  gen: number;
  tenant: TenantState;
  variant: Variant;
  choice: TenantChoice;
  /** The device its heads run on (the choice's `device`, or the first device). */
  lane: Lane;
  /** Key of the co-compiled set its head runs in ('' for none; see sets.ts). */
  set: string;
  executors: Executor[];
  /**
   * Requests an executor may hold at once: {@link MG1_DEPTH} for mg1 (the next ones wait inside the worker, so
   * they start without a thread round trip, and a burst costs one wake-up — same FIFO single server), 1 for mgc
   * (a request goes to whichever worker frees first: M/G/c).
   */
  depth: number;
  queue: Req[];
  inflight: number;
  retired: boolean;
  disposed: boolean;
  retiredBy: number;
  /** Set by the first dispose. */
  disposal: Promise<void> | null;
  /** CPU threads its stage uses: `cores` (mg1: one interpreter's threads; mgc: single-thread workers), 0 without tail. */
  threads: number;
  /**
   * Its CPU stage may run. A new configuration waits (requests queue in `queue`) until the threads of the
   * configurations still draining leave room in the core budget — see {@link Runtime.#startGated}.
   */
  started: boolean;
  /** Its `threads` are counted in the runtime's threads in use. */
  holding: boolean;
  /** Zero head outputs for timing-only mode (indexed like the head's outputs). */
  zeroHead: TensorArray[] | null;
  /** Mean service time of its Edge TPU stage (prior, then measured). */
  tpu: StageEstimate;
  /** Mean service time of its CPU stage (prior, then measured compute). */
  cpu: StageEstimate;
  /** Its requests waiting in the Edge TPU queue. */
  tpuQueued: number;
}

interface Req {
  id: number;
  config: Config;
  inputs: TensorArray[];
  arrivalMs: number;
  /** `SubmitOptions.deadlineMs`, Infinity without one. */
  deadlineMs: number;
  tpu: TpuTrace | null;
  headOutputs: TensorArray[] | null;
  cpuEnqueuedMs: number;
  /** Executor running the CPU stage. */
  ex: Executor | null;
  /** Caller's output arrays to reuse (`SubmitOptions.reuse`), indexed like the model outputs. */
  reuse: SubmitOptions['reuse'] | null;
  resolve: (r: SubmitResult) => void;
  reject: (e: unknown) => void;
}

interface TenantState {
  name: string;
  entry: ModelEntry;
  inputs: readonly TensorInfo[];
  outputs: readonly TensorInfo[];
  current: Config;
  queueLimit: number;
  inFlight: number;
  admitted: number;
  completed: number;
  failed: number;
  expired: number;
  rejectedOverloaded: number;
  rejectedShuttingDown: number;
  /** Admission control (`TenantChoice.admit`): the admitted fraction, its credit, and the requests shed. */
  admit: number;
  admitCredit: number;
  rejectedShed: number;
  latencies: Float64Array;
  latencyCount: number;
  obs: TenantObservation;
  /** Set by {@link Runtime.removeTenant}: admits nothing more; called when its last request settles. */
  onDrained: (() => void) | null;
  /** Disposals of retired configurations still running (awaited by a removal). */
  disposals: Set<Promise<void>>;
}

function emptyObservation(): TenantObservation {
  return {
    arrivalsMs: [],
    rejected: 0,
    tpuServiceMs: [],
    cpuServiceMs: [],
    cpuReturnMs: [],
    cpuAt: [],
    tpuAt: [],
    tpuReload: [],
    emulationLagMs: [],
    emulationComputeMs: [],
    emulationReturnMs: [],
    emulationWaitMs: [],
    latencyMs: [],
  };
}

/**
 * Requests an mg1 stage's worker may hold at once (see `Config.depth`): the ones after the first wait inside the
 * worker and start without a thread round trip, and a burst of them is handed over with one wake-up of the worker.
 */
const MG1_DEPTH = 8;

/**
 * Share of a request's time budget its predicted completion may take at admission. Service times vary (a GC
 * pause, a busy machine): a request admitted at the very edge of its budget would often miss it after all and be
 * dropped (504) after waiting, where refusing it at once (503) tells its client sooner.
 */
const ADMISSION_SHARE = 0.9;

/** How often queued requests are checked against their deadlines (besides before each stage), ms. */
const SWEEP_MS = 100;

/** Zeros of a tensor's type and size (raw bytes for a type no typed array carries). */
function zerosFor(info: TensorInfo): TensorArray {
  return zeroInput(info) ?? new Uint8Array(info.byteSize);
}

function copyOf(a: TensorArray): TensorArray {
  return a.slice() as TensorArray;
}

/** Summary statistics of latencies (ms). */
export function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const at = (q: number) => (sorted.length === 0 ? 0 : quantile(sorted, q, 'nearest-rank'));
  return {
    count: sorted.length,
    meanMs: sorted.length === 0 ? 0 : sum / sorted.length,
    p50Ms: at(0.5),
    p95Ms: at(0.95),
    p99Ms: at(0.99),
    maxMs: sorted.length === 0 ? 0 : sorted[sorted.length - 1]!,
  };
}

/**
 * Default CPU core budget of the tenants' CPU stages: `max(1, os.availableParallelism() − 1)`. One core stays
 * with the runtime's main thread (event loop, emulated TPU stage, admission; the HTTP server in a server), which
 * otherwise competes with the CPU stages' interpreter threads and makes them slower than profiled.
 */
export function defaultCores(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** The configuration's CPU stage runs one interpreter with several threads (XNNPACK thread pool). */
function isMultiThreaded(config: Config): boolean {
  return config.choice.mode === 'mg1' && config.threads > 1;
}

/** A deadline as `SubmitOptions.deadlineMs` takes it: a number on the `performance.now()` clock (Infinity: none). */
function checkDeadline(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new InvalidArgumentError(
      expected('a number of ms on the performance.now() clock', 'the deadlineMs of a request', value),
    );
  }
  return value;
}

/**
 * The SwapLess live runtime. Create it with {@link createRuntime}. Events (`on('request' | 'arrival' |
 * 'reject' | 'reconfigure' | 'reload', …)`) carry the traces a controller and a server need.
 */
export class Runtime extends EventEmitter<RuntimeEvents> {
  /** CPU cores the tenants' CPU stages may use in total. */
  readonly cores: number;
  /** `functional` or `timing-only`. */
  readonly mode: 'functional' | 'timing-only';
  /** Which Edge TPU backend runs heads. */
  readonly backend: 'emulated' | 'edgetpu';
  /** The Edge TPUs, each with its own FIFO queue and backend; the first is where a choice without `device` runs. */
  readonly #lanes: Lane[];
  readonly #laneById = new Map<string, Lane>();
  /** The emulation pool several emulated devices share (null otherwise; each backend then owns its own). */
  readonly #shared: SharedEmulation | null;
  /** Head outputs are computed (every device the same: the real ones, or the functional emulator). */
  readonly #functional: boolean;
  readonly #pool: WorkerPool;
  readonly #queueLimit: number;
  readonly #window: number;
  readonly #tenants = new Map<string, TenantState>();
  /** Tenants being removed: admit nothing, still drain, and still hold their cores until disposed. */
  readonly #removing = new Map<string, TenantState>();
  readonly #models = new Map<string, ModelEntry>();
  /** Where every variant comes from (`options.variants`, else the process-wide store). */
  readonly #variants: VariantStore;
  /** Configurations whose CPU queue may hold requests (what the deadline sweep visits). */
  readonly #cpuQueued = new Set<Config>();
  /** Drops queued requests whose deadline went out of reach (started with the first deadline). */
  #sweepTimer: NodeJS.Timeout | null = null;
  /** CPU threads of the configurations whose stage runs (started and not yet drained after retirement). */
  #threadsInUse = 0;
  /** Configurations waiting for their CPU stage to start, oldest first. */
  readonly #gated: Config[] = [];
  /** Running (holding) configurations whose stage has a multi-threaded interpreter (mg1 with cores > 1). */
  #multiThreaded = 0;
  /** Functional emulator: head computations, those whose outputs lagged the device, and their sums (ms). */
  readonly #emu = { calls: 0, lagging: 0, computeMs: 0, lagMs: 0 };
  #nextId = 0;
  #gen = 0;
  #seq = 0;
  #reconfOk = 0;
  #reconfFailed = 0;
  #switches = 0;
  #inFlight = 0;
  #chain: Promise<unknown> = Promise.resolve();
  #closing = false;
  #closed: Promise<void> | null = null;
  #drained: (() => void) | null = null;
  readonly #startMs = performance.now();
  #obsFromMs = performance.now();

  /** @internal Use {@link createRuntime}. */
  constructor(options: RuntimeOptions = {}) {
    super();
    const mode = options.mode ?? 'functional';
    if (mode !== 'functional' && mode !== 'timing-only') {
      throw new InvalidArgumentError(expected("'functional' or 'timing-only'", 'the runtime mode', mode));
    }
    this.mode = mode;
    this.cores = positiveInt(options.cores ?? defaultCores(), 'the runtime cores');
    this.#queueLimit = positiveInt(options.queueLimit ?? 64, 'the runtime queueLimit');
    this.#window = positiveInt(options.window ?? 2048, 'the trace window');
    const store = options.variants;
    if (store !== undefined && (typeof store?.variant !== 'function' || typeof store.model !== 'function')) {
      throw new InvalidArgumentError(expected('a VariantStore', 'the runtime variants', options.variants));
    }
    this.#variants = options.variants ?? defaultVariantStore();
    const headThreads = positiveInt(options.headThreads ?? 1, 'headThreads');
    const emu: { functional: boolean; threads: number; workers: number; timeScale?: number; seed?: number } =
      {
        functional: mode === 'functional',
        threads: headThreads,
        workers: options.emulator?.workers ?? 1,
      };
    if (options.emulator?.timeScale !== undefined) emu.timeScale = options.emulator.timeScale;
    if (options.emulator?.seed !== undefined) emu.seed = options.emulator.seed;
    const { lanes, shared } = createDevices<Req, Config, Head>(options, emu);
    this.#lanes = lanes;
    for (const lane of lanes) this.#laneById.set(lane.id, lane);
    this.#shared = shared;
    this.backend = lanes[0]!.backend.kind;
    this.#functional = lanes[0]!.backend.functional;
    // Workers spin briefly for a back-to-back request only on cores of their own: with no core left for the main
    // thread, a spinning worker would take CPU from the thread that has to send it that request.
    const spinUs = options.workerSpinUs ?? 0;
    if (typeof spinUs !== 'number' || !Number.isFinite(spinUs) || spinUs < 0 || spinUs > 10_000) {
      throw new InvalidArgumentError(expected('a number of µs between 0 and 10000', 'workerSpinUs', spinUs));
    }
    this.#pool = new WorkerPool(Math.max(2, this.cores), spinUs);
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(task);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Names of the tenants. */
  get tenantNames(): string[] {
    return [...this.#tenants.keys()];
  }

  /** A tenant's current choice (what new requests are admitted with). */
  choice(name: string): TenantChoice {
    return { ...this.#tenant(name).current.choice };
  }

  #tenant(name: string): TenantState {
    const t = this.#tenants.get(name);
    if (t === undefined) {
      throw new NotFoundError(expected('the name of a tenant', 'the tenant', name), {
        details: { reason: 'unknown-tenant', tenants: [...this.#tenants.keys()] },
      });
    }
    return t;
  }

  #checkChoice(choice: unknown, entry: ModelEntry, what: string): TenantChoice {
    const c = this.#checkCut(choice, entry.n, what);
    if (entry.compiled && (c.k !== entry.n || c.cores !== 0)) {
      throw new InvalidArgumentError(
        expected(
          `{ k: ${entry.n}, cores: 0 } (a compiled model runs whole on the Edge TPU, nothing on the CPU)`,
          what,
          choice,
        ),
        { details: { reason: 'compiled-model' } },
      );
    }
    return c;
  }

  #checkCut(choice: unknown, n: number, what: string): TenantChoice {
    if (typeof choice !== 'object' || choice === null) {
      throw new InvalidArgumentError(expected('an object { k, cores, mode }', what, choice));
    }
    const c = choice as TenantChoiceInput;
    if (typeof c.k !== 'number' || !Number.isInteger(c.k) || c.k < 0 || c.k > n) {
      throw new InvalidArgumentError(expected(`an integer cut between 0 and ${n}`, `${what}.k`, c.k));
    }
    const mode: CpuMode = c.mode ?? 'mg1';
    if (mode !== 'mg1' && mode !== 'mgc') {
      throw new InvalidArgumentError(expected("'mg1' or 'mgc'", `${what}.mode`, c.mode));
    }
    const cores = positiveInt(c.cores, `${what}.cores`, c.k === n ? 0 : 1);
    if (cores > this.cores) {
      throw new InvalidArgumentError(expected(`at most ${this.cores} cores`, `${what}.cores`, cores));
    }
    if (c.device !== undefined && !this.#laneById.has(c.device)) {
      throw new InvalidArgumentError(
        expected(`one of the devices ${[...this.#laneById.keys()].join(', ')}`, `${what}.device`, c.device),
        { details: { reason: 'unknown-device', devices: [...this.#laneById.keys()] } },
      );
    }
    // With one device the choice stays as it always was; with several it always names its device.
    if (this.#lanes.length === 1) return { k: c.k, cores, mode };
    return { k: c.k, cores, mode, device: c.device ?? this.#lanes[0]!.id };
  }

  /** The device of a checked choice. */
  #laneOf(choice: TenantChoice): Lane {
    return choice.device === undefined ? this.#lanes[0]! : this.#laneById.get(choice.device)!;
  }

  /** Ids of the Edge TPUs, first (the default of a choice without `device`) first. */
  get devices(): string[] {
    return this.#lanes.map((l) => l.id);
  }

  #checkBudget(next: Map<string, number>): void {
    let sum = 0;
    for (const t of this.#tenants.values()) sum += next.get(t.name) ?? t.current.choice.cores;
    for (const [name, c] of next) if (!this.#tenants.has(name)) sum += c;
    // A tenant being removed keeps its CPU stages (and so its cores) until its last request has finished.
    for (const t of this.#removing.values()) sum += t.current.choice.cores;
    if (sum > this.cores) {
      throw new ConflictError(
        expected(`at most ${this.cores} cores in total`, 'the tenants’ CPU stages', sum),
        { details: { reason: 'core-budget', cores: this.cores, requested: Object.fromEntries(next) } },
      );
    }
  }

  /**
   * Adds a tenant: parses the model, splits it at `choice.k`, loads head and tail, and starts admitting.
   * A model compiled by edgetpu_compiler (`*_edgetpu.tflite`) is not split: on the real Edge TPU backend it runs
   * whole through the delegate, and its only choice is `{ k: n, cores: 0 }`; the emulated backend refuses it
   * (`UnsupportedModelError`: give the uncompiled model).
   * Throws `InvalidArgumentError` for a bad name or choice, `ConflictError` (`SWAPLESS_CONFLICT`) for a name in use
   * (`details.reason` `'duplicate-tenant'`) or more cores than the budget (`'core-budget'`), `InvalidModelError`
   * for bad bytes.
   */
  addTenant(options: TenantOptions): Promise<void> {
    if (this.#closing)
      return Promise.reject(new ShuttingDownError('The runtime is closing: no tenant can be added'));
    return this.#serial(async () => {
      if (this.#closing) throw new ShuttingDownError('The runtime is closing: no tenant can be added');
      if (typeof options !== 'object' || options === null) {
        throw new InvalidArgumentError(expected('an object', 'the tenant options', options));
      }
      const { name, model } = options;
      if (typeof name !== 'string' || name.length === 0) {
        throw new InvalidArgumentError(expected('a non-empty string', 'the tenant name', name));
      }
      if (this.#tenants.has(name) || this.#removing.has(name)) {
        throw new ConflictError(expected('a new tenant name', 'the tenant name', name), {
          details: { reason: 'duplicate-tenant' },
        });
      }
      if (!(model instanceof Uint8Array)) {
        throw new InvalidArgumentError(
          expected('a Uint8Array of .tflite bytes', `the model of ${name}`, model),
        );
      }
      const queueLimit = positiveInt(options.queueLimit ?? this.#queueLimit, `the queueLimit of ${name}`);
      // Parsed once per model in the variant store, which keeps its own copy of the bytes.
      const stored = this.#variants.model(model);
      let entry = this.#models.get(stored.sha256);
      if (entry === undefined) {
        entry = new ModelEntry(this.#variants, stored);
        this.#models.set(stored.sha256, entry);
      }
      if (entry.compiled && this.backend !== 'edgetpu') {
        // Refused before anything loads; the variant would refuse too, in the same words.
        entry.variant(entry.n, this.#lanes[0]!.backend.profile);
      }
      const choice = this.#checkChoice(options.choice, entry, `the choice of ${name}`);
      this.#checkBudget(new Map([[name, choice.cores]]));
      // Input/output metadata of the whole model, for validation and for timing-only placeholders. A compiled
      // model runs only through the Edge TPU delegate: its loaded head answers instead (below).
      let inputs: readonly TensorInfo[] = [];
      let outputs: readonly TensorInfo[] = [];
      if (!entry.compiled) {
        const probe = createInterpreter(entry.bytes, { threads: 1, xnnpack: false });
        inputs = probe.inputs;
        outputs = probe.outputs;
        probe.dispose();
      }
      const tenant = {
        name,
        entry,
        inputs,
        outputs,
        queueLimit,
        inFlight: 0,
        admitted: 0,
        completed: 0,
        failed: 0,
        expired: 0,
        rejectedOverloaded: 0,
        admit: 1,
        admitCredit: 0,
        rejectedShed: 0,
        rejectedShuttingDown: 0,
        latencies: new Float64Array(this.#window),
        latencyCount: 0,
        obs: emptyObservation(),
        onDrained: null,
        disposals: new Set(),
      } as Omit<TenantState, 'current'> as TenantState;
      tenant.current = await this.#prepare(tenant, choice);
      if (entry.compiled) {
        try {
          const io = await tenant.current.lane.backend.describe!(tenant.current.variant);
          tenant.inputs = io.inputs;
          tenant.outputs = io.outputs;
        } catch (error) {
          await this.#dispose(tenant.current);
          throw error;
        }
      }
      this.#tenants.set(name, tenant);
      this.#gate(tenant.current);
    });
  }

  async #prepare(tenant: TenantState, choice: TenantChoice, place?: SetPlace): Promise<Config> {
    const lane = this.#laneOf(choice);
    const tpu = lane.backend;
    const profile = tpu.profile;
    const own = tenant.entry.variant(choice.k, profile);
    const inSet = place !== undefined && profile !== null && own.head !== null;
    const variant = inSet
      ? setVariant(this.#variants, own, place, (name) => this.#tenants.get(name)!.entry.stored, profile)
      : own;
    const config: Config = {
      gen: ++this.#gen,
      tenant,
      variant,
      choice,
      lane,
      set: inSet ? place.key : '',
      executors: [],
      depth: choice.mode === 'mg1' ? MG1_DEPTH : 1,
      queue: [],
      inflight: 0,
      retired: false,
      disposed: false,
      retiredBy: 0,
      disposal: null,
      threads: variant.tail === null ? 0 : choice.cores,
      started: false,
      holding: false,
      zeroHead: null,
      tpu: new StageEstimate(),
      cpu: new StageEstimate(),
      tpuQueued: 0,
    };
    await tpu.acquire(variant, tenant.name);
    try {
      if (variant.tail !== null) {
        const count = choice.mode === 'mg1' ? 1 : choice.cores;
        const threads = choice.mode === 'mg1' ? choice.cores : 1;
        const tail = preparedPart(variant.tail);
        const loads = Array.from({ length: count }, async (_, i) => {
          const ex: Executor = {
            worker: this.#pool.acquire(),
            key: `${variant.id}#${config.gen}.${i}`,
            running: 0,
          };
          config.executors.push(ex);
          return ex.worker.load(ex.key, tail, { threads });
        });
        const settled = await Promise.allSettled(loads);
        const failed = settled.find((s) => s.status === 'rejected');
        if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
        const info = (settled[0] as PromiseFulfilledResult<{ inputs: readonly TensorInfo[] }>).value;
        if (!tpu.functional && variant.head !== null) {
          config.zeroHead = this.#zeroHead(tenant, variant, info.inputs);
        }
      } else if (!tpu.functional) {
        config.zeroHead = this.#zeroHead(tenant, variant, []);
      }
    } catch (error) {
      await this.#dispose(config);
      throw error;
    }
    return config;
  }

  #zeroHead(tenant: TenantState, variant: Variant, tailInputs: readonly TensorInfo[]): TensorArray[] {
    const zero: TensorArray[] = [];
    variant.boundary.tailInputs.forEach((t, j) => {
      if (t.from === 'head' && tailInputs[j] !== undefined) zero[t.index] = zerosFor(tailInputs[j]);
    });
    variant.boundary.outputs.forEach((o, i) => {
      if (o.part === 'head' && tenant.outputs[i] !== undefined) zero[o.index] = zerosFor(tenant.outputs[i]);
    });
    return zero;
  }

  /** Disposes a configuration once (later calls wait for the same disposal). */
  #dispose(config: Config): Promise<void> {
    config.disposal ??= this.#disposeNow(config);
    return config.disposal;
  }

  async #disposeNow(config: Config): Promise<void> {
    config.disposed = true;
    config.lane.backend.release(config.variant);
    const executors = config.executors.splice(0);
    await Promise.all(
      executors.map(async (ex) => {
        try {
          await ex.worker.unload(ex.key);
        } catch {
          // A dead worker has nothing left to unload.
        }
        this.#pool.release(ex.worker);
      }),
    );
  }

  /** Queues a configuration that just became current for the start of its CPU stage. */
  #gate(config: Config): void {
    this.#gated.push(config);
    this.#startGated();
  }

  /**
   * Starts the CPU stages of waiting configurations. A stage starts when its threads fit in the core budget next
   * to the stages that run, so a reconfiguration does not run a tenant's old and new stages (or one tenant's new
   * stage and another's old one) with more threads than `cores` at once when a multi-threaded interpreter is
   * involved: XNNPACK's thread pool spin-waits for its workers, so overbooking it makes it pathologically slow.
   * Single-threaded stages (mg1 with 1 core, mgc) may overlap while no multi-threaded stage runs: the kernel
   * time-slices them, and waiting for the drain measured slower (docs/runtime.md). A configuration retired before
   * it started (two reconfigurations within one drain) starts regardless — it has requests to finish and, not
   * being current, its threads are not in the budget; without this it could wait forever. No deadlock otherwise:
   * current configurations fit the budget together, and retired ones drain.
   */
  #startGated(): void {
    const gated = this.#gated;
    for (let i = 0; i < gated.length; ) {
      const c = gated[i]!;
      const multi = isMultiThreaded(c);
      if (
        c.retired ||
        this.#threadsInUse + c.threads <= this.cores ||
        (!multi && this.#multiThreaded === 0)
      ) {
        gated.splice(i, 1);
        c.started = true;
        c.holding = true;
        this.#threadsInUse += c.threads;
        if (multi) this.#multiThreaded++;
        this.#dispatch(c);
      } else i++;
    }
  }

  /** A configuration's CPU stage has nothing left to run: its threads go back to the budget. */
  #releaseThreads(config: Config): void {
    if (config.holding) {
      config.holding = false;
      this.#threadsInUse -= config.threads;
      if (isMultiThreaded(config)) this.#multiThreaded--;
    } else {
      const i = this.#gated.indexOf(config);
      if (i >= 0) this.#gated.splice(i, 1);
    }
    this.#startGated();
  }

  #retireIfDone(config: Config): void {
    if (!config.retired || config.inflight > 0 || config.disposed) return;
    this.#releaseThreads(config);
    const seq = config.retiredBy;
    const choice = { ...config.choice, config: config.gen };
    const disposals = config.tenant.disposals;
    const disposal = this.#dispose(config).then(() => {
      disposals.delete(disposal);
      this.#emit('reconfigure', {
        phase: 'retired',
        seq,
        atMs: performance.now(),
        tenants: [
          {
            name: config.tenant.name,
            from: choice,
            to: { ...config.tenant.current.choice, config: config.tenant.current.gen },
          },
        ],
        elapsedMs: 0,
      });
    });
    disposals.add(disposal);
  }

  #emit<K extends keyof RuntimeEvents>(event: K, ...args: RuntimeEvents[K]): void {
    if (this.listenerCount(event) === 0) return;
    try {
      (this.emit as (e: K, ...a: RuntimeEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      // A listener's bug must not break the request path.
      process.emitWarning(`A '${String(event)}' listener of the SwapLess runtime threw: ${String(error)}`);
    }
  }

  #validateInputs(tenant: TenantState, inputs: unknown): TensorArray[] {
    const list = ArrayBuffer.isView(inputs) ? [inputs] : inputs;
    if (!Array.isArray(list) || list.length !== tenant.inputs.length) {
      throw new InvalidArgumentError(
        expected(`an array of ${tenant.inputs.length} typed arrays`, `the inputs of ${tenant.name}`, inputs),
        { details: { reason: 'input-count' } },
      );
    }
    for (let i = 0; i < list.length; i++) {
      const a: unknown = list[i];
      const info = tenant.inputs[i]!;
      const ctor = (TYPED_ARRAYS as Record<string, unknown>)[info.arrayType ?? ''];
      if (!ArrayBuffer.isView(a) || a.constructor !== ctor || a.byteLength !== info.byteSize) {
        throw new InvalidArgumentError(
          expected(
            `a ${info.arrayType} of ${info.byteSize} bytes (${info.type} ${JSON.stringify(info.shape)})`,
            `input ${i} (${info.name}) of ${tenant.name}`,
            a,
          ),
          { details: { reason: 'input-tensor', index: i } },
        );
      }
    }
    return list as TensorArray[];
  }

  /**
   * How long a request of tenant `name` submitted now is expected to take until it completes, ms: the work
   * queued ahead of it times the mean service times of its stages (see {@link Runtime.admit}). 0 before anything
   * is known about the tenant's stages.
   * @throws NotFoundError (`SWAPLESS_NOT_FOUND`, `details.reason` `'unknown-tenant'`) for a name that is not a tenant.
   */
  predictMs(name: string): number {
    return this.#predict(this.#tenant(name), performance.now());
  }

  /**
   * Admission on its own (what `submit` checks before it takes a request), for a caller that wants to refuse a
   * request before it has even read it: returns when tenant `name` has room in its queue (`queueLimit`) and a
   * request arriving now is predicted to finish by `deadlineMs` (`performance.now()` clock); else counts the
   * rejection and throws `OverloadedError` — `details.reason` `'queue-full'`, or `'deadline'` with `predictedMs`,
   * `budgetMs` and `retryAfterS`.
   *
   * The prediction: with `B` the expected Edge TPU work queued ahead (each waiting head's mean TPU time, plus what
   * is left of the one running), `S_T`/`S_C` the tenant's mean TPU/CPU stage times, `n` its requests in flight
   * and `m` its CPU servers (cores for mgc, else 1), a new request completes after
   * `max(B + S_T, n · S_C / m) + S_C` (terms of a stage the tenant does not have are left out), and it is
   * admitted when that takes at most 90 % of the time left to its deadline (a reserve for the variance of service
   * times). Mean times are the latency model's (`setServicePrior`) until the configuration has been measured,
   * then measured moving means.
   * @throws NotFoundError for an unknown tenant, InvalidArgumentError for a deadline that is not a number.
   */
  admit(name: string, deadlineMs: number): void {
    const tenant = this.#tenant(name);
    const deadline = checkDeadline(deadlineMs);
    this.#admitQueue(tenant);
    this.#admit(tenant, deadline, performance.now());
  }

  /**
   * Admission control: admits exactly the fraction `admit` of the tenant's requests, evenly spread (a credit
   * grows by `admit` per request and one admitted request spends 1), and refuses the others with
   * `ShedForSloError`. A refused request still counts as an arrival, so the rate estimate stays the offered load.
   */
  #shed(tenant: TenantState): void {
    tenant.admitCredit += tenant.admit;
    if (tenant.admitCredit >= 1) {
      tenant.admitCredit -= 1;
      return;
    }
    const now = performance.now();
    tenant.rejectedShed++;
    tenant.obs.rejected++;
    this.#push(tenant.obs.arrivalsMs, now);
    this.#emit('reject', { tenant: tenant.name, code: 'SWAPLESS_SHED_FOR_SLO', atMs: now });
    throw new ShedForSloError(
      `Expected tenant ${tenant.name} to admit this request but the controller admits only ${(100 * tenant.admit).toFixed(1)} % of its requests so that other tenants meet their latency objectives`,
      { stack: false, details: { reason: 'shed-for-slo', tenant: tenant.name, admit: tenant.admit } },
    );
  }

  /** Refuses a request when the tenant's queue is full. */
  #admitQueue(tenant: TenantState): void {
    if (tenant.inFlight < tenant.queueLimit) return;
    tenant.rejectedOverloaded++;
    tenant.obs.rejected++;
    this.#emit('reject', { tenant: tenant.name, code: 'SWAPLESS_OVERLOADED', atMs: performance.now() });
    throw new OverloadedError(
      `Expected fewer than ${tenant.queueLimit} requests in flight for tenant ${tenant.name} but it has ${tenant.inFlight}`,
      {
        stack: false,
        details: {
          reason: 'queue-full',
          tenant: tenant.name,
          queueLimit: tenant.queueLimit,
          inFlight: tenant.inFlight,
        },
      },
    );
  }

  /**
   * The latency model's mean stage times for tenant `name`'s current configuration (the controller's
   * prediction): deadline admission uses them until the configuration's own service times have been measured.
   * @throws NotFoundError for an unknown tenant.
   */
  setServicePrior(name: string, prior: ServicePrior): void {
    const c = this.#tenant(name).current;
    c.tpu.prior(prior?.tpuMs);
    c.cpu.prior(prior?.cpuMs);
  }

  #predict(tenant: TenantState, now: number): number {
    const c = tenant.current;
    let t = 0;
    if (c.variant.head !== null) {
      // Only the work queued on the tenant's own device is ahead of it.
      const lane = c.lane;
      const running = lane.busy ? Math.max(0, lane.runEndMs - now) : 0;
      let backlog = 0;
      for (const q of lane.configs) backlog += q.tpuQueued * q.tpu.ms;
      t = backlog + running + c.tpu.ms;
      // The head's outputs (functional emulator): computed by the emulation pool behind what it already holds.
      const outputs = lane.backend.outputsBacklogMs?.(c.variant) ?? 0;
      if (outputs > t) t = outputs;
    }
    if (c.variant.tail !== null) {
      const servers = c.choice.mode === 'mgc' ? Math.max(1, c.choice.cores) : 1;
      t = Math.max(t, (c.inflight * c.cpu.ms) / servers) + c.cpu.ms;
    }
    return t;
  }

  #admit(tenant: TenantState, deadlineMs: number, now: number): void {
    const predictedMs = this.#predict(tenant, now);
    if (predictedMs <= ADMISSION_SHARE * (deadlineMs - now)) return;
    tenant.rejectedOverloaded++;
    tenant.obs.rejected++;
    this.#emit('reject', { tenant: tenant.name, code: 'SWAPLESS_OVERLOADED', atMs: now });
    const budgetMs = deadlineMs - now;
    throw new OverloadedError(
      `Expected tenant ${tenant.name} to finish a new request within its deadline (${ms(Math.max(0, budgetMs))} ms left) but its queues need about ${ms(predictedMs)} ms; retry later`,
      {
        stack: false,
        details: {
          reason: 'deadline',
          tenant: tenant.name,
          predictedMs,
          budgetMs,
          // By then the work queued now has drained enough for a request with the same budget.
          retryAfterS: (predictedMs - ADMISSION_SHARE * Math.max(0, budgetMs)) / 1000,
        },
      },
    );
  }

  /** Expected time a request still needs once its next stage starts now: that stage and the ones after it. */
  #remainingMs(req: Req, stage: 'tpu' | 'cpu'): number {
    const c = req.config;
    if (stage === 'cpu') return c.cpu.ms;
    // The TPU stage lasts the device's time, or until the emulation pool has the head's outputs.
    const tpu = Math.max(c.tpu.ms, c.lane.backend.outputsBacklogMs?.(c.variant) ?? 0);
    return c.variant.tail !== null ? tpu + c.cpu.ms : tpu;
  }

  /** Drops an admitted request that can no longer finish by its deadline: 504, counted as expired. */
  #expire(req: Req, now: number, stage: 'tpu' | 'cpu', remainingMs: number): void {
    const name = req.config.tenant.name;
    const error = new DeadlineExceededError(
      `Expected a request of tenant ${name} to finish within its deadline (${ms(req.deadlineMs - req.arrivalMs)} ms) but after ${ms(now - req.arrivalMs)} ms in the queue it would need about ${ms(remainingMs)} ms more; it was dropped before its ${stage === 'tpu' ? 'Edge TPU' : 'CPU'} stage`,
      {
        stack: false,
        details: {
          tenant: name,
          stage,
          budgetMs: req.deadlineMs - req.arrivalMs,
          waitedMs: now - req.arrivalMs,
          remainingMs,
        },
      },
    );
    this.#fail(req, error, true);
  }

  /** Drops every queued request that can no longer finish by its deadline (runs every {@link SWEEP_MS}). */
  readonly #sweep = (): void => {
    const now = performance.now();
    const late = (r: Req, stage: 'tpu' | 'cpu') => now + this.#remainingMs(r, stage) > r.deadlineMs;
    for (const lane of this.#lanes) {
      const queue = lane.queue;
      if (queue.length === 0 || !queue.some((r) => late(r, 'tpu'))) continue;
      const drop = queue.filter((r) => late(r, 'tpu'));
      const keep = queue.filter((r) => !late(r, 'tpu'));
      queue.length = 0;
      for (const r of keep) queue.push(r);
      for (const r of drop) this.#leftTpuQueue(r);
      for (const r of drop) this.#expire(r, now, 'tpu', this.#remainingMs(r, 'tpu'));
    }
    for (const c of this.#cpuQueued) {
      if (c.queue.length === 0) {
        this.#cpuQueued.delete(c);
        continue;
      }
      if (!c.queue.some((r) => late(r, 'cpu'))) continue;
      const drop = c.queue.filter((r) => late(r, 'cpu'));
      const keep = c.queue.filter((r) => !late(r, 'cpu'));
      c.queue.length = 0;
      c.queue.push(...keep);
      for (const r of drop) this.#expire(r, now, 'cpu', this.#remainingMs(r, 'cpu'));
    }
  };

  /**
   * Submits one request. `inputs`: one typed array per model input (a single typed array for a one-input
   * model). Resolves with the outputs and the trace; rejects with `OverloadedError` (tenant queue full, or its
   * deadline out of reach — see {@link Runtime.admit}), `ShuttingDownError` (closing), `NotFoundError`
   * (unknown tenant), `InvalidArgumentError` (wrong inputs, a deadline that is not a number), `DeadlineExceededError` (admitted, then
   * dropped before a stage because it could no longer finish by its deadline), or the error of a failed stage.
   * Every admitted request settles exactly once.
   */
  submit(
    name: string,
    inputs: TensorArray | readonly TensorArray[],
    options?: SubmitOptions,
  ): Promise<SubmitResult> {
    try {
      const tenant = this.#tenant(name);
      if (this.#closing) {
        tenant.rejectedShuttingDown++;
        tenant.obs.rejected++;
        this.#emit('reject', { tenant: name, code: 'SWAPLESS_SHUTTING_DOWN', atMs: performance.now() });
        throw new ShuttingDownError(`Expected a running runtime for tenant ${name} but it is shutting down`, {
          stack: false,
        });
      }
      const list = this.#validateInputs(tenant, inputs);
      if (tenant.admit < 1) this.#shed(tenant);
      this.#admitQueue(tenant);
      const arrivalMs = performance.now();
      let deadlineMs = Number.POSITIVE_INFINITY;
      if (options?.deadlineMs !== undefined) {
        deadlineMs = checkDeadline(options.deadlineMs);
        this.#admit(tenant, deadlineMs, arrivalMs);
        if (this.#sweepTimer === null && !this.#closing) {
          this.#sweepTimer = setInterval(this.#sweep, SWEEP_MS);
          this.#sweepTimer.unref();
        }
      }
      const config = tenant.current;
      const id = this.#nextId++;
      config.inflight++;
      tenant.inFlight++;
      tenant.admitted++;
      this.#inFlight++;
      this.#push(tenant.obs.arrivalsMs, arrivalMs);
      this.#emit('arrival', { tenant: name, id, atMs: arrivalMs });
      return new Promise<SubmitResult>((resolve, reject) => {
        const req: Req = {
          id,
          config,
          inputs: list,
          arrivalMs,
          deadlineMs,
          tpu: null,
          headOutputs: null,
          cpuEnqueuedMs: 0,
          ex: null,
          reuse: options?.reuse ?? null,
          resolve,
          reject,
        };
        if (config.variant.head !== null) {
          const lane = config.lane;
          if (config.tpuQueued++ === 0) lane.configs.add(config);
          lane.queue.push(req);
          this.#pumpTpu(lane);
        } else {
          this.#enqueueCpu(req);
        }
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #push(list: number[], value: number): void {
    list.push(value);
    if (list.length > 2 * this.#window) list.splice(0, list.length - this.#window);
  }

  #pumpTpu(lane: Lane): void {
    let req: Req | undefined;
    for (;;) {
      // Re-checked each time: dropping a request settles it, and a listener may have started the device since.
      if (lane.busy) return;
      req = lane.takeNext(tokenOfRequest, expectedTpuMs, this.#onChip(lane));
      if (req === undefined) return;
      this.#leftTpuQueue(req);
      if (req.deadlineMs === Number.POSITIVE_INFINITY) break;
      const now = performance.now();
      const remaining = this.#remainingMs(req, 'tpu');
      if (now + remaining <= req.deadlineMs) break;
      this.#expire(req, now, 'tpu', remaining);
    }
    lane.busy = true;
    lane.runEndMs = performance.now() + req.config.tpu.ms;
    const enqueuedMs = req.arrivalMs;
    const variant = req.config.variant;
    // The device takes the caching token of the head that starts on it.
    const head = { tenant: req.config.tenant, variant };
    lane.lastHead = head;
    if (variant.report !== null) lane.tokenHolders.set(variant.report.cachingToken, head);
    const headInputs = variant.boundary.headInputs.map((i) => req.inputs[i]!);
    // The device is free at its own end (for the emulator: the modelled end, while the head's outputs may still
    // be computing); the request goes on when its outputs are ready.
    let freed = false;
    const free = (): void => {
      if (freed) return;
      freed = true;
      this.#tpuDone(lane);
    };
    lane.backend.run(variant, headInputs, free).then(
      (r) => {
        free();
        this.#afterTpu(req, r, enqueuedMs);
      },
      (error: unknown) => {
        free();
        this.#fail(req, error);
      },
    );
  }

  /** A request is no longer in the TPU queue (started or dropped): the backlog's counts follow. */
  #leftTpuQueue(req: Req): void {
    const c = req.config;
    if (--c.tpuQueued === 0) c.lane.configs.delete(c);
  }

  #tpuDone(lane: Lane): void {
    lane.busy = false;
    lane.calls++;
    this.#pumpTpu(lane);
  }

  #afterTpu(req: Req, r: TpuRun, enqueuedMs: number): void {
    const config = req.config;
    const deviceMs = r.deviceEndMs - r.startMs;
    const lane = config.lane;
    lane.busyMs += deviceMs;
    req.tpu = {
      backend: lane.backend.kind,
      device: lane.id,
      enqueuedMs,
      startMs: r.startMs,
      deviceEndMs: r.deviceEndMs,
      endMs: r.endMs,
      modelledMs: r.modelledMs,
      computedMs: r.computedMs,
      reload: r.reload,
      breakdown: r.breakdown,
      emulation: r.emulation,
    };
    req.headOutputs = r.outputs ?? config.zeroHead;
    config.tpu.observe(deviceMs);
    const obs = config.tenant.obs;
    this.#push(obs.tpuServiceMs, deviceMs);
    const lagMs = r.emulation?.lagMs ?? 0;
    this.#push(obs.emulationLagMs, lagMs);
    this.#push(obs.emulationComputeMs, r.emulation?.computeMs ?? 0);
    this.#push(obs.emulationReturnMs, r.emulation?.returnMs ?? 0);
    obs.emulationWaitMs ??= [];
    this.#push(obs.emulationWaitMs, r.emulation?.waitMs ?? 0);
    if (r.emulation !== null) {
      const e = this.#emu;
      e.calls++;
      e.computeMs += r.emulation.computeMs;
      e.lagMs += lagMs;
      if (lagMs > EMULATION_LAG_THRESHOLD_MS) e.lagging++;
    }
    this.#push(obs.tpuAt, config.choice.k);
    obs.tpuReload.push(r.reload);
    if (obs.tpuReload.length > 2 * this.#window) obs.tpuReload.splice(0, obs.tpuReload.length - this.#window);
    if (r.reload) {
      lane.reloads++;
      this.#emit('reload', {
        tenant: config.tenant.name,
        device: lane.id,
        variant: config.variant.id,
        atMs: r.startMs,
        reloadMs: r.breakdown?.reloadMs ?? 0,
        tokenBefore: r.tokenBefore,
        tokenAfter: r.tokenAfter ?? '',
      });
    }
    if (config.variant.tail === null) this.#finish(req, null, null);
    else this.#enqueueCpu(req);
  }

  #enqueueCpu(req: Req): void {
    req.cpuEnqueuedMs = performance.now();
    req.config.queue.push(req);
    if (req.deadlineMs !== Number.POSITIVE_INFINITY) this.#cpuQueued.add(req.config);
    this.#dispatch(req.config);
  }

  #dispatch(config: Config): void {
    if (!config.started) return;
    const queue = config.queue;
    const executors = config.executors;
    // Idle executors first, then (mg1) the second slot of a busy one.
    for (let level = 0; level < config.depth; level++) {
      for (let e = 0; e < executors.length; e++) {
        if (queue.length === 0) return;
        const ex = executors[e]!;
        if (ex.running !== level) continue;
        const req = queue.shift()!;
        if (req.deadlineMs !== Number.POSITIVE_INFINITY) {
          // At level L it waits in the worker behind the L sent before it.
          const now = performance.now();
          const remaining = (level + 1) * config.cpu.ms;
          if (now + remaining > req.deadlineMs) {
            this.#expire(req, now, 'cpu', remaining);
            e--;
            continue;
          }
        }
        ex.running++;
        this.#runCpu(config, ex, req);
      }
    }
  }

  #runCpu(config: Config, ex: Executor, req: Req): void {
    const head = req.headOutputs;
    const map = config.variant.boundary.tailInputs;
    const tailInputs = new Array<TensorArray>(map.length);
    for (let j = 0; j < map.length; j++) {
      const t = map[j]!;
      tailInputs[j] = t.from === 'head' ? head![t.index]! : req.inputs[t.index]!;
    }
    req.ex = ex;
    let reuse: (ArrayBuffer | undefined)[] | undefined;
    const wanted = req.reuse;
    if (wanted != null) {
      // Model output i that the tail computes (tail output o.index) may be written into the caller's array i.
      reuse = [];
      const outs = config.variant.boundary.outputs;
      for (let i = 0; i < outs.length && i < wanted.length; i++) {
        const o = outs[i]!;
        const a = wanted[i];
        if (
          o.part === 'tail' &&
          ArrayBuffer.isView(a) &&
          a.byteOffset === 0 &&
          a.buffer instanceof ArrayBuffer
        ) {
          if (a.byteLength === a.buffer.byteLength) reuse[o.index] = a.buffer;
        }
      }
      req.reuse = null;
    }
    ex.worker.run(ex.key, tailInputs, req, this.#cpuDone, reuse);
  }

  /** Completion of a CPU stage run (one shared callback: no closure per request). */
  readonly #cpuDone = (
    req: Req,
    error: Error | null,
    outputs: TensorArray[] | null,
    startMs: number,
    endMs: number,
  ): void => {
    const ex = req.ex!;
    const config = req.config;
    ex.running--;
    if (error === null) config.cpu.observe(endMs - startMs);
    this.#dispatch(config);
    if (error !== null) {
      this.#fail(req, error);
      return;
    }
    this.#finish(req, outputs, {
      enqueuedMs: req.cpuEnqueuedMs,
      startMs,
      endMs: performance.now(),
      computeMs: endMs - startMs,
      worker: ex.worker.id,
    });
  };

  #finish(req: Req, tail: TensorArray[] | null, cpu: RequestTrace['cpu']): void {
    const config = req.config;
    const variant = config.variant;
    const head = req.headOutputs;
    const map = variant.boundary.outputs;
    const outputs = new Array<TensorArray>(map.length);
    try {
      for (let i = 0; i < map.length; i++) {
        const o = map[i]!;
        if (o.part === 'tail') outputs[i] = tail![o.index]!;
        else if (o.part === 'head') {
          outputs[i] = this.#functional ? head![o.index]! : copyOf(head![o.index]!);
        } else outputs[i] = copyOf(req.inputs[o.index]!);
      }
    } catch (error) {
      this.#fail(req, error);
      return;
    }
    const trace = this.#trace(req, cpu, this.#functional || variant.head === null);
    const tenant = config.tenant;
    tenant.completed++;
    tenant.latencies[tenant.latencyCount++ % this.#window] = trace.latencyMs;
    const obs = tenant.obs;
    this.#push(obs.latencyMs, trace.latencyMs);
    if (cpu !== null) {
      this.#push(obs.cpuServiceMs, cpu.computeMs);
      obs.cpuReturnMs ??= [];
      this.#push(obs.cpuReturnMs, Math.max(0, cpu.endMs - cpu.startMs - cpu.computeMs));
      obs.cpuAt.push(config.choice);
      if (obs.cpuAt.length > 2 * this.#window) obs.cpuAt.splice(0, obs.cpuAt.length - this.#window);
    }
    this.#settled(req);
    req.resolve({ outputs, trace });
    this.#emit('request', trace);
  }

  #fail(req: Req, error: unknown, expired = false): void {
    const tenant = req.config.tenant;
    if (expired) tenant.expired++;
    else tenant.failed++;
    this.#settled(req);
    req.reject(error);
    if (this.listenerCount('request') === 0) return;
    // Failures are traced too (with `error`), so metrics count them; the CPU part never completed.
    const trace = this.#trace(req, null, false);
    trace.error = error instanceof Error ? error.message : String(error);
    if (expired) trace.expired = true;
    this.#emit('request', trace);
  }

  /** The trace of a request ending now. */
  #trace(req: Req, cpu: RequestTrace['cpu'], functional: boolean): RequestTrace {
    const config = req.config;
    const endMs = performance.now();
    return {
      id: req.id,
      tenant: config.tenant.name,
      variant: config.variant.id,
      config: config.gen,
      k: config.choice.k,
      cores: config.choice.cores,
      mode: config.choice.mode,
      arrivalMs: req.arrivalMs,
      tpu: req.tpu,
      cpu,
      endMs,
      latencyMs: endMs - req.arrivalMs,
      functional,
    };
  }

  #settled(req: Req): void {
    const config = req.config;
    config.inflight--;
    const tenant = config.tenant;
    tenant.inFlight--;
    this.#inFlight--;
    this.#retireIfDone(config);
    if (tenant.inFlight === 0 && tenant.onDrained !== null) tenant.onDrained();
    if (this.#inFlight === 0 && this.#drained !== null) this.#drained();
  }

  /**
   * Removes a tenant. It stops admitting at once (a `submit` for it then throws `NotFoundError` with
   * `details.reason` `'unknown-tenant'`, like a name never added); its requests in flight complete normally;
   * then its configurations are disposed (heads through the reference-counted head cache, so a head another
   * tenant still uses stays loaded), its workers go back to the pool and its cores return to the budget. The
   * name can be added again after the returned promise resolves. Serialised with `addTenant` and `reconfigure`
   * (applied in call order); a name that is not a tenant when its turn comes (never added, already removed or
   * being removed) rejects with `NotFoundError` (`'unknown-tenant'`). While the runtime closes, a
   * removal still resolves once the tenant has drained and is disposed.
   */
  removeTenant(name: string): Promise<void> {
    // Known now: stop admitting at once, not when the removal's turn in the serial chain comes.
    const now = typeof name === 'string' ? this.#tenants.get(name) : undefined;
    if (now !== undefined) this.#detach(now);
    return this.#serial(async () => {
      let tenant = now;
      if (tenant === undefined) {
        // Perhaps added by an addTenant called earlier and applied since.
        tenant = this.#tenant(name);
        this.#detach(tenant);
      }
      await this.#drainTenant(tenant);
      this.#releaseThreads(tenant.current);
      // Every configuration the tenant ever had: the current one now, retired ones as they drained.
      await this.#dispose(tenant.current);
      await Promise.all([...tenant.disposals]);
      for (const lane of this.#lanes) {
        if (lane.lastHead?.tenant === tenant) lane.lastHead = null;
        for (const [token, h] of lane.tokenHolders) if (h.tenant === tenant) lane.tokenHolders.delete(token);
      }
      this.#removing.delete(tenant.name);
      this.#forgetModel(tenant.entry);
    });
  }

  #detach(tenant: TenantState): void {
    this.#tenants.delete(tenant.name);
    this.#removing.set(tenant.name, tenant);
  }

  #drainTenant(tenant: TenantState): Promise<void> {
    if (tenant.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      tenant.onDrained = () => {
        tenant.onDrained = null;
        resolve();
      };
    });
  }

  /** Drops a model's parsed bytes and split variants once no tenant uses it (heads are freed by refcount). */
  #forgetModel(entry: ModelEntry): void {
    for (const t of this.#tenants.values()) if (t.entry === entry) return;
    for (const t of this.#removing.values()) if (t.entry === entry) return;
    this.#models.delete(entry.hash);
  }

  /**
   * Applies a controller decision: loads the new variants and CPU stages in the background, then switches
   * every changed tenant at once. Requests admitted before the switch finish on the configuration they were
   * admitted with; a configuration is disposed after its last request. Resolves with the `switched` event;
   * rejects (leaving every tenant unchanged) with `InvalidArgumentError` for a bad decision, `ConflictError` for one over the core budget, or the error that
   * made loading fail, and with `ShuttingDownError` when closing. Calls are applied in call order. Entries for a
   * tenant that is being removed ({@link removeTenant}) when the call is made or applied are ignored.
   */
  reconfigure(decision: ReconfigureRequest): Promise<ReconfigureEvent> {
    if (this.#closing)
      return Promise.reject(new ShuttingDownError('The runtime is closing: no reconfiguration'));
    const t0 = performance.now();
    // Tenants already being removed when the decision was made; they may be gone by the time it applies.
    const removing = new Set(this.#removing.keys());
    return this.#serial(async () => {
      if (this.#closing) throw new ShuttingDownError('The runtime is closing: no reconfiguration');
      if (typeof decision !== 'object' || decision === null || !Array.isArray(decision.tenants)) {
        throw new InvalidArgumentError(expected('an object { tenants: [...] }', 'the decision', decision));
      }
      const wanted = new Map<string, TenantChoice>();
      decision.tenants.forEach((d, i) => {
        // A tenant being removed keeps its configuration until it is gone: its entry is ignored.
        const name: unknown = d?.name;
        if (typeof name === 'string' && (this.#removing.has(name) || removing.has(name))) return;
        const tenant = this.#tenant(d?.name);
        if (wanted.has(d.name)) {
          throw new InvalidArgumentError(expected('each tenant once', 'the decision', `${d.name} twice`));
        }
        wanted.set(d.name, this.#checkChoice(d, tenant.entry, `decision.tenants[${i}]`));
      });
      this.#checkBudget(new Map([...wanted].map(([n, c]) => [n, c.cores])));
      const reorderMs = reorderBudgetMs(decision.discipline, 'decision.discipline');
      const admits = decision.tenants.flatMap((d, i) =>
        wanted.has(d.name) ? [{ name: d.name, admit: admitOf(d.admit, `decision.tenants[${i}].admit`) }] : [],
      );
      const seq = ++this.#seq;
      const changes: { tenant: TenantState; choice: TenantChoice; place?: SetPlace }[] = [];
      // Co-compiled sets: a tenant whose set (members, order, cuts) changes switches with it, listed or not.
      const places = setPlaces(
        decision.sets,
        (n) => wanted.get(n)?.k ?? this.#tenants.get(n)?.current.choice.k,
      );
      const setKey = (name: string, choice: TenantChoice) =>
        this.#laneOf(choice).backend.profile === null ? '' : (places.get(name)?.key ?? '');
      for (const [name, tenant] of this.#tenants) {
        if (this.#removing.has(name) || removing.has(name)) continue;
        const cur = tenant.current.choice;
        const choice = wanted.get(name) ?? cur;
        const place = places.get(name);
        if (
          cur.k !== choice.k ||
          cur.cores !== choice.cores ||
          cur.mode !== choice.mode ||
          cur.device !== choice.device ||
          tenant.current.set !== setKey(name, choice)
        ) {
          changes.push({ tenant, choice, ...(place === undefined ? {} : { place }) });
        }
      }
      const settled = await Promise.allSettled(
        changes.map((c) => this.#prepare(c.tenant, c.choice, c.place)),
      );
      const failed = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
      const prepared = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const describe = () =>
        changes.map((c, i) => ({
          name: c.tenant.name,
          from: { ...c.tenant.current.choice, config: c.tenant.current.gen },
          to: {
            ...c.choice,
            config: (settled[i] as PromiseFulfilledResult<Config> | undefined)?.value?.gen ?? 0,
          },
        }));
      if (failed !== undefined || this.#closing) {
        await Promise.all(prepared.map((c) => this.#dispose(c)));
        this.#reconfFailed++;
        const error =
          failed?.reason ?? new ShuttingDownError('The runtime started closing during a reconfiguration');
        this.#emit('reconfigure', {
          phase: 'failed',
          seq,
          atMs: performance.now(),
          tenants: describe(),
          elapsedMs: performance.now() - t0,
          error: String((error as Error)?.message ?? error),
        });
        throw error;
      }
      const tenants = describe();
      this.#emit('reconfigure', {
        phase: 'prepared',
        seq,
        atMs: performance.now(),
        tenants,
        elapsedMs: performance.now() - t0,
      });
      // The switch: synchronous, so no request is admitted half-way through it.
      changes.forEach((c, i) => {
        const old = c.tenant.current;
        // Until the latency model's prior for the new choice arrives or it is measured, the old times are the
        // best guess.
        prepared[i]!.tpu.prior(old.tpu.ms);
        prepared[i]!.cpu.prior(old.cpu.ms);
        c.tenant.current = prepared[i]!;
        old.retired = true;
        old.retiredBy = seq;
        this.#retireIfDone(old);
      });
      for (const c of prepared) this.#gate(c);
      // The queue discipline applies from now on to every device, to requests already queued too.
      for (const lane of this.#lanes) lane.budgetMs = reorderMs;
      for (const a of admits) {
        const t = this.#tenants.get(a.name);
        if (t !== undefined && t.admit !== a.admit) {
          t.admit = a.admit;
          t.admitCredit = 0;
        }
      }
      this.#switches += changes.length;
      this.#reconfOk++;
      const event: ReconfigureEvent = {
        phase: 'switched',
        seq,
        atMs: performance.now(),
        tenants,
        elapsedMs: performance.now() - t0,
      };
      this.#emit('reconfigure', event);
      return event;
    });
  }

  /**
   * The caching token the device holds now: the emulator's token state, or on the real device the token of the
   * last head that started on it; null when unknown or none.
   */
  #onChip(lane: Lane): string | null {
    const token = lane.backend.token;
    if (token !== undefined) return token;
    return lane.lastHead?.variant.report?.cachingToken ?? null;
  }

  /**
   * Tenant and variant whose head holds the device's caching token now. Emulated backend: read from the device
   * model's token state (the token of the last head that started on it). Real backend: the last head that ran
   * (libedgetpu does not expose the token). Null before the first head call and once the holding tenant has
   * been removed (the device may still cache its parameters, but no tenant owns them).
   */
  #holder(lane: Lane): { tenant: string; variant: string } | null {
    const token = lane.backend.token;
    const head = token === undefined ? lane.lastHead : token === null ? null : lane.tokenHolders.get(token);
    return head == null ? null : { tenant: head.tenant.name, variant: head.variant.id };
  }

  #deviceStats(): DeviceStats[] {
    return this.#lanes.map((lane) => {
      const tenants: string[] = [];
      for (const t of this.#tenants.values()) {
        if (t.current.lane === lane && t.current.variant.head !== null) tenants.push(t.name);
      }
      return {
        id: lane.id,
        profile: lane.backend.profile?.name ?? null,
        queued: lane.queue.length,
        busy: lane.busy,
        calls: lane.calls,
        reloads: lane.reloads,
        busyMs: lane.busyMs,
        holder: this.#holder(lane),
        tenants,
      };
    });
  }

  /** Aggregated metrics: counters, queue lengths, latency summaries over the trace window. */
  stats(): RuntimeStats {
    const tenants: Record<string, TenantStats> = {};
    for (const t of this.#tenants.values()) {
      const n = Math.min(t.latencyCount, this.#window);
      tenants[t.name] = {
        choice: { ...t.current.choice },
        variant: t.current.variant.id,
        config: t.current.gen,
        admitted: t.admitted,
        completed: t.completed,
        failed: t.failed,
        expired: t.expired,
        rejected: {
          overloaded: t.rejectedOverloaded,
          shuttingDown: t.rejectedShuttingDown,
          shed: t.rejectedShed,
        },
        admit: t.admit,
        inFlight: t.inFlight,
        queueLimit: t.queueLimit,
        latency: summarize(t.latencies.subarray(0, n)),
      };
    }
    let variants = 0;
    for (const m of this.#models.values()) variants += m.size;
    const devices = this.#deviceStats();
    const sum = (f: (d: DeviceStats) => number) => devices.reduce((a, d) => a + f(d), 0);
    return {
      uptimeMs: performance.now() - this.#startMs,
      closing: this.#closing,
      backend: this.backend,
      mode: this.mode,
      tenants,
      devices,
      tpu: {
        queued: sum((d) => d.queued),
        busy: devices.some((d) => d.busy),
        calls: sum((d) => d.calls),
        reloads: sum((d) => d.reloads),
        busyMs: sum((d) => d.busyMs),
        holder: devices[0]!.holder,
      },
      reconfigurations: {
        completed: this.#reconfOk,
        failed: this.#reconfFailed,
        tenantSwitches: this.#switches,
      },
      workers: this.#pool.size,
      variantsCached: variants,
      emulation: this.#emulationStats(),
    };
  }

  #emulationStats(): RuntimeStats['emulation'] {
    const pool = this.#lanes[0]!.backend.emulation;
    if (pool == null) return null;
    return { workers: pool.workers, queued: pool.queued, ...this.#emu };
  }

  /**
   * Samples since the previous call (arrivals, rejections, stage service times, latencies), per tenant —
   * what a controller's rate and service-time estimators read. Draining: each sample is returned once.
   */
  observe(): RuntimeObservation {
    const toMs = performance.now();
    const tenants: Record<string, TenantObservation> = {};
    for (const t of this.#tenants.values()) {
      tenants[t.name] = t.obs;
      t.obs = emptyObservation();
    }
    const fromMs = this.#obsFromMs;
    this.#obsFromMs = toMs;
    return { fromMs, toMs, tenants };
  }

  /**
   * Graceful drain: new submits, tenants and reconfigurations are refused with `ShuttingDownError`; requests
   * in flight finish; then every interpreter is disposed and every worker terminated. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closed !== null) return this.#closed;
    this.#closing = true;
    this.#closed = (async () => {
      await this.#chain;
      // The sweep keeps running while requests drain (their deadlines still hold), and stops once they have.
      if (this.#inFlight > 0) {
        await new Promise<void>((resolve) => {
          this.#drained = resolve;
        });
      }
      if (this.#sweepTimer !== null) clearInterval(this.#sweepTimer);
      this.#sweepTimer = null;
      const all = [...this.#tenants.values(), ...this.#removing.values()];
      await Promise.all(all.map((t) => this.#dispose(t.current)));
      await Promise.all(this.#lanes.map((l) => l.backend.close()));
      await this.#shared?.close();
      await this.#pool.close();
    })();
    return this.#closed;
  }
}

/** Error codes a caller should treat as "refused at admission" (retry later or elsewhere). */
export const REJECTION_CODES: readonly SwapLessError['code'][] = [
  'SWAPLESS_OVERLOADED',
  'SWAPLESS_SHUTTING_DOWN',
  'SWAPLESS_SHED_FOR_SLO',
];

/**
 * Creates a runtime. The emulated backend starts at once; workers start with the first tenant.
 * Throws `InvalidArgumentError` for bad options (an unknown profile included).
 */
export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  return new Runtime(options);
}

/** A decision's admitted fraction (absent: all), checked: a number in [0, 1]. */
function admitOf(value: unknown, what: string): number {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1))
    throw new InvalidArgumentError(expected('an admitted fraction between 0 and 1', what, value));
  return value;
}
