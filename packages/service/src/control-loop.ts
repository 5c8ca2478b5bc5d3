/**
 * The control loop: every `tickMs`, one tick on the service's serial chain — drain the runtime's observations,
 * let the correction and the latency model learn from them, feed them to the policy, apply its decision (or a
 * divergence re-plan), update the predictions and record one series sample (event `tick`).
 */
import type { Decision } from '@swapless/contracts';
import type { Policy, TickObservations } from '@swapless/controller';
import type { RuntimeObservation, RuntimeStats } from '@swapless/runtime';
import { fitObservations } from './fit-observations.js';
import { type TickWindow, tickObservations } from './observations.js';
import { predict, pushDecision, record, tryApply } from './planning.js';
import { DECISION_TIMES, emitSafe, message, type ServiceState, serial } from './state.js';
import type { DecisionRecord, SeriesSample, SeriesTenant } from './types.js';

/** The policy's decision of one tick and the time it took (both null without a policy or when it failed). */
interface TickDecision {
  decision: Decision | null;
  decisionMs: number | null;
}

/** The ticks of one service: a timer and what it remembers between two ticks. */
export class ControlLoop {
  readonly #state: ServiceState;
  #timer: NodeJS.Timeout | null = null;
  #tickQueued = false;
  #lastReloads = 0;
  #lastBusyMs = 0;

  /** @param state The service's shared state. */
  constructor(state: ServiceState) {
    this.#state = state;
  }

  /** Starts the ticks (the timer does not keep the process alive). */
  start(): void {
    this.#timer = setInterval(this.#onInterval, this.#state.tickMs);
    this.#timer.unref();
  }

  /** Stops the ticks; a tick already queued still runs (it sees `closing` and does nothing). */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  readonly #onInterval = (): void => {
    const state = this.#state;
    if (this.#tickQueued || state.closing) return;
    this.#tickQueued = true;
    void serial(state, async () => {
      try {
        if (!state.closing) await this.#tick();
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
    const state = this.#state;
    const obs = state.runtime.observe();
    const stats = state.runtime.stats();
    const windowMs = Math.max(1e-6, obs.toMs - obs.fromMs);
    state.ticks++;
    const { tick, windowRates, windows } = tickObservations(state, obs, stats, windowMs);
    // The correction learns before the policy plans with it; the window's completions are compared with the
    // prediction that was in force while they ran.
    state.loop.observe(tick.stages ?? []);
    // The latency model calibrates on the same window (fit-observations.ts maps it), when it can.
    if (typeof state.predictor.fit === 'function')
      state.loop.fit(
        state.predictor,
        fitObservations(obs, windowRates, (n) => stats.tenants[n]?.choice.cores ?? 0),
      );
    const now = state.clock();
    const ratios = this.#diverge(windows, now);
    const policy = state.policy;
    const { decision, decisionMs } = this.#decide(policy, tick, obs);
    const snapshot = policy?.rates ?? null;
    for (const e of state.tenants.values()) {
      const estimated = snapshot?.rates[e.name];
      e.ratePerS =
        estimated !== undefined && Number.isFinite(estimated) ? estimated : (windowRates.get(e.name) ?? 0);
    }
    if (decision !== null && decisionMs !== null) await this.#applyDecision('tick', decision, decisionMs);
    const replanned = decision === null && policy !== null && (await this.#divergenceReplan(policy, now));
    const after = decision !== null || replanned ? state.runtime.stats() : stats;
    predict(state, after);
    const sample: SeriesSample = {
      atMs: now,
      tenants: this.#seriesTenants(after, windows, ratios),
      tpu: this.#tpuWindow(stats, after, windowMs),
      decisionMs,
      devices: state.deviceWindows.take(stats.devices, after.devices, windowMs),
    };
    state.emulation.record(after.emulation, obs.toMs);
    state.series.push(sample);
    if (state.series.length > state.seriesLimit)
      state.series.splice(0, state.series.length - state.seriesLimit);
    emitSafe(state, 'tick', sample);
  }

  /** The policy's tick (timed, its time kept for the controller status); a failing policy costs a warning. */
  #decide(policy: Policy | null, tick: TickObservations, obs: RuntimeObservation): TickDecision {
    const state = this.#state;
    if (policy === null || state.planNames.length === 0) return { decision: null, decisionMs: null };
    let decision: Decision | null = null;
    const t = performance.now();
    try {
      decision = policy.onTick(tick, obs.toMs - state.t0);
    } catch (error) {
      process.emitWarning(`SwapLess service: the '${policy.name}' policy failed a tick: ${message(error)}`);
    }
    const decisionMs = performance.now() - t;
    state.decisionTimes[state.decisionCount++ % DECISION_TIMES] = decisionMs;
    state.lastDecisionMs = decisionMs;
    return { decision, decisionMs };
  }

  /** Each tenant's figures of the window for the series sample. */
  #seriesTenants(
    after: RuntimeStats,
    windows: ReadonlyMap<string, TickWindow>,
    ratios: ReadonlyMap<string, number | null>,
  ): Record<string, SeriesTenant> {
    const state = this.#state;
    const tenants: Record<string, SeriesTenant> = {};
    const refusals = state.refusals.take(after.tenants);
    for (const e of state.tenants.values()) {
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
    return tenants;
  }

  /** The Edge TPU's window: queue now, reloads and busy share since the previous tick. */
  #tpuWindow(stats: RuntimeStats, after: RuntimeStats, windowMs: number): SeriesSample['tpu'] {
    const reloads = stats.tpu.reloads - this.#lastReloads;
    const busy = stats.tpu.busyMs - this.#lastBusyMs;
    this.#lastReloads = stats.tpu.reloads;
    this.#lastBusyMs = stats.tpu.busyMs;
    return { queued: after.tpu.queued, reloads, busyFraction: Math.min(1, Math.max(0, busy / windowMs)) };
  }

  /** Feeds the tick's completions to the divergence tracker; the ratio per tenant (null: too few completions). */
  #diverge(
    windows: ReadonlyMap<string, { completed: number; meanMs: number | null }>,
    now: number,
  ): Map<string, number | null> {
    const loop = this.#state.loop;
    const ratios = new Map<string, number | null>();
    for (const e of this.#state.tenants.values()) {
      const w = windows.get(e.name);
      // Measured as a client of this server sees it: the runtime's latency plus the front-end time.
      const mean = w?.meanMs == null ? null : w.meanMs + loop.frontend.meanMs(e.name);
      const d = loop.divergence.record(e.name, now, w?.completed ?? 0, mean, e.predictedMs);
      ratios.set(e.name, d.ratio);
    }
    return ratios;
  }

  /**
   * When a tenant's measured mean has stayed > 25 % off its prediction for 10 s: one re-plan past the hysteresis
   * (`policy.replan`), recorded with trigger `divergence`. True when a decision was applied.
   */
  async #divergenceReplan(policy: Policy, now: number): Promise<boolean> {
    const divergence = this.#state.loop.divergence;
    const due = divergence.takeDue(now);
    if (due.length === 0 || policy.replan === undefined || this.#state.planNames.length === 0) return false;
    const why = `divergence of ${due
      .map((n) => `${n} (measured/predicted ${divergence.status(n).ratio?.toFixed(2)})`)
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
    const state = this.#state;
    const entries = state.planNames.map((n) => state.tenants.get(n)!);
    const decisionRecord = record(state, trigger, decision, decisionMs, entries);
    await tryApply(state, decisionRecord, decision);
    pushDecision(state, decisionRecord);
    return decisionRecord;
  }
}
