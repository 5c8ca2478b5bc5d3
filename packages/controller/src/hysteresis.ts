/**
 * When a better configuration is worth switching to.
 *
 * Rule: switch iff
 *   (1) the current configuration is unstable and the candidate is not (always switch), or
 *   (2) relative gain (R_cur − R_new)/R_cur ≥ `minRelativeGain` (+ `explorationGain` when the candidate runs a tenant
 *       at a cut whose stages have not been measured yet: its prediction is a guess from other cuts), and
 *       gain·Λ·horizonS (ms of latency saved over the next `horizonS` seconds of requests) > switch cost, and
 *       at least `minDwellMs` passed since the last switch.
 * The switch cost, in the same unit (ms of request latency), sums over the tenants whose choice changes the
 * stall d_i = load time of the new variants + the Edge TPU reload of the new segment: the first request pays d_i,
 * requests arriving during it wait d_i/2 on average (λ_i·d_i/1000 of them), so cost_i = d_i + λ_i·d_i²/2000.
 * Load times are measured ({@link SwitchCostModel.recordLoad}) or estimated from the segments' bytes.
 */

import type { TenantChoice } from '@swapless/contracts';
import type { TenantCatalog } from './catalog.js';
import { catalogOn } from './catalog-devices.js';

/** Options of the hysteresis rule. */
export interface HysteresisOptions {
  /** Seconds of requests the gain is counted over (default 5). */
  horizonS?: number;
  /** Minimum relative gain of mean latency (default 0.03). */
  minRelativeGain?: number;
  /**
   * Extra relative gain asked of a candidate that runs some tenant at a cut not yet measured — one of its stages
   * (the Edge TPU call, the CPU stage) has fewer than `minCount` observations (default 0.1; 0 turns it off). Such a
   * cut is predicted with the factors learned at other cuts, which on a live host were optimistic by 10–20 %: the
   * policy switched to it, measured it, and switched back seconds later. The swapless policy asks it only with a
   * correction, on a host off its profile (`ServiceCorrection.offProfile`), and not for `explorationWaiverMs`
   * after a detected change of the rates.
   */
  explorationGain?: number;
  /**
   * For how long after the rate estimator detected a change no `explorationGain` is asked, ms (default
   * `EXPLORATION_WAIVER_MS`, 10,000; 0: always asked): the configuration in effect was measured at the old rates, so
   * its prediction at the new ones is no better founded than the candidate's.
   */
  explorationWaiverMs?: number;
  /** Minimum time between two switches, ms (default 3,000). */
  minDwellMs?: number;
  /** Load-time estimate when nothing was measured: fixed part, ms (default 5). */
  loadFixedMs?: number;
  /** Load-time estimate: bytes loaded per ms (default 50,000 = 50 MB/s). */
  loadBytesPerMs?: number;
  /**
   * Consecutive ticks on which the configuration in effect must break an SLO (by the controller's screen) before
   * that alone forces a switch past the rule above (default 3; 1 forces at once). A breach seen on one tick is
   * often a noisy rate estimate or a fresh correction; forcing on it made live runs flip between two plans.
   */
  sloBreachTicks?: number;
}

/** Verdict of {@link shouldSwitch}. */
export interface SwitchVerdict {
  switch: boolean;
  /** Predicted mean-latency gain, ms (current − candidate). */
  gainMs: number;
  /** gain·Λ·horizon, ms. */
  benefitMs: number;
  /** Switch cost, ms. */
  costMs: number;
  reason: string;
}

/** Estimates (and learns) what switching a tenant to a new choice costs. */
export class SwitchCostModel {
  private readonly measured = new Map<string, number>();
  private readonly fixedMs: number;
  private readonly bytesPerMs: number;

  constructor(options: HysteresisOptions = {}) {
    this.fixedMs = options.loadFixedMs ?? 5;
    this.bytesPerMs = options.loadBytesPerMs ?? 50_000;
  }

  /** Records a measured load time of `tenant`'s variants at cut `k` (the runtime reports these). */
  recordLoad(tenant: string, k: number, ms: number): void {
    if (Number.isFinite(ms) && ms >= 0) this.measured.set(`${tenant}\u0000${k}`, ms);
  }

  /** Load time of the variants of cut `k`: measured, else fixed + segment bytes / rate. */
  loadMs(tenant: string, catalog: TenantCatalog, k: number): number {
    const m = this.measured.get(`${tenant}\u0000${k}`);
    if (m !== undefined) return m;
    const cut = catalog.profile?.cuts?.find((c) => c.k === k);
    const bytes = cut === undefined ? 0 : (cut.prefix?.bytes ?? 0) + (cut.suffix?.bytes ?? 0);
    return this.fixedMs + bytes / this.bytesPerMs;
  }

