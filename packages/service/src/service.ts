/**
 * The controlled runtime: a `@swapless/runtime` executor driven by a `@swapless/controller` policy, with tenants
 * that come and go. Everything the adapters (KServe, management, Prometheus, dashboard) read comes from here.
 * How it works — the tick loop, adding and removing tenants, what is measured and what is emulated:
 * docs/service.md.
 */
import { EventEmitter } from 'node:events';
import type { ModelMetadata, TensorArray } from '@swapless/contracts';
import type { TenantCatalog } from '@swapless/controller';
import type { Runtime, SubmitOptions, SubmitResult } from '@swapless/runtime';
import { ControlLoop } from './control-loop.js';
import {
  controllerStatus,
  decisionHistory,
  deviceState,
  seriesSince,
  serviceGauges,
  tenantStatus,
  tenantStatuses,
} from './read-models.js';
import { prepareService } from './settings.js';
import { createState, entryOf, type ServiceSettings, type ServiceState } from './state.js';
import { TenantLifecycle } from './tenants.js';
import type {
  ControllerStatus,
  DecisionRecord,
  DeviceState,
  SeriesSample,
  ServiceEvents,
  ServiceGauges,
  ServiceOptions,
  TenantSpec,
  TenantStatus,
} from './types.js';

/** Runtime events the service re-emits. */
const FORWARDED = ['request', 'reject', 'reload', 'reconfigure'] as const;
type Forwarded = (typeof FORWARDED)[number];

/**
 * Forwards a runtime event only while someone listens for it on `service`: an unobserved event costs the
 * runtime's request path nothing (it skips emitting without listeners).
 */
