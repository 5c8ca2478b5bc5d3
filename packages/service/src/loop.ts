/**
 * What closes the service's control loop: the online correction of every tenant's catalog from measured stage
 * times (shared with the swapless policy, so a re-plan's fresh policy keeps what was learned), the front-end time
 * per tenant, and the divergence of measured from predicted response. Predictions made here are what a client of
 * this host should see: the corrected latency model, plus the emulation lag (the emulation pool's queue when a
 * functional emulator computes the heads, see `ServiceCorrection.setEmulation`), plus the front-end time.
 */

import { availableParallelism } from 'node:os';
import { defaultVariantStore, type VariantStore } from '@swapless/compiler';
import type { DeviceSetup, FitObservation, Prediction, SystemSetup, TenantChoice } from '@swapless/contracts';
import {
  type CorrectionOptions,
  contentionOf,
  delayedPredictor,
  emulationPoolWaitMs,
  groupingOf,
  type HostShare,
  layoutSetup,
  type PlannedTenant,
  type Predictor,
  ServiceCorrection,
  type StageObservation,
  type TenantCatalog,
} from '@swapless/controller';
import { DivergenceTracker } from './divergence.js';
import { FrontendTimes } from './frontend.js';
import { HostCpuMeter } from './host-cpu.js';
import { placedSetup } from './placement.js';
import type { HostShareStatus, PredictedStages } from './types.js';

/**
 * Co-compiled sets (tenant names) and the Edge TPU discipline a prediction is made under — the service's
 * `Layout`; absent parts: every head alone, FIFO.
 */
export interface PredictionLayout {
  readonly sets?: readonly (readonly string[])[];
  readonly discipline?: SystemSetup['discipline'];
}

/** EWMA weight of one tick's measure of the rest of the host's busy cores. */
const HOST_ALPHA = 0.3;

/** The policies that plan with the loop's correction (the adaptive ones). */
const ADAPTIVE = new Set(['swapless', 'swapless+']);

/** The learned state of the loop (one per service). */
export class ClosedLoop {
  readonly #catalogs = new Map<string, TenantCatalog>();
  readonly correction: ServiceCorrection;
  readonly frontend = new FrontendTimes();
  readonly divergence = new DivergenceTracker();

  /** Where the reports of co-compiled sets come from (the service's store, shared with the runtime). */
  readonly #variants: VariantStore;

  /**
   * @param policyOptions The service's `policyOptions` (their `correction` settings apply here too).
   * @param variants The service's variant store (default: the process's).
   */
  constructor(policyOptions: object | undefined, variants: VariantStore = defaultVariantStore()) {
    this.#variants = variants;
    const c = (policyOptions as { correction?: unknown } | undefined)?.correction;
    this.correction = new ServiceCorrection(
      this.#catalogs,
      typeof c === 'object' && c !== null ? (c as CorrectionOptions) : {},
    );
  }

  /** Starts learning about a tenant (its profiled catalog is the reference). */
  add(name: string, catalog: TenantCatalog): void {
    this.correction.forget(name);
    this.#catalogs.set(name, catalog);
  }

  /** Forgets a removed tenant. */
  remove(name: string): void {
    this.correction.forget(name);
    this.#catalogs.delete(name);
    this.frontend.forget(name);
    this.divergence.forget(name);
  }

  /** Measurement windows the latency model's `fit()` has taken. */
  fitted = 0;

  /**
   * Feeds a window's observations (fit-observations.ts) to the latency model's `fit()`, when it has one. A model
   * that refuses them costs a warning, never the tick.
   */
  fit(
    model: { fit?: (o: readonly FitObservation[]) => void; name: string },
    observations: FitObservation[],
  ): void {
    if (typeof model.fit !== 'function' || observations.length === 0) return;
    try {
      model.fit(observations);
      this.fitted++;
    } catch (error) {
      process.emitWarning(
        `SwapLess service: latency model ${model.name} failed to fit: ${(error as Error)?.message ?? String(error)}`,
      );
    }
  }

  /** The host's Edge TPUs when it has several (the service sets them): predictions are made per device. */
  devices: readonly DeviceSetup[] | undefined = undefined;

  /** Measures the host's busy cores (replaceable in tests). */
  hostMeter: { sample(): number | null } = new HostCpuMeter();
  /** Cores of the host the CPU stages, the emulation pool and the rest share. */
  hostCores = availableParallelism();

