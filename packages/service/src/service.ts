/**
 * The controlled runtime: a `@swapless/runtime` executor driven by a `@swapless/controller` policy, with tenants
 * that come and go. Everything the adapters (KServe, management, Prometheus, dashboard) read comes from here.
 * How it works — the tick loop, adding and removing tenants, what is measured and what is emulated:
 * docs/service.md.
 */
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { defaultVariantStore, type StoredModel, type VariantStore } from '@swapless/compiler';
import {
  type Decision,
  MODEL_NAME_PATTERN,
  type ModelMetadata,
  type NamedChoice,
  type TensorArray,
} from '@swapless/contracts';
import {
  assertServable,
  buildCatalog,
  classifyModel,
  compiledCatalog,
  createPolicy,
  type LoadObservation,
  POLICY_NAMES,
  type Policy,
  type PolicyName,
  type PolicyTenant,
  type Predictor,
  type StageObservation,
  type TenantCatalog,
  type TickObservations,
} from '@swapless/controller';
import {
  ConflictError,
  ErrorCodes,
  expected,
  InvalidArgumentError,
  InvalidModelError,
  isSwapLessError,
  NotFoundError,
  positiveInt,
  quantile,
  ShuttingDownError,
} from '@swapless/core';
import { createInterpreter, type InterpreterOptions, vetModel } from '@swapless/edgetpu';
import type { HostedLatencyModel } from '@swapless/queueing';
import {
  createRuntime,
  type EdgeTpuBackendOptions,
  type ReconfigureRequest,
  type Runtime,
  type RuntimeObservation,
  type RuntimeStats,
  type SubmitOptions,
  type SubmitResult,
} from '@swapless/runtime';
import { readModel, runnability } from '@swapless/tflite';
import { type DeviceProfile, getProfile, MIB } from '@swapless/tpu-emulator';
import { EmulationMonitor } from './emulation-monitor.js';
import { fitObservations } from './fit-observations.js';
import { edgeTpuHeadCompiler } from './head-compiler.js';
import { policyOptionsWith, serviceLatencyModel } from './latency-model.js';
import { ClosedLoop } from './loop.js';
import { modelMetadata } from './metadata.js';
import { DeviceWindows, deviceUses, Placement, planContext, resolveDevices } from './placement.js';
import { RefusalWindows } from './refusals.js';
import { SloAttainment, sloPercentileOf } from './slo-attainment.js';
import type {
  ControllerStatus,
  DecisionRecord,
  DeviceState,
  DeviceTenant,
  PredictedStages,
  SeriesSample,
  SeriesTenant,
  ServiceEvents,
  ServiceGauges,
  ServiceOptions,
  ServiceVetting,
  TenantSpec,
  TenantStatus,
} from './types.js';

/** Policy tick times kept for the decision-time percentiles. */
const DECISION_TIMES = 1024;
/** Runtime events the service re-emits. */
const FORWARDED = ['request', 'reject', 'reload', 'reconfigure'] as const;
type Forwarded = (typeof FORWARDED)[number];

/** Per-tenant figures of one tick window. */
interface TickWindow {
  completed: number;
  meanMs: number | null;
  p99Ms: number | null;
  emulationLagMs: number | null;
  withinSlo: number | null;
}

/** What the service keeps per tenant. */
interface Entry {
  name: string;
  source: string;
  bytes: Uint8Array;
  sha256: string;
  /** The model as the variant store holds it (parsed once). */
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

function positiveNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(expected('a finite number > 0', what, value));
  }
  return value;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A failure of `addTenant` as every caller should see it: TFLite refusing to load the model (while it is vetted,
 * profiled or loaded, whole or as a part the service split off) is a bad model — `InvalidModelError` naming the
 * tenant, the native error as its cause and `details.code` —, not a failure of the service.
 */
function tenantError(error: unknown, tenant: string, source: string): unknown {
  if (!isSwapLessError(error, ErrorCodes.TFLITE_RUNTIME)) return error;
  return new InvalidModelError(
    `Expected a model TFLite can load for tenant ${tenant}${source ? ` (${source})` : ''} but: ${error.message}`,
    { cause: error, details: { ...error.details, code: error.code, tenant } },
  );
}

function unknownTenant(name: unknown, tenants: string[]): NotFoundError {
  return new NotFoundError(expected('the name of a tenant', 'the tenant', name), {
    details: { reason: 'unknown-tenant', tenants },
  });
}

/**
 * The SwapLess service: tenants (model + catalog + prior rate) on one runtime, re-planned by a controller
 * policy every tick and whenever a tenant is added or removed. Create it with {@link createService}.
 *
 * Events: `decision` (every decision, applied or not), `tenant` (added/removed), `tick` (one
 * {@link SeriesSample} per tick), and the runtime's `request`, `reject`, `reload`, `reconfigure`, forwarded.
 */
export class Service extends EventEmitter<ServiceEvents> {
  /** Conditions the operator should know about, found at creation (e.g. a real Edge TPU without a compiler). */
  readonly warnings: string[] = [];
  /** The executor (its events: `request`, `arrival`, `reject`, `reload`, `reconfigure`). */
  readonly runtime: Runtime;
  /** CPU cores of the tenants' CPU stages together. */
  readonly cores: number;
  /** Controller tick, ms. */
  readonly tickMs: number;
  readonly #profile: DeviceProfile;
  /** The real Edge TPU's delegate settings (null when it is emulated): a compiled tenant is measured on it. */
  readonly #edgetpu: EdgeTpuBackendOptions | null;
  readonly #policyFactory: () => Policy;
  #policyName: string;
  readonly #predictor: Predictor & Pick<HostedLatencyModel['model'], 'fit'>;
  readonly #latency: HostedLatencyModel;
  readonly #options: ServiceOptions;
  readonly #historyLimit: number;
  readonly #seriesLimit: number;
  readonly #threads: number[];
  readonly #tenants = new Map<string, Entry>();
  /** Names being added (catalog being built) or removed: a second change of the same name waits or fails. */
  readonly #adding = new Set<string>();
  readonly #removing = new Map<string, Promise<void>>();
  readonly #catalogs = new Map<string, Promise<TenantCatalog>>();
  /** The one home of the tenants' variants, shared with the runtime and the catalogues. */
  readonly #variants: VariantStore;
  readonly #history: DecisionRecord[] = [];
  readonly #series: SeriesSample[] = [];
  readonly #emulation = new EmulationMonitor();
  readonly #decisionTimes = new Float64Array(DECISION_TIMES);
  #decisionCount = 0;
  #lastDecisionMs: number | null = null;
  #policy: Policy | null = null;
  /** Tenant order of the policy (its decisions' choices follow it). */
  #planNames: string[] = [];
  #loads: LoadObservation[] = [];
  #seq = 0;
  #ticks = 0;
  #tickQueued = false;
  #lastReloads = 0;
  #lastBusyMs = 0;
  readonly #refusals = new RefusalWindows();
  readonly #slo = new SloAttainment();
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #closing = false;
  #closed: Promise<void> | null = null;
  readonly #t0 = performance.now();
  /** Online correction, front-end times and divergence (loop.ts). */
  readonly #loop: ClosedLoop;
  readonly #clock: () => number;
  readonly #forwarders = new Map<Forwarded, (...args: unknown[]) => void>();
  /** The host's Edge TPUs and where the operator placed tenants (placement.ts). */
  readonly #placement: Placement;
  readonly #deviceWindows = new DeviceWindows();

