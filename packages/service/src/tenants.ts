/**
 * The tenant lifecycle: adding a tenant (spec checks, vetting hand-off, catalogue, a fresh plan for everyone),
 * removing one (drain, re-plan the rest) and moving one to another Edge TPU. Every change runs on the service's
 * serial chain, so it never interleaves with a tick or another change.
 */
import { type Decision, MODEL_NAME_PATTERN, type NamedChoice } from '@swapless/contracts';
import { assertServable, classifyModel } from '@swapless/controller';
import {
  ConflictError,
  ErrorCodes,
  expected,
  InvalidArgumentError,
  InvalidModelError,
  isSwapLessError,
  positiveInt,
  ShuttingDownError,
} from '@swapless/core';
import { type InterpreterOptions, vetModel } from '@swapless/edgetpu';
import { readModel, runnability, type TfliteModel } from '@swapless/tflite';
import { Catalogs } from './catalogs.js';
import { modelMetadata } from './metadata.js';
import { type Plan, plan, predict, pushDecision, reconfigure, record, tryApply } from './planning.js';
import { tenantStatus } from './read-models.js';
import { sloPercentileOf } from './slo-attainment.js';
import {
  emitSafe,
  entryOf,
  message,
  positiveNumber,
  type ServiceState,
  serial,
  type TenantEntry,
  unknownTenant,
} from './state.js';
import type { ServiceVetting, TenantSpec, TenantStatus } from './types.js';

/** A tenant spec after its checks: what the new entry starts with, and its runtime settings. */
interface CheckedSpec {
  name: string;
  model: Uint8Array;
  source: string;
  priorPerS: number;
  sloMs: number | null;
  sloPercentile: 'p95' | 'p99' | null;
  queueLimit: number | undefined;
  device: string | undefined;
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

function closingError(what: string): ShuttingDownError {
  return new ShuttingDownError(`The service is closing: no tenant can ${what}`);
}

/** Tenants coming and going (see the module comment); the `Service` facade delegates to it. */
export class TenantLifecycle {
  readonly #state: ServiceState;
  readonly #catalogs: Catalogs;
  /** Names being added (catalog being built) or removed: a second change of the same name waits or fails. */
  readonly #adding = new Set<string>();
  readonly #removing = new Map<string, Promise<void>>();

  /** @param state The service's shared state. */
  constructor(state: ServiceState) {
    this.#state = state;
    this.#catalogs = new Catalogs(state);
  }

  /** Checks a tenant spec (see `Service.addTenant` for the errors). */
  #check(spec: TenantSpec): CheckedSpec {
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
      spec.device === undefined
        ? undefined
        : this.#state.placement.check(spec.device, `the device of ${name}`);
    if (this.#state.tenants.has(name) || this.#adding.has(name) || this.#removing.has(name)) {
      throw new ConflictError(expected('a new tenant name', 'the tenant name', name), {
        details: { reason: 'duplicate-tenant' },
      });
    }
    return { name, model, source, priorPerS, sloMs, sloPercentile, queueLimit, device };
  }

  /** `Service.addTenant`: checks, vets, builds the catalogue, then plans and adds on the serial chain. */
  async add(spec: TenantSpec): Promise<TenantStatus> {
    const state = this.#state;
    if (state.closing) throw closingError('be added');
    const checked = this.#check(spec);
    const { name, source } = checked;
    this.#adding.add(name);
    try {
      const entry = await this.#prepare(checked);
      return await serial(state, async () => {
        if (state.closing) throw closingError('be added');
        state.placement.pin(name, checked.device);
        try {
          await this.#addPlanned(entry, checked.queueLimit);
        } catch (error) {
          state.placement.forget(name);
          throw error;
        }
        return tenantStatus(state, entry, state.runtime.stats());
      });
    } catch (error) {
      throw tenantError(error, name, source);
    } finally {
      this.#adding.delete(name);
    }
  }

