import { describe, expect, it } from 'vitest';
import { disciplineProblem, reorderBudgetMs } from './discipline.js';
import { InvalidArgumentError } from './errors.js';

describe('queue disciplines', () => {
  it('accepts FIFO (also absent) and a switch-aware bound ≥ 0', () => {
    expect(disciplineProblem(undefined, 'd')).toBeNull();
    expect(disciplineProblem('fifo', 'd')).toBeNull();
    expect(disciplineProblem({ kind: 'switch-aware', maxExtraWaitMs: 0 }, 'd')).toBeNull();
    expect(reorderBudgetMs(undefined)).toBe(0);
    expect(reorderBudgetMs('fifo')).toBe(0);
    expect(reorderBudgetMs({ kind: 'switch-aware', maxExtraWaitMs: 12.5 })).toBe(12.5);
  });

  it('refuses other kinds, extra keys and bad bounds, naming the field', () => {
    for (const bad of [
      'lifo',
      null,
      [],
      { kind: 'priority', maxExtraWaitMs: 1 },
      { kind: 'switch-aware', maxExtraWaitMs: 1, x: 1 },
    ])
      expect(disciplineProblem(bad, 'system.discipline'), JSON.stringify(bad)).toMatch(
        /^Expected 'fifo' or \{ kind: 'switch-aware'.* for system\.discipline/,
      );
    for (const b of [-1, Number.NaN, Number.POSITIVE_INFINITY, '3'])
      expect(disciplineProblem({ kind: 'switch-aware', maxExtraWaitMs: b }, 'd')).toMatch(
        /for d\.maxExtraWaitMs/,
      );
    let caught: unknown;
    try {
      reorderBudgetMs({ kind: 'switch-aware', maxExtraWaitMs: -2 } as never, 'x');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    expect((caught as InvalidArgumentError).code).toBe('SWAPLESS_INVALID_ARGUMENT');
  });
});
