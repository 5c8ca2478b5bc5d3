/**
 * Checks and reading of an Edge TPU queue discipline (`TpuDiscipline` of @swapless/contracts), shared by the
 * simulator, the latency models, the controller and the runtime so they accept and refuse exactly the same values.
 */
import { expected } from './describe.js';
import { InvalidArgumentError } from './errors.js';

/** The shape of `TpuDiscipline` (core does not depend on contracts; the two are structurally the same). */
export type QueueDiscipline = 'fifo' | { readonly kind: 'switch-aware'; readonly maxExtraWaitMs: number };

const SHAPE = "'fifo' or { kind: 'switch-aware', maxExtraWaitMs: finite number ≥ 0 }";

/**
 * The problem with `value` as a queue discipline, in the house form, or null when it is one (`undefined`
 * counts as the default, FIFO).
 * @param where names the value in the message (e.g. `system.discipline`).
 */
export function disciplineProblem(value: unknown, where: string): string | null {
  if (value === undefined || value === 'fifo') return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return expected(SHAPE, where, value);
  const v = value as Record<string, unknown>;
  const extra = Object.keys(v).filter((k) => k !== 'kind' && k !== 'maxExtraWaitMs');
  if (v.kind !== 'switch-aware' || extra.length > 0) return expected(SHAPE, where, value);
  const b = v.maxExtraWaitMs;
  if (typeof b !== 'number' || !Number.isFinite(b) || b < 0)
    return expected('a finite number ≥ 0 (ms)', `${where}.maxExtraWaitMs`, b);
  return null;
}

/**
 * The reordering budget of a discipline, ms: 0 for FIFO (and for `undefined`), `maxExtraWaitMs` for the
 * switch-aware one. A budget of 0 is FIFO whatever the kind.
 * @throws InvalidArgumentError (`SWAPLESS_INVALID_ARGUMENT`, `details.field` = `where`) for a malformed value.
 */
export function reorderBudgetMs(value: QueueDiscipline | undefined, where = 'discipline'): number {
  const problem = disciplineProblem(value, where);
  if (problem !== null) throw new InvalidArgumentError(problem, { details: { field: where } });
  return value === undefined || value === 'fifo' ? 0 : value.maxExtraWaitMs;
}