  /** @internal Use {@link createService}. */
  constructor(runtime: Runtime, options: ServiceOptions, settings: ServiceSettings) {
    super();
    this.runtime = runtime;
    this.#options = options;
    this.cores = settings.cores;
    this.tickMs = settings.tickMs;
    this.#profile = settings.profile;
    this.#edgetpu = settings.edgetpu;
    this.#variants = settings.variants;
    this.#placement = new Placement(runtime.devices, settings.deviceProfiles);
    const chosen = settings.policy;
    this.#policyName = typeof chosen === 'string' ? chosen : 'custom';
    this.#loop = new ClosedLoop(options.policyOptions);
    if (this.#placement.several) this.#loop.devices = this.#placement.devices;
    // A functional emulator's pool computes the heads: the loop models its queue (the emulation lag).
    this.#loop.correction.setEmulation(runtime.stats().emulation?.workers ?? null);
    this.#clock = options.clock ?? Date.now;
    const loop = this.#loop;
    this.#policyFactory =
      typeof chosen === 'string'
        ? () => createPolicy(chosen, loop.policyOptions(chosen, options.policyOptions) as never)
        : chosen;
    this.#latency = settings.latencyModel;
    this.#predictor = settings.latencyModel.model;
    this.#historyLimit = settings.historyLimit;
    this.#seriesLimit = settings.seriesLimit;
    this.#threads = Array.from({ length: Math.min(this.cores, availableParallelism()) }, (_, i) => i + 1);
    // Forward a runtime event only while someone listens for it here: an unobserved event costs the runtime's
    // request path nothing (it skips emitting without listeners).
    const plain = this as unknown as EventEmitter;
    plain.on('newListener', (event: string | symbol) => {
      if (!(FORWARDED as readonly (string | symbol)[]).includes(event)) return;
      const e = event as Forwarded;
      if (this.#forwarders.has(e)) return;
      const fn = (...args: unknown[]) => plain.emit(e, ...args);
      this.#forwarders.set(e, fn);
      (this.runtime as unknown as EventEmitter).on(e, fn);
    });
    plain.on('removeListener', (event: string | symbol) => {
      const e = event as Forwarded;
      const fn = this.#forwarders.get(e);
      if (fn === undefined || this.listenerCount(e) > 0) return;
      this.#forwarders.delete(e);
      (this.runtime as unknown as EventEmitter).off(e, fn);
    });
    this.#timer = setInterval(this.#onInterval, this.tickMs);
    this.#timer.unref();
  }

  /** False while closing (and after). */
  get ready(): boolean {
    return !this.#closing;
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(task);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #now(): number {
    return performance.now() - this.#t0;
  }

  #entry(name: string): Entry {
    const e = typeof name === 'string' ? this.#tenants.get(name) : undefined;
    if (e === undefined) throw unknownTenant(name, [...this.#tenants.keys()]);
    return e;
  }

  /** True when `name` is a tenant (requests for it are admitted). */
  has(name: string): boolean {
    return this.#tenants.has(name);
  }

  /** Tenant names, in the order they were added. */
  tenantNames(): string[] {
    return [...this.#tenants.keys()];
  }

  /**
   * The tenant's model metadata, KServe-shaped (frozen, shared).
   * @throws NotFoundError (`SWAPLESS_NOT_FOUND`, `details.reason` `'unknown-tenant'`) for a name that is not a tenant.
   */
  metadata(name: string): ModelMetadata {
    return this.#entry(name).metadata;
  }

  /**
   * A tenant's catalog: its candidate cuts with the modelled Edge TPU stages and the CPU times measured on this host
   * (the profile). `NotFoundError` for an unknown tenant.
   */
  catalog(name: string): TenantCatalog {
    return this.#entry(name).catalog;
  }

  /**
   * Runs one request: `runtime.submit`. Resolves with the model's outputs (in model output order) and the
   * request's trace; rejects with `NotFoundError` (unknown tenant — `details.reason` `'unknown-tenant'`),
   * `InvalidArgumentError` (wrong inputs), `OverloadedError` (tenant queue full, or `options.deadlineMs` out of reach),
   * `DeadlineExceededError` (admitted, then dropped before it ran: it could no longer finish by its deadline),
   * `ShuttingDownError` (closing).
   */
  infer(
    name: string,
    inputs: TensorArray | readonly TensorArray[],
    options?: SubmitOptions,
  ): Promise<SubmitResult> {
    return this.runtime.submit(name, inputs, options);
  }

  /**
   * Admission alone (`runtime.admit`): returns when tenant `name` has room in its queue and a request arriving now
   * is predicted to finish by `deadlineMs` (`performance.now()` clock), else throws `OverloadedError`
   * (`details.reason` `'queue-full'` or `'deadline'`). The prediction uses the latency model's stage times for the
   * tenant's configuration until the runtime has measured them. Lets a server refuse a request before reading
   * its body.
   */
  admit(name: string, deadlineMs: number): void {
    this.runtime.admit(name, deadlineMs);
  }

  /**
   * Reports the front-end time of one request of tenant `name`, ms: what the server spent on it outside the
   * runtime (body read, decode, encode, HTTP queueing). Its running mean is added to the tenant's predictions, so
   * they are what a client sees. Cheap; returns false (and ignores it) for an unknown tenant or a value that is not
   * a finite number ≥ 0.
   */
  observeFrontend(name: string, ms: number): boolean {
    return this.#tenants.has(name) && this.#loop.frontend.observe(name, ms);
  }

  /**
   * Adds a tenant: builds its model's catalog (profiles the CPU suffixes — seconds for a large model, cached on
   * disk and per model hash in memory; progress through `options.onProgress`), re-plans every tenant with a
   * fresh policy (current estimated rates as priors), reconfigures the others and adds the new one to the
   * runtime. Ticks continue while the catalog is built and pause while the plan is applied.
   *
   * @throws InvalidArgumentError for a bad spec or a plan that does not fit (e.g. fewer cores than a baseline policy
   *   needs); ConflictError (`SWAPLESS_CONFLICT`, `details.reason` `'duplicate-tenant'`) for a name in use.
   * A float model (nothing maps to the Edge TPU) is a CPU-only tenant (k = 0; the controller chooses its cores).
   * A compiled `*_edgetpu.tflite` is served whole on a real Edge TPU (one fixed choice, its Edge TPU time
   * measured on the device at registration).
   *
   * @throws InvalidModelError / UnsupportedModelError for bytes that are not a servable .tflite model:
   *   `UnsupportedModelError` names the tenant for a custom op nothing here runs (`tenant "seg": cannot run
   *   here: custom op X`) and for a compiled model under emulation (give the uncompiled quantized model), before
   *   anything is profiled.
   * @throws InvalidModelError (`details.code` `SWAPLESS_TFLITE_RUNTIME`, `details.tenant`) when TFLite refuses to
   *   load the model or a part of it, while it is vetted, profiled or loaded: the message names the tenant.
   * @throws ModelRejectedError when vetting refused the model (see {@link Service.vet}).
   * @throws ShuttingDownError while closing.
   * A failed add leaves the service as it was.
   */
  async addTenant(spec: TenantSpec): Promise<TenantStatus> {
    if (this.#closing) throw new ShuttingDownError('The service is closing: no tenant can be added');
    if (typeof spec !== 'object' || spec === null) {
      throw new InvalidArgumentError(expected('an object { name, model, source }', 'the tenant spec', spec));
    }
    const { name, model, source } = spec;
    if (typeof name !== 'string' || !MODEL_NAME_PATTERN.test(name)) {
      throw new InvalidArgumentError(
        expected(`a name matching ${MODEL_NAME_PATTERN.source}`, 'the tenant name', name),
        { details: { reason: 'invalid-name' } },
      );
    }
    if (!(model instanceof Uint8Array) || model.byteLength === 0) {
      throw new InvalidArgumentError(
        expected('a non-empty Uint8Array of .tflite bytes', `the model of ${name}`, model),
      );
    }
    if (typeof source !== 'string') {
      throw new InvalidArgumentError(expected('a string', `the source of ${name}`, source));
    }
    const priorPerS = spec.rate === undefined ? 1 : positiveNumber(spec.rate, `the rate of ${name}`);
    const sloMs = spec.sloMs === undefined ? null : positiveNumber(spec.sloMs, `the sloMs of ${name}`);
    const sloPercentile = sloPercentileOf(sloMs, spec.sloPercentile, name);
    const queueLimit =
      spec.queueLimit === undefined ? undefined : positiveInt(spec.queueLimit, `the queueLimit of ${name}`);
    const device =
      spec.device === undefined ? undefined : this.#placement.check(spec.device, `the device of ${name}`);
    if (this.#tenants.has(name) || this.#adding.has(name) || this.#removing.has(name)) {
      throw new ConflictError(expected('a new tenant name', 'the tenant name', name), {
        details: { reason: 'duplicate-tenant' },
      });
    }
    this.#adding.add(name);
    try {
      // Parsed once, in the variant store (its own copy of the bytes): the catalogue and the runtime read it there.
      const stored = this.#variants.model(model);
      const { bytes, model: parsed, sha256 } = stored;
      // The model's class, before anything is profiled or loaded: a custom op nothing here runs, or a compiled
      // model without a real Edge TPU, is refused naming the tenant; a float model is a CPU-only tenant.
      const kind = classifyModel(parsed);
      assertServable(kind, `tenant ${JSON.stringify(name)}`, { realEdgeTpu: this.#edgetpu !== null });
      const metadata = modelMetadata(name, parsed);
      await this.vet(bytes, `tenant ${name}${source ? ` (${source})` : ''}`);
      const catalog =
        kind.kind === 'compiled'
          ? await this.#compiledCatalogFor(bytes, sha256, source || name)
          : await this.#catalogFor(bytes, sha256, source || name);
      return await this.#serial(async () => {
        if (this.#closing) throw new ShuttingDownError('The service is closing: no tenant can be added');
        const entry: Entry = {
          name,
          source,
          bytes,
          sha256,
          stored,
          catalog,
          metadata,
          priorPerS,
          sloMs,
          sloPercentile,
          ratePerS: priorPerS,
          predictedMs: null,
          predictedStages: null,
          lastAdmitted: 0,
          lastCompleted: 0,
        };
        this.#placement.pin(name, device);
        try {
          await this.#addPlanned(entry, queueLimit);
        } catch (error) {
          this.#placement.forget(name);
          throw error;
        }
        return this.#status(entry, this.runtime.stats());
      });
    } catch (error) {
      throw tenantError(error, name, source);
    } finally {
      this.#adding.delete(name);
    }
  }

  /**
   * Vets a model before this process loads it (a no-op with `vetting: false`): a short-lived child process loads it
   * with the interpreter options the service uses — XNNPACK with the most threads a CPU stage can get, and the
   * plain kernels on one thread — invokes it once and disposes it. `addTenant` calls it; a server calls it for a
   * model dropped into its repository. The child runs off the event loop, so tenants keep being served meanwhile;
   * verdicts are cached by content hash (a restart vets nothing it has seen). A model the CPU runtime cannot run is
   * not vetted: one compiled for the Edge TPU (`edgetpu-custom-op`) runs only on the Edge TPU delegate, whose device
   * belongs to this process, so a child could not open it — on a real Edge TPU such a model is loaded here
   * unvetted at registration, verified by the reader only (under emulation it is refused); one with a custom op
   * nothing here resolves never reaches TFLite (`createInterpreter` refuses it first), and registration refuses it
   * naming the tenant.
   *
   * @throws ModelRejectedError when the model killed the child (`details.reason`, e.g. `signal SIGSEGV`), hung or
   *   exhausted its memory; the child's own typed error (`InvalidModelError`, `TfLiteRuntimeError`…) when the model
   *   failed cleanly.
   */
  async vet(bytes: Uint8Array, label: string): Promise<void> {
    const vetting = this.#options.vetting ?? true;
    if (vetting === false) return;
    if (!runnability(readModel(bytes)).cpuRunnable) return;
    const { vetter, ...limits }: ServiceVetting = vetting === true ? {} : vetting;
    const interpreter: InterpreterOptions[] = [
      { threads: this.#threads.at(-1) ?? 1, xnnpack: true, delegate: 'cpu' },
      { threads: 1, xnnpack: false, delegate: 'cpu' },
    ];
    const options = { ...limits, interpreter, label };
    await (vetter === undefined ? vetModel(bytes, options) : vetter.vet(bytes, options));
  }

  #catalogFor(bytes: Uint8Array, sha256: string, label: string): Promise<TenantCatalog> {
    let p = this.#catalogs.get(sha256);
    if (p === undefined) {
      const profiling = this.#options.profiling ?? {};
      p = buildCatalog(bytes, {
        name: label,
        device: this.#profile,
        threads: this.#threads,
        variants: this.#variants,
        ...(profiling.repetitions !== undefined ? { repetitions: profiling.repetitions } : {}),
        ...(profiling.maxCuts !== undefined ? { maxCuts: profiling.maxCuts } : {}),
        ...(profiling.cache !== undefined ? { cache: profiling.cache } : {}),
        ...(this.#options.onProgress !== undefined ? { onProgress: this.#options.onProgress } : {}),
      });
      const built = p;
      this.#catalogs.set(sha256, built);
      // A failed build is forgotten so that a retry builds again.
      built.catch(() => {
        if (this.#catalogs.get(sha256) === built) this.#catalogs.delete(sha256);
      });
    }
    return p;
  }

  /**
   * The catalog of a compiled model on the real Edge TPU: its one fixed choice (the whole model on the device),
   * with the Edge TPU stage measured there — warm invokes give the service time, the first invoke beyond them
   * the cost of loading its parameters (what a token switch costs it again). Cached per model hash.
   */
  #compiledCatalogFor(bytes: Uint8Array, sha256: string, label: string): Promise<TenantCatalog> {
    let p = this.#catalogs.get(sha256);
    if (p === undefined) {
      const built = measureOnEdgeTpu(bytes, this.#edgetpu ?? {}).then((tpu) =>
        compiledCatalog(bytes, {
          name: label,
          device: this.#profile.name,
          tpu: { ...tpu, token: `compiled:${sha256.slice(0, 16)}` },
          variants: this.#variants,
        }),
      );
      p = built;
      this.#catalogs.set(sha256, built);
      built.catch(() => {
        if (this.#catalogs.get(sha256) === built) this.#catalogs.delete(sha256);
      });
    }
    return p;
  }

  /**
   * The rate a fresh policy starts a tenant at: its estimate once it has had requests, else its prior. Before its
   * first request the estimate only says that nothing arrived yet — while a server starts its tenants one by one
   * it decays towards 0 between the additions, and planning at it would plan for an idle tenant.
   */
  #priorOf(e: Entry): number {
    return e.lastAdmitted > 0 && e.ratePerS > 0 ? e.ratePerS : e.priorPerS;
  }

  #policyTenants(entries: readonly Entry[]): PolicyTenant[] {
    return entries.map((e) => {
      const pinned = this.#placement.pinned(e.name);
      return {
        name: e.name,
        catalog: e.catalog,
        rate: this.#priorOf(e),
        ...(e.sloMs !== null ? { sloMs: e.sloMs } : {}),
        ...(e.sloPercentile !== null ? { sloPercentile: e.sloPercentile } : {}),
        // The operator's placement, for a policy that places tenants (`TenantSetup.device`).
        ...(pinned !== undefined ? { device: pinned } : {}),
      };
    });
  }

  /** A fresh policy for `entries`, and its initial decision. */
  #plan(entries: readonly Entry[]): { policy: Policy; decision: Decision; decisionMs: number } {
    const policy = this.#policyFactory();
    this.#policyName = policy.name;
    const t = performance.now();
    const decision = policy.initial(
      planContext(
        {
          tenants: this.#policyTenants(entries),
          cores: this.cores,
          device: this.#profile.name,
          nowMs: this.#now(),
        },
        this.#placement,
      ),
    );
    return { policy, decision, decisionMs: performance.now() - t };
  }

  async #addPlanned(entry: Entry, queueLimit: number | undefined): Promise<void> {
    const others = [...this.#tenants.values()];
    const entries = [...others, entry];
    const { policy, decision, decisionMs } = this.#plan(entries);
    const names = entries.map((e) => e.name);
    const trigger = others.length === 0 ? 'initial' : 'tenant-added';
    const record = this.#record(trigger, decision, decisionMs, entries);
    const before: NamedChoice[] = others.map((e) => ({ name: e.name, ...this.runtime.choice(e.name) }));
    const found = decision.tenants.find((t) => t.name === entry.name);
    const newcomer = found === undefined ? undefined : this.#placement.place(found);
    try {
      if (newcomer === undefined) {
        throw new InvalidArgumentError(
          expected(
            `a choice for the new tenant ${entry.name}`,
            `the decision of policy ${policy.name}`,
            'none',
          ),
        );
      }
      // The others first: the plan fits the core budget with the newcomer, so shrinking them makes room for it
      // (the runtime does not know the newcomer yet).
      await this.#reconfigure({ tenants: decision.tenants.filter((t) => t !== found) });
      try {
        await this.runtime.addTenant({
          name: entry.name,
          model: entry.bytes,
          choice: newcomer,
          ...(queueLimit !== undefined ? { queueLimit } : {}),
        });
      } catch (error) {
        // Put the others back as they were: a failed add changes nothing.
        await this.#reconfigure({ tenants: before }).catch(() => undefined);
        throw error;
      }
    } catch (error) {
      record.error = message(error);
      this.#pushDecision(record);
      throw error;
    }
    record.applied = true;
    this.#tenants.set(entry.name, entry);
    this.#loop.add(entry.name, entry.catalog);
    this.#policy = policy;
    this.#planNames = names;
    this.#predict(this.runtime.stats());
    this.#emitSafe('tenant', { action: 'added', name: entry.name });
    this.#pushDecision(record);
  }

  /**
   * Removes a tenant: new requests for it are refused at once, its requests in flight complete, then the
   * remaining tenants are re-planned with a fresh policy. Concurrent calls for the same name share one removal.
   * @throws NotFoundError (`SWAPLESS_NOT_FOUND`, `details.reason` `'unknown-tenant'`) for a name that is not a tenant.
   */
  removeTenant(name: string): Promise<void> {
    const pending = this.#removing.get(name);
    if (pending !== undefined) return pending;
    if (!this.#tenants.has(name)) return Promise.reject(unknownTenant(name, [...this.#tenants.keys()]));
    const run = this.#serial(async () => {
      const entry = this.#tenants.get(name);
      if (entry === undefined) throw unknownTenant(name, [...this.#tenants.keys()]);
      try {
        await this.runtime.removeTenant(name);
      } finally {
        // Whether or not the runtime still had it (closing), the service no longer serves it.
        this.#tenants.delete(name);
        this.#slo.forget(name);
        this.#loop.remove(name);
        this.#placement.forget(name);
      }
      this.#emitSafe('tenant', { action: 'removed', name });
      const rest = [...this.#tenants.values()];
      if (rest.length === 0 || this.#closing) {
        this.#policy = null;
        this.#planNames = [];
        return;
      }
      let planned: { policy: Policy; decision: Decision; decisionMs: number };
      try {
        planned = this.#plan(rest);
      } catch (error) {
        // The old plan minus the removed tenant still fits: keep running it, without a policy to re-plan.
        process.emitWarning(`SwapLess service: re-planning after removing ${name} failed: ${message(error)}`);
        this.#policy = null;
        this.#planNames = [];
        return;
      }
      const names = rest.map((e) => e.name);
      const record = this.#record('tenant-removed', planned.decision, planned.decisionMs, rest);
      this.#policy = planned.policy;
      this.#planNames = names;
      try {
        await this.#reconfigure(planned.decision);
        record.applied = true;
      } catch (error) {
        record.error = message(error);
      }
      this.#predict(this.runtime.stats());
      this.#pushDecision(record);
    });
    const shared = run.finally(() => this.#removing.delete(name));
    this.#removing.set(name, shared);
    return shared;
  }

  /**
   * Places tenant `name` on Edge TPU `device` for good (null: wherever the controller decides again) and moves it
   * there now — a live reconfiguration: its requests already queued or running finish on the device they started
   * on, new ones go to the new device, none is lost. Resolves with its status.
   * @throws NotFoundError for an unknown tenant; InvalidArgumentError (`details.reason` `'unknown-device'`) for an
   *   id that is not a device of this host; ShuttingDownError while closing.
   */
  moveTenant(name: string, device: string | null): Promise<TenantStatus> {
    if (this.#closing)
      return Promise.reject(new ShuttingDownError('The service is closing: no tenant can move'));
    try {
      this.#entry(name);
      if (device !== null) this.#placement.check(device, `the device of ${name}`);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#serial(async () => {
      const entry = this.#entry(name);
      const before = this.#placement.pinned(name);
      this.#placement.pin(name, device ?? undefined);
      try {
        // Unpinned: the controller's next decision places it; until then it stays where it is.
        if (device !== null) await this.#reconfigure({ tenants: [{ name, ...this.runtime.choice(name) }] });
      } catch (error) {
        this.#placement.pin(name, before);
        throw error;
      }
      this.#predict(this.runtime.stats());
      return this.#status(entry, this.runtime.stats());
    });
  }

  /**
   * Hands a decision to the runtime as it is (the runtime switches only the tenants whose choice changes); a
   * decision that changes nothing does not reach it.
   */
  async #reconfigure(decision: ReconfigureRequest): Promise<void> {
    const tenants = this.#placement.placeAll(decision.tenants);
    if (tenants.every((t) => this.#placement.same(this.runtime.choice(t.name), t))) return;
    const event = await this.runtime.reconfigure({ tenants });
    // What loading the new variants cost: the policy's switch-cost model learns from it.
    for (const t of event.tenants) this.#loads.push({ tenant: t.name, k: t.to.k, ms: event.elapsedMs });
  }

  #record(
    trigger: DecisionRecord['trigger'],
    decision: Decision,
    decisionMs: number,
    entries: readonly Entry[],
  ): DecisionRecord {
    const rates = entries.map((e) =>
      trigger === 'tick' || trigger === 'divergence' ? e.ratePerS : this.#priorOf(e),
    );
    // What a client should see under it (loop.ts), when the policy has a prediction of it at all.
    let predictedMs = finiteOrNull(decision.predictedMs);
    if (predictedMs !== null) {
      const planned = entries.map((e, i) => ({ name: e.name, rate: rates[i]!, catalog: e.catalog }));
      predictedMs =
        this.#loop.meanMs(this.#predictor, planned, decision.tenants, this.cores, this.#profile.name) ??
        predictedMs;
    }
    return {
      seq: ++this.#seq,
      atMs: this.#clock(),
      trigger,
      choices: decision.tenants.map((c) => this.#placement.recorded(this.#placement.place(c))),
      predictedMs,
      reason: decision.reason,
      rates: Object.fromEntries(entries.map((e, i) => [e.name, rates[i]!])),
      decisionMs,
      applied: false,
    };
  }

  #pushDecision(record: DecisionRecord): void {
    this.#history.push(record);
    if (this.#history.length > this.#historyLimit)
      this.#history.splice(0, this.#history.length - this.#historyLimit);
    this.#emitSafe('decision', record);
  }

  #emitSafe<K extends keyof ServiceEvents>(event: K, ...args: ServiceEvents[K]): void {
    if (this.listenerCount(event) === 0) return;
    try {
      (this.emit as (e: K, ...a: ServiceEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      // A listener's bug must not break the controller loop.
      process.emitWarning(`A '${String(event)}' listener of the SwapLess service threw: ${message(error)}`);
    }
  }

  readonly #onInterval = (): void => {
    if (this.#tickQueued || this.#closing) return;
    this.#tickQueued = true;
    void this.#serial(async () => {
      try {
        if (!this.#closing) await this.#tick();
      } catch (error) {
        process.emitWarning(`SwapLess service: a controller tick failed: ${message(error)}`);
      } finally {
        this.#tickQueued = false;
      }
    });
  };

  /**
   * One controller tick: drain the runtime's observations, feed them to the policy, apply its decision, and
   * record a series sample.
   */
  async #tick(): Promise<void> {
    const obs = this.runtime.observe();
    const stats = this.runtime.stats();
    const windowMs = Math.max(1e-6, obs.toMs - obs.fromMs);
    this.#ticks++;
    const { tick, windowRates, windows } = this.#observations(obs, stats, windowMs);
    // The correction learns before the policy plans with it; the window's completions are compared with the
    // prediction that was in force while they ran.
    this.#loop.observe(tick.stages ?? []);
    // The latency model calibrates on the same window (fit-observations.ts maps it), when it can.
    if (typeof this.#predictor.fit === 'function')
      this.#loop.fit(
        this.#predictor,
        fitObservations(obs, windowRates, (n) => stats.tenants[n]?.choice.cores ?? 0),
      );
    const now = this.#clock();
    const ratios = this.#diverge(windows, now);
    let decisionMs: number | null = null;
    let decision: Decision | null = null;
    const policy = this.#policy;
    if (policy !== null && this.#planNames.length > 0) {
      const t = performance.now();
      try {
        decision = policy.onTick(tick, obs.toMs - this.#t0);
      } catch (error) {
        process.emitWarning(`SwapLess service: the '${policy.name}' policy failed a tick: ${message(error)}`);
      }
      decisionMs = performance.now() - t;
      this.#decisionTimes[this.#decisionCount++ % DECISION_TIMES] = decisionMs;
      this.#lastDecisionMs = decisionMs;
    }
    const snapshot = policy?.rates ?? null;
    for (const e of this.#tenants.values()) {
      const estimated = snapshot?.rates[e.name];
      e.ratePerS =
        estimated !== undefined && Number.isFinite(estimated) ? estimated : (windowRates.get(e.name) ?? 0);
    }
    if (decision !== null && decisionMs !== null) await this.#applyDecision('tick', decision, decisionMs);
    const replanned = decision === null && policy !== null && (await this.#divergenceReplan(policy, now));
    const after = decision !== null || replanned ? this.runtime.stats() : stats;
    this.#predict(after);
    const tenants: Record<string, SeriesTenant> = {};
    const refusals = this.#refusals.take(after.tenants);
    for (const e of this.#tenants.values()) {
      const st = after.tenants[e.name];
      if (st === undefined) continue;
      const w = windows.get(e.name);
      tenants[e.name] = {
        ratePerS: e.ratePerS,
        completed: w?.completed ?? 0,
        meanMs: w?.meanMs ?? null,
        p99Ms: w?.p99Ms ?? null,
        k: st.choice.k,
        cores: st.choice.cores,
        inFlight: st.inFlight,
        predictedMs: e.predictedMs,
        predictedStages: e.predictedStages,
        divergence: ratios.get(e.name) ?? null,
        emulationLagMs: w?.emulationLagMs ?? null,
        rejected: refusals.get(e.name)?.rejected ?? 0,
        expired: refusals.get(e.name)?.expired ?? 0,
        withinSlo: w?.withinSlo ?? null,
      };
    }
    this.#emulation.record(after.emulation, obs.toMs);
    const reloads = stats.tpu.reloads - this.#lastReloads;
    const busy = stats.tpu.busyMs - this.#lastBusyMs;
    this.#lastReloads = stats.tpu.reloads;
    this.#lastBusyMs = stats.tpu.busyMs;
    const sample: SeriesSample = {
      atMs: now,
      tenants,
      tpu: { queued: after.tpu.queued, reloads, busyFraction: Math.min(1, Math.max(0, busy / windowMs)) },
      decisionMs,
      devices: this.#deviceWindows.take(stats.devices, after.devices, windowMs),
    };
    this.#series.push(sample);
    if (this.#series.length > this.#seriesLimit)
      this.#series.splice(0, this.#series.length - this.#seriesLimit);
    this.#emitSafe('tick', sample);
  }

  /** Feeds the tick's completions to the divergence tracker; the ratio per tenant (null: too few completions). */
  #diverge(
    windows: ReadonlyMap<string, { completed: number; meanMs: number | null }>,
    now: number,
  ): Map<string, number | null> {
    const ratios = new Map<string, number | null>();
    for (const e of this.#tenants.values()) {
      const w = windows.get(e.name);
      // Measured as a client of this server sees it: the runtime's latency plus the front-end time.
      const mean = w?.meanMs == null ? null : w.meanMs + this.#loop.frontend.meanMs(e.name);
      const d = this.#loop.divergence.record(e.name, now, w?.completed ?? 0, mean, e.predictedMs);
      ratios.set(e.name, d.ratio);
    }
    return ratios;
  }

  /**
   * When a tenant's measured mean has stayed > 25 % off its prediction for 10 s: one re-plan past the hysteresis
   * (`policy.replan`), recorded with trigger `divergence`. True when a decision was applied.
   */
  async #divergenceReplan(policy: Policy, now: number): Promise<boolean> {
    const due = this.#loop.divergence.takeDue(now);
    if (due.length === 0 || policy.replan === undefined || this.#planNames.length === 0) return false;
    const why = `divergence of ${due
      .map((n) => `${n} (measured/predicted ${this.#loop.divergence.status(n).ratio?.toFixed(2)})`)
      .join(', ')}`;
    const t = performance.now();
    let decision: Decision | null = null;
    try {
      decision = policy.replan(now, why);
    } catch (error) {
      process.emitWarning(
        `SwapLess service: the '${policy.name}' policy failed to re-plan: ${message(error)}`,
      );
    }
    if (decision === null) return false;
    return (await this.#applyDecision('divergence', decision, performance.now() - t)).applied;
  }

  /** Applies a decision of the current policy to the runtime and records it. */
  async #applyDecision(
    trigger: 'tick' | 'divergence',
    decision: Decision,
    decisionMs: number,
  ): Promise<DecisionRecord> {
    const names = this.#planNames;
    const entries = names.map((n) => this.#tenants.get(n)!);
    const record = this.#record(trigger, decision, decisionMs, entries);
    try {
      await this.#reconfigure(decision);
      record.applied = true;
    } catch (error) {
      record.error = message(error);
    }
    this.#pushDecision(record);
    return record;
  }

  /** The runtime's observation as the policy's tick input, plus per-window figures for the series. */
  #observations(
    obs: RuntimeObservation,
    stats: RuntimeStats,
    windowMs: number,
  ): {
    tick: TickObservations;
    windowRates: Map<string, number>;
    windows: Map<string, TickWindow>;
  } {
    const arrivals: Record<string, number[]> = {};
    const stages: StageObservation[] = [];
    const windowRates = new Map<string, number>();
    const windows = new Map<string, TickWindow>();
    for (const [name, o] of Object.entries(obs.tenants)) {
      const e = this.#tenants.get(name);
      const st = stats.tenants[name];
      if (e === undefined || st === undefined) continue;
      const admitted = Math.max(0, st.admitted - e.lastAdmitted);
      const completed = Math.max(0, st.completed - e.lastCompleted);
      e.lastAdmitted = st.admitted;
      e.lastCompleted = st.completed;
      // The runtime bounds its observation lists (it drops the oldest entries of a busy window): the counters
      // are exact, so the dropped arrivals are put back evenly between the window start and the first kept one.
      const times: number[] = [];
      const missing = admitted - o.arrivalsMs.length;
      if (missing > 0) {
        const from = obs.fromMs;
        const to = o.arrivalsMs[0] ?? obs.toMs;
        for (let i = 0; i < missing; i++) times.push(from + ((to - from) * (i + 0.5)) / missing - this.#t0);
      }
      for (const a of o.arrivalsMs) times.push(a - this.#t0);
      arrivals[name] = times;
      windowRates.set(name, (Math.max(admitted, o.arrivalsMs.length) * 1000) / windowMs);
      for (let i = 0; i < o.tpuServiceMs.length; i++) {
        stages.push({
          tenant: name,
          stage: 'tpu',
          k: o.tpuAt[i]!,
          ms: o.tpuServiceMs[i]!,
          reload: o.tpuReload[i] === true,
          // Emulation lag of the head's outputs behind the device (0 for the real device).
          lagMs: o.emulationLagMs[i] ?? 0,
          computeMs: o.emulationComputeMs?.[i] ?? 0,
          returnMs: o.emulationReturnMs?.[i] ?? 0,
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
        });
      }
      let meanMs: number | null = null;
      let p99Ms: number | null = null;
      if (o.latencyMs.length > 0) {
        const sorted = Float64Array.from(o.latencyMs).sort();
        let sum = 0;
        for (const v of sorted) sum += v;
        meanMs = sum / sorted.length;
        p99Ms = quantile(sorted, 0.99, 'nearest-rank');
      }
      const lags = stats.emulation === null ? [] : o.emulationLagMs;
      const emulationLagMs = lags.length > 0 ? lags.reduce((a, b) => a + b, 0) / lags.length : null;
      const withinSlo = this.#slo.record(name, e.sloMs, o.latencyMs);
      windows.set(name, { completed, meanMs, p99Ms, emulationLagMs, withinSlo });
    }
    const loads = this.#loads;
    this.#loads = [];
    return { tick: { arrivals, stages, loads }, windowRates, windows };
  }

  /**
   * Updates every tenant's predicted response: the latency model on the corrected catalogs at the estimated rates
   * and the current configuration, plus emulation lag and front-end time.
   */
  #predict(stats: RuntimeStats): void {
    const entries = [...this.#tenants.values()].filter((e) => stats.tenants[e.name] !== undefined);
    for (const e of this.#tenants.values()) {
      e.predictedMs = null;
      e.predictedStages = null;
    }
    if (entries.length === 0) return;
    try {
      const planned = entries.map((e) => ({
        name: e.name,
        rate: e.ratePerS,
        catalog: e.catalog,
        ...(e.sloMs !== null ? { sloMs: e.sloMs } : {}),
      }));
      // At the admitted rates: a tenant whose load is shed only sends its admitted share to the stages.
      const choices = entries.map((e) => {
        const st = stats.tenants[e.name]!;
        return st.admit < 1 ? { ...st.choice, admit: st.admit } : st.choice;
      });
      // The corrected model plus emulation lag and front-end time: what a client of this host sees (loop.ts).
      const {
        responseMs,
        stages,
        prediction: p,
      } = this.#loop.predict(this.#predictor, planned, choices, this.cores, this.#profile.name);
      entries.forEach((e, i) => {
        const t = p.tenants[i];
        e.predictedMs = finiteOrNull(responseMs[i]!);
        e.predictedStages = e.predictedMs === null ? null : (stages[i] ?? null);
        // Deadline admission's stage times until the runtime has measured this configuration.
        if (t !== undefined)
          this.runtime.setServicePrior(e.name, { tpuMs: t.tpuServiceMs, cpuMs: t.cpuServiceMs });
      });
    } catch {
      // A configuration outside the catalog (set by hand on the runtime) has no prediction.
    }
  }

  /** Compile report of a tenant's head at cut k (emulated device model), from the variant store. */
  #head(e: Entry, k: number): { cachedBytes: number; streamedBytes: number; token: string } | null {
    // A compiled model's on-chip split is edgetpu_compiler's, inside the file: the device model cannot tell it.
    if (k === 0 || e.catalog.kind === 'compiled') return null;
    const report = this.#variants.report(e.stored, k, this.#profile)!;
    return {
      cachedBytes: report.onChipCachedBytes,
      streamedBytes: report.offChipStreamedBytes,
      token: report.cachingToken,
    };
  }

  #status(e: Entry, stats: RuntimeStats): TenantStatus {
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
      device: this.#placement.deviceOf(choice),
      pinned: this.#placement.pinned(e.name) !== undefined,
      sloMs: e.sloMs,
      slo: this.#slo.status(e.name, e.sloMs, e.sloPercentile),
      admit: st?.admit ?? 1,
      rate: { estimatedPerS: e.ratePerS, priorPerS: e.priorPerS },
      predictedMs: e.predictedMs,
      measured: st?.latency ?? { count: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0 },
      // No TPU stage at k = 0: the whole latency is measured on the CPU.
      timing: this.runtime.backend === 'edgetpu' || choice.k === 0 ? 'measured' : 'emulated',
      admitted: st?.admitted ?? 0,
      completed: st?.completed ?? 0,
      failed: st?.failed ?? 0,
      expired: st?.expired ?? 0,
      rejected: st === undefined ? 0 : st.rejected.overloaded + st.rejected.shuttingDown + st.rejected.shed,
      inFlight: st?.inFlight ?? 0,
      queueLimit: st?.queueLimit ?? 0,
      tpu: this.#head(e, choice.k),
      divergence: { ...this.#loop.divergence.status(e.name) },
    };
  }

  /** Every tenant now, in the order they were added. */
  tenants(): TenantStatus[] {
    const stats = this.runtime.stats();
    return [...this.#tenants.values()].map((e) => this.#status(e, stats));
  }

  /** One tenant now, or undefined for a name that is not a tenant. */
  tenant(name: string): TenantStatus | undefined {
    const e = this.#tenants.get(name);
    return e === undefined ? undefined : this.#status(e, this.runtime.stats());
  }

  /** The controller: policy, tick, counts, the last decision and the measured time of a policy tick. */
  controller(): ControllerStatus {
    const stats = this.runtime.stats();
    const n = Math.min(this.#decisionCount, DECISION_TIMES);
    const sorted = this.#decisionTimes.slice(0, n).sort((a, b) => a - b);
    const { id, package: pkg, version, label } = this.#latency;
    return {
      policy: this.#policyName,
      latencyModel: id,
      latencyModelDetails: {
        id,
        package: pkg,
        version,
        label,
        fitted: typeof this.#predictor.fit === 'function' ? this.#loop.fitted : null,
      },
      tickMs: this.tickMs,
      ticks: this.#ticks,
      cores: this.cores,
      device: this.#profile.name,
      devices: this.#placement.devices.map((d) => ({ ...d })),
      backend: this.runtime.backend,
      mode: this.runtime.mode,
      decisions: this.#seq,
      reconfigurations: stats.reconfigurations.completed,
      lastDecision: this.#history.at(-1) ?? null,
      decisionMs: {
        last: this.#lastDecisionMs,
        p50: n > 0 ? quantile(sorted, 0.5, 'nearest-rank') : null,
        p99: n > 0 ? quantile(sorted, 0.99, 'nearest-rank') : null,
        max: n > 0 ? sorted[n - 1]! : null,
      },
      emulation: this.#emulation.status(stats.emulation),
      lastVerdict: this.#policy?.lastVerdict ?? null,
    };
  }

  /**
   * The last `limit` decisions (default: all kept), oldest first.
   * @throws InvalidArgumentError for a limit that is not an integer ≥ 0.
   */
  history(limit?: number): DecisionRecord[] {
    if (limit === undefined) return [...this.#history];
    positiveInt(limit, 'the history limit', 0);
    return limit === 0 ? [] : this.#history.slice(-limit);
  }

  /** Tick samples with `atMs` after `sinceMs` (epoch ms; default: all kept), oldest first. */
  series(sinceMs?: number): SeriesSample[] {
    if (sinceMs === undefined || !Number.isFinite(sinceMs)) return [...this.#series];
    let i = this.#series.length;
    while (i > 0 && this.#series[i - 1]!.atMs > sinceMs) i--;
    return this.#series.slice(i);
  }

  /** The Edge TPU: capacity, token holder, each tenant's head (cached vs streamed bytes), call counters. */
  device(): DeviceState {
    const stats = this.runtime.stats();
    const tenants: DeviceTenant[] = [];
    for (const e of this.#tenants.values()) {
      const st = stats.tenants[e.name];
      if (st === undefined) continue;
      const h = this.#head(e, st.choice.k);
      tenants.push({
        name: e.name,
        k: st.choice.k,
        device: this.#placement.deviceOf(st.choice),
        cachedBytes: h?.cachedBytes ?? 0,
        streamedBytes: h?.streamedBytes ?? 0,
        token: h?.token ?? e.catalog.cuts.find((c) => c.k === st.choice.k)?.tpu?.token ?? '',
      });
    }
    return {
      profile: this.#profile.name,
      backend: this.runtime.backend,
      capacityBytes: Math.max(0, Math.floor((this.#profile.sramMiB - this.#profile.fixedReserveMiB) * MIB)),
      holder: stats.tpu.holder?.tenant ?? null,
      tenants,
      calls: stats.tpu.calls,
      reloads: stats.tpu.reloads,
      busyMs: stats.tpu.busyMs,
      devices: deviceUses(stats.devices),
    };
  }

  /** What a metrics exporter reads on a scrape (cheap: no percentiles). */
  gauges(): ServiceGauges {
    const stats = this.runtime.stats();
    const tenants: ServiceGauges['tenants'] = [];
    for (const e of this.#tenants.values()) {
      const st = stats.tenants[e.name];
      if (st === undefined) continue;
      tenants.push({
        name: e.name,
        k: st.choice.k,
        cores: st.choice.cores,
        inFlight: st.inFlight,
        ratePerS: e.ratePerS,
        predictedMs: e.predictedMs,
        divergence: this.#loop.divergence.status(e.name).ratio,
        device: this.#placement.deviceOf(st.choice),
      });
    }
    const emulation = this.#emulation.status(stats.emulation);
    return {
      tenants,
      tpuQueued: stats.tpu.queued,
      devices: stats.devices.map((d) => ({ id: d.id, queued: d.queued, busyMs: d.busyMs })),
      backend: this.runtime.backend,
      emulationLagging: emulation === null ? null : emulation.lagging,
    };
  }

  /**
   * Stops the ticks, refuses new tenants and requests, waits for the tenant change or tick in progress and for
   * every request in flight, then disposes the runtime. Idempotent (every call returns the same promise).
   */
  close(): Promise<void> {
    if (this.#closed !== null) return this.#closed;
    this.#closing = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#closed = (async () => {
      await this.#chain;
      await this.runtime.close();
    })();
    return this.#closed;
  }
}

/** Options after validation (internal). */
interface ServiceSettings {
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

/**
 * Creates a service: validates the options, starts the runtime (emulated Edge TPU by default) and the
 * controller ticks. It starts with no tenant: add them with {@link Service.addTenant}.
 * @throws InvalidArgumentError for bad options (unknown device profile or policy, bad numbers).
 */
export async function createService(options: ServiceOptions = {}): Promise<Service> {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(expected('an options object', 'createService', options));
  }
  const device = options.device ?? 'usb3';
  const warnings: string[] = [];
  const variants = options.variants ?? defaultVariantStore();
  if (typeof variants?.variant !== 'function' || typeof variants.compiledHead !== 'function') {
    throw new InvalidArgumentError(expected('a VariantStore', 'the service variants', variants));
  }
  let profileName: string;
  let edgetpu: { edgetpu: NonNullable<Extract<ServiceOptions['device'], object>>['edgetpu'] } | null = null;
  if (typeof device === 'string') profileName = device;
  else if (typeof device === 'object' && device !== null && typeof device.edgetpu === 'object') {
    profileName = device.profile ?? 'usb3';
    edgetpu = { edgetpu: device.edgetpu };
    if (device.edgetpu.compileHead === undefined) {
      // The real Edge TPU runs only what edgetpu_compiler made: compile each head (cached) when a compiler exists.
      const found = await edgeTpuHeadCompiler(variants, device.compilerPath);
      if (found.compiler !== null) edgetpu = { edgetpu: { ...device.edgetpu, compileHead: found.compiler } };
      else warnings.push(found.warning);
    }
  } else {
    throw new InvalidArgumentError(
      expected('a device profile name or { edgetpu: {...} }', 'the service device', device),
    );
  }
  const devices = resolveDevices(options.devices, profileName, edgetpu !== null);
  // The catalogues model the first device (the default of every tenant).
  const profile = getProfile((devices.profiles[0] ?? profileName) as 'usb3');
  const cores = positiveInt(options.cores ?? Math.max(1, availableParallelism() - 1), 'the service cores');
  const tickMs = positiveInt(options.tickMs ?? 1000, 'the controller tickMs', 10);
  const policy = options.policy ?? 'swapless';
  if (typeof policy !== 'function' && !(POLICY_NAMES as readonly string[]).includes(policy)) {
    throw new InvalidArgumentError(
      expected(`one of ${POLICY_NAMES.join(', ')}`, 'the service policy', policy),
    );
  }
  const historyLimit = positiveInt(options.historyLimit ?? 500, 'the service historyLimit');
  const seriesLimit = positiveInt(options.seriesLimit ?? 600, 'the service seriesLimit');
  const profiling = options.profiling ?? {};
  if (profiling.repetitions !== undefined) positiveInt(profiling.repetitions, 'profiling.repetitions');
  if (profiling.maxCuts !== undefined) positiveInt(profiling.maxCuts, 'profiling.maxCuts', 2);
  checkVetting(options.vetting);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new InvalidArgumentError(expected('a function', 'the service onProgress', options.onProgress));
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    throw new InvalidArgumentError(
      expected('a function returning epoch ms', 'the service clock', options.clock),
    );
  }
  const latencyModel = await serviceLatencyModel(options);
  const runtime = await createRuntime({
    device: edgetpu ?? profile,
    ...(devices.runtime !== undefined ? { devices: devices.runtime } : {}),
    cores,
    ...(options.mode !== undefined ? { mode: options.mode } : {}),
    ...(options.queueLimit !== undefined ? { queueLimit: options.queueLimit } : {}),
    ...(options.emulator !== undefined ? { emulator: options.emulator } : {}),
    variants,
  });
  const policyOptions = policyOptionsWith(options, latencyModel);
  const service = new Service(
    runtime,
    { ...options, policyOptions },
    {
      latencyModel,
      deviceProfiles: devices.profiles,
      cores,
      edgetpu: edgetpu?.edgetpu ?? null,
      tickMs,
      profile,
      policy,
      historyLimit,
      seriesLimit,
      variants,
    },
  );
  service.warnings.push(...warnings);
  return service;
}

const VETTING_KEYS: ReadonlySet<string> = new Set(['timeoutMs', 'memoryLimitBytes', 'cache', 'vetter']);

/**
 * The `vetting` option, checked here rather than at the first registration (where a bad limit would surface as
 * that tenant's failure).
 */
function checkVetting(vetting: unknown): void {
  if (vetting === undefined || typeof vetting === 'boolean') return;
  if (typeof vetting !== 'object' || vetting === null || Array.isArray(vetting)) {
    throw new InvalidArgumentError(
      expected(
        'a boolean or { timeoutMs?, memoryLimitBytes?, cache?, vetter? }',
        'the service vetting',
        vetting,
      ),
    );
  }
  const v = vetting as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!VETTING_KEYS.has(key)) {
      throw new InvalidArgumentError(
        expected([...VETTING_KEYS].join(', '), 'the names of the service vetting options', key),
      );
    }
  }
  if (v.timeoutMs !== undefined) positiveNumber(v.timeoutMs, 'vetting.timeoutMs');
  if (v.memoryLimitBytes !== undefined) positiveNumber(v.memoryLimitBytes, 'vetting.memoryLimitBytes');
  if (v.cache !== undefined && typeof v.cache !== 'boolean') {
    throw new InvalidArgumentError(expected('a boolean', 'vetting.cache', v.cache));
  }
  const vetter = v.vetter as { vet?: unknown } | undefined;
  if (
    vetter !== undefined &&
    (typeof vetter !== 'object' || vetter === null || typeof vetter.vet !== 'function')
  ) {
    throw new InvalidArgumentError(expected('a Vetter (from @swapless/edgetpu)', 'vetting.vetter', vetter));
  }
}

/** Warm invokes timed per compiled model when it is registered on the real Edge TPU. */
const COMPILED_TIMED_RUNS = 10;

/**
 * Times a compiled model on the real Edge TPU (zero inputs: the device's time does not depend on the values):
 * mean and variance of warm invokes, and the extra time of the first one (its parameters' upload). The invokes run
 * on the libuv thread pool (`invokeAsync`), so the other tenants are served meanwhile; creating the interpreter
 * (loading the model onto the device) is synchronous. This model is not vetted (see {@link Service.vet}).
 */
async function measureOnEdgeTpu(
  bytes: Uint8Array,
  edgetpu: EdgeTpuBackendOptions,
): Promise<{ serviceMs: number; serviceVarianceMs2: number; reloadMs: number; source: 'measured' }> {
  const settings: { library?: string; device?: string; options?: Record<string, string> } = {};
  if (edgetpu.library !== undefined) settings.library = edgetpu.library;
  if (edgetpu.device !== undefined) settings.device = edgetpu.device;
  if (edgetpu.options !== undefined) settings.options = edgetpu.options;
  const it = createInterpreter(bytes, { threads: 1, delegate: 'edgetpu', edgetpu: settings });
  try {
    // Each timing includes the hop to the thread pool and back (tens of µs): small beside an Edge TPU invoke.
    const time = async (): Promise<number> => {
      const t = performance.now();
      await it.invokeAsync();
      return performance.now() - t;
    };
    const first = await time();
    await time();
    const samples: number[] = [];
    for (let i = 0; i < COMPILED_TIMED_RUNS; i++) samples.push(await time());
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, samples.length - 1);
    return {
      serviceMs: mean,
      serviceVarianceMs2: variance,
      reloadMs: Math.max(0, first - mean),
      source: 'measured',
    };
  } finally {
    it.dispose();
  }
}