function forwardRuntimeEvents(service: EventEmitter<ServiceEvents>, runtime: Runtime): void {
  const forwarders = new Map<Forwarded, (...args: unknown[]) => void>();
  const plain = service as unknown as EventEmitter;
  const source = runtime as unknown as EventEmitter;
  plain.on('newListener', (event: string | symbol) => {
    if (!(FORWARDED as readonly (string | symbol)[]).includes(event)) return;
    const e = event as Forwarded;
    if (forwarders.has(e)) return;
    const fn = (...args: unknown[]) => plain.emit(e, ...args);
    forwarders.set(e, fn);
    source.on(e, fn);
  });
  plain.on('removeListener', (event: string | symbol) => {
    const e = event as Forwarded;
    const fn = forwarders.get(e);
    if (fn === undefined || plain.listenerCount(e) > 0) return;
    forwarders.delete(e);
    source.off(e, fn);
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
  /** What the parts share (state.ts). */
  readonly #state: ServiceState;
  /** Adding, removing and moving tenants (tenants.ts). */
  readonly #tenants: TenantLifecycle;
  /** The ticks (control-loop.ts). */
  readonly #control: ControlLoop;
  #closed: Promise<void> | null = null;

  /** @internal Use {@link createService}. */
  constructor(runtime: Runtime, options: ServiceOptions, settings: ServiceSettings) {
    super();
    this.runtime = runtime;
    this.cores = settings.cores;
    this.tickMs = settings.tickMs;
    this.#state = createState(this, runtime, options, settings);
    this.#tenants = new TenantLifecycle(this.#state);
    this.#control = new ControlLoop(this.#state);
    forwardRuntimeEvents(this, runtime);
    this.#control.start();
  }

  /** False while closing (and after). */
  get ready(): boolean {
    return !this.#state.closing;
  }

  /** True when `name` is a tenant (requests for it are admitted). */
  has(name: string): boolean {
    return this.#state.tenants.has(name);
  }

  /** Tenant names, in the order they were added. */
  tenantNames(): string[] {
    return [...this.#state.tenants.keys()];
  }

  /**
   * The tenant's model metadata, KServe-shaped (frozen, shared).
   * @throws NotFoundError (`SWAPLESS_NOT_FOUND`, `details.reason` `'unknown-tenant'`) for a name that is not a tenant.
   */
  metadata(name: string): ModelMetadata {
    return entryOf(this.#state, name).metadata;
  }

  /**
   * A tenant's catalog: its candidate cuts with the modelled Edge TPU stages and the CPU times measured on this host
   * (the profile). `NotFoundError` for an unknown tenant.
   */
  catalog(name: string): TenantCatalog {
    return entryOf(this.#state, name).catalog;
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
    return this.#state.tenants.has(name) && this.#state.loop.frontend.observe(name, ms);
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
  addTenant(spec: TenantSpec): Promise<TenantStatus> {
    return this.#tenants.add(spec);
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
  vet(bytes: Uint8Array, label: string): Promise<void> {
    return this.#tenants.vet(bytes, label);
  }

  /**
   * Removes a tenant: new requests for it are refused at once, its requests in flight complete, then the
   * remaining tenants are re-planned with a fresh policy. Concurrent calls for the same name share one removal.
   * @throws NotFoundError (`SWAPLESS_NOT_FOUND`, `details.reason` `'unknown-tenant'`) for a name that is not a tenant.
   */
  removeTenant(name: string): Promise<void> {
    return this.#tenants.remove(name);
  }

  /**
   * Places tenant `name` on Edge TPU `device` for good (null: wherever the controller decides again) and moves it
   * there now — a live reconfiguration: its requests already queued or running finish on the device they started
   * on, new ones go to the new device, none is lost. Resolves with its status.
   * @throws NotFoundError for an unknown tenant; InvalidArgumentError (`details.reason` `'unknown-device'`) for an
   *   id that is not a device of this host; ShuttingDownError while closing.
   */
  moveTenant(name: string, device: string | null): Promise<TenantStatus> {
    return this.#tenants.move(name, device);
  }

  /** Every tenant now, in the order they were added. */
  tenants(): TenantStatus[] {
    return tenantStatuses(this.#state);
  }

  /** One tenant now, or undefined for a name that is not a tenant. */
  tenant(name: string): TenantStatus | undefined {
    const e = this.#state.tenants.get(name);
    return e === undefined ? undefined : tenantStatus(this.#state, e, this.runtime.stats());
  }

  /** The controller: policy, tick, counts, the last decision and the measured time of a policy tick. */
  controller(): ControllerStatus {
    return controllerStatus(this.#state);
  }

  /**
   * The last `limit` decisions (default: all kept), oldest first.
   * @throws InvalidArgumentError for a limit that is not an integer ≥ 0.
   */
  history(limit?: number): DecisionRecord[] {
    return decisionHistory(this.#state, limit);
  }

  /** Tick samples with `atMs` after `sinceMs` (epoch ms; default: all kept), oldest first. */
  series(sinceMs?: number): SeriesSample[] {
    return seriesSince(this.#state, sinceMs);
  }

  /** The Edge TPU: capacity, token holder, each tenant's head (cached vs streamed bytes), call counters. */
  device(): DeviceState {
    return deviceState(this.#state);
  }

  /** What a metrics exporter reads on a scrape (cheap: no percentiles). */
  gauges(): ServiceGauges {
    return serviceGauges(this.#state);
  }

  /**
   * Stops the ticks, refuses new tenants and requests, waits for the tenant change or tick in progress and for
   * every request in flight, then disposes the runtime. Idempotent (every call returns the same promise).
   */
  close(): Promise<void> {
    if (this.#closed !== null) return this.#closed;
    this.#state.closing = true;
    this.#control.stop();
    this.#closed = (async () => {
      await this.#state.chain;
      await this.runtime.close();
    })();
    return this.#closed;
  }
}

/**
 * Creates a service: validates the options, starts the runtime (emulated Edge TPU by default) and the
 * controller ticks. It starts with no tenant: add them with {@link Service.addTenant}.
 * @throws InvalidArgumentError for bad options (unknown device profile or policy, bad numbers).
 */
export async function createService(options: ServiceOptions = {}): Promise<Service> {
  const prepared = await prepareService(options);
  const service = new Service(prepared.runtime, prepared.options, prepared.settings);
  service.warnings.push(...prepared.warnings);
  return service;
}