  /** The new tenant's entry: its model parsed, classified, vetted, and its catalogue built. */
  async #prepare(spec: CheckedSpec): Promise<TenantEntry> {
    const { name, source, priorPerS } = spec;
    // Parsed once, in the variant store (its own copy of the bytes): the catalogue and the runtime read it there.
    const stored = this.#state.variants.model(spec.model);
    const { bytes, model: parsed, sha256 } = stored;
    // The model's class, before anything is profiled or loaded: a custom op nothing here runs, or a compiled
    // model without a real Edge TPU, is refused naming the tenant; a float model is a CPU-only tenant.
    const kind = classifyModel(parsed);
    assertServable(kind, `tenant ${JSON.stringify(name)}`, { realEdgeTpu: this.#state.edgetpu !== null });
    const metadata = modelMetadata(name, parsed);
    await this.vet(bytes, `tenant ${name}${source ? ` (${source})` : ''}`, parsed);
    const catalog =
      kind.kind === 'compiled'
        ? await this.#catalogs.compiled(bytes, sha256, source || name)
        : await this.#catalogs.split(bytes, sha256, source || name);
    return {
      name,
      source,
      stored,
      catalog,
      metadata,
      priorPerS,
      sloMs: spec.sloMs,
      sloPercentile: spec.sloPercentile,
      ratePerS: priorPerS,
      predictedMs: null,
      predictedStages: null,
      lastAdmitted: 0,
      lastCompleted: 0,
    };
  }

  /**
   * `Service.vet`: vets a model in a child process with the interpreter options the service uses. `parsed`: the
   * model already read from `bytes` (not read again).
   */
  async vet(bytes: Uint8Array, label: string, parsed?: TfliteModel): Promise<void> {
    const vetting = this.#state.options.vetting ?? true;
    if (vetting === false) return;
    if (!runnability(parsed ?? readModel(bytes)).cpuRunnable) return;
    const { vetter, ...limits }: ServiceVetting = vetting === true ? {} : vetting;
    const interpreter: InterpreterOptions[] = [
      { threads: this.#state.threads.at(-1) ?? 1, xnnpack: true, delegate: 'cpu' },
      { threads: 1, xnnpack: false, delegate: 'cpu' },
    ];
    const options = { ...limits, interpreter, label };
    await (vetter === undefined ? vetModel(bytes, options) : vetter.vet(bytes, options));
  }

  /** Plans every tenant with the newcomer, reconfigures the others and adds it to the runtime (all or nothing). */
  async #addPlanned(entry: TenantEntry, queueLimit: number | undefined): Promise<void> {
    const state = this.#state;
    const others = [...state.tenants.values()];
    const entries = [...others, entry];
    const { policy, decision, decisionMs } = plan(state, entries);
    const names = entries.map((e) => e.name);
    const trigger = others.length === 0 ? 'initial' : 'tenant-added';
    const decisionRecord = record(state, trigger, decision, decisionMs, entries);
    try {
      await this.#applyWithNewcomer(entry, decision, policy.name, queueLimit);
    } catch (error) {
      decisionRecord.error = message(error);
      pushDecision(state, decisionRecord);
      throw error;
    }
    decisionRecord.applied = true;
    state.tenants.set(entry.name, entry);
    state.loop.add(entry.name, entry.catalog);
    state.policy = policy;
    state.planNames = names;
    predict(state, state.runtime.stats());
    emitSafe(state, 'tenant', { action: 'added', name: entry.name });
    pushDecision(state, decisionRecord);
  }

  /**
   * Applies the plan that adds `entry`: the others first, then the newcomer, then its co-compiled set (the runtime
   * adds a tenant alone); a failure puts the others back as they were, sets and discipline included.
   */
  async #applyWithNewcomer(
    entry: TenantEntry,
    decision: Decision,
    policyName: string,
    queueLimit: number | undefined,
  ): Promise<void> {
    const state = this.#state;
    const { placement, runtime } = state;
    const others = [...state.tenants.values()];
    const before: NamedChoice[] = others.map((e) => ({ name: e.name, ...runtime.choice(e.name) }));
    const layoutBefore = state.inForce;
    const found = decision.tenants.find((t) => t.name === entry.name);
    const newcomer = found === undefined ? undefined : placement.place(found);
    if (newcomer === undefined) {
      throw new InvalidArgumentError(
        expected(`a choice for the new tenant ${entry.name}`, `the decision of policy ${policyName}`, 'none'),
      );
    }
    // The others first: the plan fits the core budget with the newcomer, so shrinking them makes room for it
    // (the runtime does not know the newcomer yet: a set with it forms without it, see layoutOf).
    await reconfigure(state, { ...decision, tenants: decision.tenants.filter((t) => t !== found) });
    let added = false;
    try {
      await runtime.addTenant({
        name: entry.name,
        model: entry.stored.bytes,
        choice: newcomer,
        ...(queueLimit !== undefined ? { queueLimit } : {}),
      });
      added = true;
      // Its co-compiled set, if the plan puts it in one (nothing reaches the runtime otherwise).
      await reconfigure(state, decision);
    } catch (error) {
      // Put the others back as they were: a failed add changes nothing.
      if (added) await runtime.removeTenant(entry.name).catch(() => undefined);
      await reconfigure(state, { tenants: before, ...layoutBefore }).catch(() => undefined);
      throw error;
    }
  }

