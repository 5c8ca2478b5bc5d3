/**
 * The Edge TPU queue discipline per workload (issue 15 B): FIFO, or the bounded switch-aware reordering
 * (`TpuDiscipline`) with a budget of a few reload times. The controller predicts the configuration its search
 * found under each candidate and keeps the switch-aware one only when the model predicts it lower by a margin —
 * so with a model that ignores the discipline (a plugin), or a workload with nothing to reorder (one token),
 * FIFO stays.
 */
import type { SystemSetup, TpuDiscipline } from '@swapless/contracts';
import { expected, InvalidArgumentError, reorderBudgetMs } from '@swapless/core';
import type { Predictor } from './search.js';

/** Options of the discipline choice (`SwaplessOptions.discipline`). */
export interface DisciplineOptions {
  /**
   * Budgets tried, in reload times (the λ-weighted mean reload of the Edge TPU tenants): each gives a
   * `maxExtraWaitMs`. Default [1, 2]: "no call waits more than one or two reloads beyond its FIFO position".
   */
  budgetsInReloads?: readonly number[];
  /** Relative predicted gain the switch-aware discipline must show over FIFO to be chosen (default 0.01). */
  minGain?: number;
}

/** The discipline chosen for one configuration, with both predictions. */
export interface DisciplineChoice {
  discipline: TpuDiscipline;
  /** Predicted mean response under it, ms. */
  predictedMs: number;
  /** Predicted mean response under FIFO, ms. */
  fifoMs: number;
}

/** λ-weighted mean reload of the tenants with an Edge TPU stage, ms (0 when none). */
export function meanReloadMs(system: SystemSetup): number {
  let rate = 0;
  let reload = 0;
  for (const t of system.tenants) {
    if (t.tpu === null) continue;
    rate += t.rate;
    reload += t.rate * t.tpu.reloadMs;
  }
  return rate > 0 ? reload / rate : 0;
}

/**
 * Predicts `system` (its own `discipline` ignored) under FIFO and under the switch-aware discipline at each
 * budget, and returns the best, FIFO unless another beats it by `minGain`.
 * @throws InvalidArgumentError for a budget that is not finite and > 0, or a negative `minGain`.
 */
export function chooseDiscipline(
  model: Predictor,
  system: SystemSetup,
  options: DisciplineOptions = {},
): DisciplineChoice {
  const budgets = options.budgetsInReloads ?? [1, 2];
  const minGain = options.minGain ?? 0.01;
  for (const b of budgets)
    if (!(Number.isFinite(b) && b > 0))
      throw new InvalidArgumentError(expected('finite budgets > 0', 'options.budgetsInReloads', b));
  if (!(minGain >= 0)) throw new InvalidArgumentError(expected('a gain ≥ 0', 'options.minGain', minGain));
  const { discipline: _ignored, ...fifoSystem } = system;
  const fifoMs = model.predict(fifoSystem).meanResponseMs;
  let best: DisciplineChoice = { discipline: 'fifo', predictedMs: fifoMs, fifoMs };
  const reload = meanReloadMs(system);
  if (!(reload > 0)) return best;
  for (const b of budgets) {
    const discipline: TpuDiscipline = { kind: 'switch-aware', maxExtraWaitMs: b * reload };
    const ms = model.predict({ ...fifoSystem, discipline }).meanResponseMs;
    // Unstable under FIFO (Infinity) and stable here is a gain too.
    const better = fifoMs === Infinity ? ms < Infinity : ms < fifoMs * (1 - minGain);
    if (better && ms < best.predictedMs) best = { discipline, predictedMs: ms, fifoMs };
  }
  return best;
}

/** Same queue discipline: the same reordering budget (a switch-aware budget of 0 is FIFO). */
export function sameDiscipline(a: TpuDiscipline, b: TpuDiscipline): boolean {
  return reorderBudgetMs(a) === reorderBudgetMs(b);
}