  /**
   * Stall of switching `tenant` from `from` to `to` (0 when only cores or mode change and nothing loads). A move
   * to another Edge TPU loads the head there and pays its reload, like a new cut.
   */
  stallMs(tenant: string, catalog: TenantCatalog, from: TenantChoice, to: TenantChoice): number {
    if (from.k === to.k && from.device === to.device)
      return from.cores === to.cores && from.mode === to.mode ? 0 : this.fixedMs;
    // The reload on the device it moves to (its catalog there: devices of other profiles reload at other speeds).
    const reload = catalogOn(catalog, to.device).cuts.find((c) => c.k === to.k)?.tpu?.reloadMs ?? 0;
    return this.loadMs(tenant, catalog, to.k) + reload;
  }
}

/** Inputs of {@link shouldSwitch}. */
export interface SwitchQuestion {
  currentMs: number;
  candidateMs: number;
  /** Σ λ, requests per second. */
  totalRate: number;
  /** Per changed tenant: its stall (ms) and rate (req/s). */
  changes: readonly { stallMs: number; rate: number }[];
  nowMs: number;
  /** Time of the last switch (−Infinity when none). */
  lastSwitchMs: number;
  /** The candidate runs a tenant at a cut not yet measured (asks `explorationGain` more; default false). */
  exploring?: boolean;
}

/** Applies the hysteresis rule (see the module comment). */
export function shouldSwitch(q: SwitchQuestion, options: HysteresisOptions = {}): SwitchVerdict {
  const horizonS = options.horizonS ?? 5;
  const explore = q.exploring === true ? Math.max(0, options.explorationGain ?? 0.1) : 0;
  const minRel = (options.minRelativeGain ?? 0.03) + explore;
  const dwell = options.minDwellMs ?? 3000;
  const costMs = q.changes.reduce((s, c) => s + c.stallMs + (c.rate * c.stallMs * c.stallMs) / 2000, 0);
  if (q.changes.length === 0)
    return { switch: false, gainMs: 0, benefitMs: 0, costMs: 0, reason: 'same configuration' };
  if (!Number.isFinite(q.currentMs)) {
    const ok = Number.isFinite(q.candidateMs);
    return {
      switch: ok,
      gainMs: Infinity,
      benefitMs: Infinity,
      costMs,
      reason: ok ? 'current configuration is unstable' : 'no stable configuration',
    };
  }
  const gainMs = q.currentMs - q.candidateMs;
  const benefitMs = gainMs * q.totalRate * horizonS;
  let reason: string;
  if (!(gainMs > 0)) reason = 'no predicted gain';
  else if (gainMs / q.currentMs < minRel)
    reason = `relative gain ${(gainMs / q.currentMs).toFixed(3)} < ${Number(minRel.toFixed(3))}${explore > 0 ? ' (a cut not yet measured)' : ''}`;
  else if (benefitMs <= costMs) reason = `benefit ${benefitMs.toFixed(1)} ms ≤ cost ${costMs.toFixed(1)} ms`;
  else if (q.nowMs - q.lastSwitchMs < dwell)
    reason = `dwell ${(q.nowMs - q.lastSwitchMs).toFixed(0)} ms < ${dwell} ms`;
  else return { switch: true, gainMs, benefitMs, costMs, reason: 'gain exceeds cost' };
  return { switch: false, gainMs, benefitMs, costMs, reason };
}

/**
 * Debounces an SLO-forced switch: {@link observe} is called once per tick with the reason the SLO check gives to
 * leave the configuration in effect (null: none) and returns it only once it has held on `sloBreachTicks`
 * consecutive ticks. A reason that is not a breach (`persistent` false: e.g. admission control changed) passes
 * at once.
 */
export class SloBreachGate {
  readonly ticks: number;
  #streak = 0;

  constructor(options: HysteresisOptions = {}) {
    this.ticks = Math.max(1, Math.floor(options.sloBreachTicks ?? 3));
  }

  /** Ticks in a row the breach has been seen (0 after a tick without one or after {@link reset}). */
  get streak(): number {
    return this.#streak;
  }

  /** The forcing reason of this tick, or null while a breach has not yet held long enough. */
  observe(reason: string | null, persistent = true): string | null {
    if (reason === null) {
      this.#streak = 0;
      return null;
    }
    if (!persistent) return reason;
    this.#streak++;
    return this.#streak >= this.ticks
      ? `${reason} (on ${this.#streak} tick${this.#streak === 1 ? '' : 's'} in a row)`
      : null;
  }

  /**
   * The tick's verdict with the SLO check folded in: `breach` (the SLO check's reason to leave, null: none) forces
   * the switch once it has held long enough ({@link observe}; `persistent` false: at once); while it has not, a
   * kept verdict says how far the streak is.
   */
  apply(weighed: SwitchVerdict, breach: string | null, persistent = true): SwitchVerdict {
    const forced = this.observe(breach, persistent);
    if (forced !== null) return { ...weighed, switch: true, reason: forced };
    if (breach === null || weighed.switch) return weighed;
    return { ...weighed, reason: `${weighed.reason}; SLO breach on ${this.#streak} of ${this.ticks} ticks` };
  }

  /** Forgets the streak (the configuration in effect changed). */
  reset(): void {
    this.#streak = 0;
  }
}