  /** `Service.removeTenant`: concurrent calls for the same name share one removal. */
  remove(name: string): Promise<void> {
    const state = this.#state;
    const pending = this.#removing.get(name);
    if (pending !== undefined) return pending;
    if (!state.tenants.has(name)) return Promise.reject(unknownTenant(name, [...state.tenants.keys()]));
    const run = serial(state, async () => {
      if (!state.tenants.has(name)) throw unknownTenant(name, [...state.tenants.keys()]);
      try {
        await state.runtime.removeTenant(name);
      } finally {
        // Whether or not the runtime still had it (closing), the service no longer serves it.
        state.tenants.delete(name);
        state.slo.forget(name);
        state.loop.remove(name);
        state.placement.forget(name);
      }
      emitSafe(state, 'tenant', { action: 'removed', name });
      await this.#replanRest(name);
    });
    const shared = run.finally(() => this.#removing.delete(name));
    this.#removing.set(name, shared);
    return shared;
  }

  /** After removing `removed`: a fresh plan for the remaining tenants (none when none remain or closing). */
  async #replanRest(removed: string): Promise<void> {
    const state = this.#state;
    const rest = [...state.tenants.values()];
    if (rest.length === 0 || state.closing) {
      state.policy = null;
      state.planNames = [];
      return;
    }
    let planned: Plan;
    try {
      planned = plan(state, rest);
    } catch (error) {
      // The old plan minus the removed tenant still fits: keep running it, without a policy to re-plan — its
      // co-compiled set without it (a set left with one member is none).
      process.emitWarning(
        `SwapLess service: re-planning after removing ${removed} failed: ${message(error)}`,
      );
      state.policy = null;
      state.planNames = [];
      // reconfigure() leaves the removed tenant out of its set (layoutOf).
      await reconfigure(state, { tenants: [], ...state.inForce }).catch((e: unknown) =>
        process.emitWarning(`SwapLess service: leaving ${removed}'s co-compiled set failed: ${message(e)}`),
      );
      return;
    }
    const names = rest.map((e) => e.name);
    const decisionRecord = record(state, 'tenant-removed', planned.decision, planned.decisionMs, rest);
    state.policy = planned.policy;
    state.planNames = names;
    await tryApply(state, decisionRecord, planned.decision);
    predict(state, state.runtime.stats());
    pushDecision(state, decisionRecord);
  }

  /** `Service.moveTenant`: pins the tenant to `device` (null: unpins) and moves it there now. */
  move(name: string, device: string | null): Promise<TenantStatus> {
    const state = this.#state;
    if (state.closing) return Promise.reject(closingError('move'));
    try {
      entryOf(state, name);
      if (device !== null) state.placement.check(device, `the device of ${name}`);
    } catch (error) {
      return Promise.reject(error);
    }
    return serial(state, async () => {
      const entry = entryOf(state, name);
      const before = state.placement.pinned(name);
      state.placement.pin(name, device ?? undefined);
      try {
        // Unpinned: the controller's next decision places it; until then it stays where it is.
        if (device !== null)
          await reconfigure(state, { tenants: [{ name, ...state.runtime.choice(name) }], ...state.inForce });
      } catch (error) {
        state.placement.pin(name, before);
        throw error;
      }
      const stats = state.runtime.stats();
      predict(state, stats);
      return tenantStatus(state, entry, stats);
    });
  }
}