  /**
   * Once per tick, after the prediction of the configuration in force (`tenants` at `choices` under `layout`):
   * with an emulation pool, measures the host's busy cores since the last tick, takes out what the modelled threads
   * (CPU stages and pool, stretched) kept busy, and keeps the rest as the host's other load (an EWMA); then tells
   * the correction the host share (`ServiceCorrection.setHost`, which the predictions here and the adaptive policies
   * plan with) and the stretch this configuration puts on each tenant and the emulation pool's modelled wait
   * (`setContention`: the next window's observations are learned with the stretch divided out, and each tenant's
   * measured pool wait against the modelled one). Without a pool (a real Edge TPU, or timing-only emulation) it
   * does nothing: the fast search that plans then has no per-configuration hook for it.
   */
  shareHost(
    tenants: readonly PlannedTenant[],
    choices: readonly TenantChoice[],
    cores: number,
    device: string,
    layout: PredictionLayout = {},
  ): void {
    const workers = this.correction.emulationWorkers;
    const measured = this.hostMeter.sample();
    if (workers === null) return;
    const { catalogs, system } = this.#view(tenants, choices, cores, device, layout);
    const host = this.correction.host ?? { cores: this.hostCores, busy: 0 };
    const now = contentionOf(system, catalogs, workers, host);
    if (measured !== null) {
      const rest = Math.max(0, measured - now.busyCores);
      const busy = this.correction.host === null ? rest : host.busy + HOST_ALPHA * (rest - host.busy);
      this.correction.setHost({ cores: this.hostCores, busy });
    }
    // The pool's wait as the model predicts it here, before per-tenant factors: what each tenant's measured wait
    // is compared with.
    const wait = emulationPoolWaitMs(system, catalogs, workers, now.pool);
    const poolWaitMs = wait !== null && Number.isFinite(wait) ? wait : undefined;
    const stretch = tenants.map((t, i) => [t.name, { cpu: now.cpu[i] ?? 1, pool: now.pool }] as const);
    this.correction.setContention(
      new Map(
        stretch.map(
          ([name, s]) =>
            [
              name,
              { cpu: s.cpu, emulation: s.pool, ...(poolWaitMs !== undefined ? { poolWaitMs } : {}) },
            ] as const,
        ),
      ),
    );
    const shared = this.correction.host;
    this.#hostShare =
      shared === null
        ? null
        : {
            cores: shared.cores,
            measuredBusyCores: measured ?? this.#hostShare?.measuredBusyCores ?? null,
            modelledBusyCores: now.busyCores,
            otherBusyCores: shared.busy,
            stretch: Object.fromEntries(stretch),
          };
  }

  #hostShare: HostShareStatus | null = null;

  /** The host share as of the last {@link ClosedLoop.shareHost} (null before a measure, and without a pool). */
  get hostShare(): HostShareStatus | null {
    return this.#hostShare;
  }

  /** Feeds a tick's measured stage times. */
  observe(stages: readonly StageObservation[]): void {
    for (const s of stages) this.correction.observe(s);
  }

  /**
   * The options of a built-in policy: the adaptive policies (`swapless`, `swapless+`) read this loop's correction
   * (unless it was turned off with `correction: false`), so they plan with the same corrected catalogs the service
   * predicts with; `swapless+` makes its co-compiled sets' reports in the service's variant store (unless its
   * `coCompile` options say otherwise), the store the runtime runs the sets from.
   */
  policyOptions(name: string, options: object | undefined): object | undefined {
    if (!ADAPTIVE.has(name)) return options;
    const given = options as { correction?: unknown; coCompile?: unknown } | undefined;
    const coCompile =
      name === 'swapless+' && given?.coCompile === undefined
        ? { coCompile: { variants: this.#variants } }
        : {};
    if (given?.correction === false) return { ...options, ...coCompile };
    return { ...options, ...coCompile, correction: this.correction };
  }

  /** The tenant's catalog corrected by what was measured (its own until something was). */
  catalog(name: string, fallback: TenantCatalog): TenantCatalog {
    return this.correction.has(name) ? this.correction.corrected(name) : fallback;
  }

  /** `tenants` with their corrected catalogs, those catalogs by name, and the system at `choices` under `layout`. */
  #view(
    tenants: readonly PlannedTenant[],
    choices: readonly TenantChoice[],
    cores: number,
    device: string,
    layout: PredictionLayout,
  ): { planned: PlannedTenant[]; catalogs: Map<string, TenantCatalog>; system: SystemSetup } {
    const planned = tenants.map((t) => ({ ...t, catalog: this.catalog(t.name, t.catalog) }));
    const catalogs = new Map(planned.map((t) => [t.name, t.catalog] as const));
    return { planned, catalogs, system: this.#system(planned, choices, cores, device, layout) };
  }

  /**
   * The system `model` predicts for `tenants` (corrected catalogs) at `choices` under `layout`, as the policy
   * predicts the configuration in force: each set's members carry the set's TPU stages (`groupedTenants`), and the
   * discipline is the system's.
   */
  #system(
    planned: readonly PlannedTenant[],
    choices: readonly TenantChoice[],
    cores: number,
    device: string,
    layout: PredictionLayout,
  ): SystemSetup {
    const system = layoutSetup(planned, choices, cores, {
      grouping: groupingOf(planned, layout.sets),
      ...(layout.discipline !== undefined ? { discipline: layout.discipline } : {}),
      store: this.#variants,
      device,
    });
    return placedSetup(system, choices, this.devices);
  }

  /**
   * Per-tenant response a client should see (ms, in `tenants` order; NaN when unstable): `model` on the corrected
   * catalogs at `choices` under `layout` (co-compiled sets and Edge TPU discipline; default none, FIFO), plus
   * each tenant's cut delay (emulation lag) and front-end time. Also the prediction itself (for the stage times
   * admission uses).
   */
  predict(
    model: Predictor,
    tenants: readonly PlannedTenant[],
    choices: readonly TenantChoice[],
    cores: number,
    device: string,
    layout: PredictionLayout = {},
  ): { responseMs: number[]; stages: (PredictedStages | null)[]; prediction: Prediction } {
    const { planned, catalogs, system } = this.#view(tenants, choices, cores, device, layout);
    const workers = this.correction.emulationWorkers;
    const host = this.correction.host;
    const prediction = delayedPredictor(model, planned, { emulationWorkers: workers, host }).predict(system);
    const responseMs = tenants.map((t, i) => {
      const r = prediction.tenants[i]?.responseMs ?? Number.NaN;
      return Number.isFinite(r) ? r + this.frontend.meanMs(t.name) : Number.NaN;
    });
    const pool = poolComputeMs(catalogs, system, workers, host);
    const stages = tenants.map((t, i): PredictedStages | null => {
      const p = prediction.tenants[i];
      if (p === undefined || !Number.isFinite(p.responseMs)) return null;
      // The delayed predictor adds the emulation lag and the CPU stage's hand-back to the response on top of the
      // four queueing parts: the hand-back is shown with the CPU stage (as the runtime measures it), the rest is lag.
      const back = system.tenants[i]?.cpu == null ? 0 : this.correction.cpuReturnMs(t.name);
      const parts = p.tpuWaitMs + p.tpuServiceMs + p.cpuWaitMs + p.cpuServiceMs + back;
      return {
        tpuWaitMs: p.tpuWaitMs,
        tpuMs: p.tpuServiceMs,
        emulationMs: Math.max(0, p.responseMs - parts),
        cpuWaitMs: p.cpuWaitMs,
        cpuMs: p.cpuServiceMs + back,
        frontendMs: this.frontend.meanMs(t.name),
        poolMs: pool[i] ?? 0,
      };
    });
    return { responseMs, stages, prediction };
  }

  /**
   * The λ-weighted mean of {@link ClosedLoop.predict}'s responses (the mean over all tenants when no rate is
   * positive); null when a tenant is unstable or the choices are outside the catalogs.
   */
  meanMs(
    model: Predictor,
    tenants: readonly PlannedTenant[],
    choices: readonly TenantChoice[],
    cores: number,
    device: string,
    layout: PredictionLayout = {},
  ): number | null {
    let r: number[];
    try {
      r = this.predict(model, tenants, choices, cores, device, layout).responseMs;
    } catch {
      return null;
    }
    const total = tenants.reduce((s, t) => s + Math.max(0, t.rate), 0);
    const mean =
      total > 0
        ? tenants.reduce((s, t, i) => s + Math.max(0, t.rate) * r[i]!, 0) / total
        : r.reduce((s, x) => s + x, 0) / Math.max(1, r.length);
    return Number.isFinite(mean) ? mean : null;
  }
}

/**
 * Each tenant's head compute on the emulation pool as the prediction takes it, ms: its cut's `emulationMs` in the
 * corrected catalog, stretched by the pool's share of the host (0 without a pool or a head).
 */
function poolComputeMs(
  catalogs: ReadonlyMap<string, TenantCatalog>,
  system: SystemSetup,
  workers: number | null,
  host: HostShare | null,
): number[] {
  if (workers === null) return system.tenants.map(() => 0);
  const stretch = host === null ? 1 : contentionOf(system, catalogs, workers, host).pool;
  return system.tenants.map((t) => {
    const cut = catalogs.get(t.name)?.cuts.find((c) => c.k === t.k);
    return cut?.tpu == null ? 0 : (cut.emulationMs ?? 0) * stretch;
  });
}
