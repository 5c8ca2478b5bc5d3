// The Edge TPU discipline per workload (issue 15 B): switch-aware where reloads dominate and the model predicts a
// gain, FIFO otherwise; swapless+ decides it and the simulated run follows it.
import type { SystemSetup, TenantSetup } from '@swapless/contracts';
import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { defaultModel } from '@swapless/queueing';
import { describe, expect, it } from 'vitest';
import { chooseDiscipline, meanReloadMs } from './discipline.js';
import { createPolicy } from './policy.js';
import { runPolicyInSim } from './simrun.js';
import { syntheticCatalog } from './synthetic.test-util.js';

const onTpu = (name: string, rate: number, serviceMs: number, reloadMs: number): TenantSetup => ({
  name,
  rate,
  k: 10,
  n: 10,
  cores: 0,
  tpu: { token: name, serviceMs, serviceVarianceMs2: 0, reloadMs, source: 'emulated' },
  cpu: null,
});

describe('chooseDiscipline', () => {
  it('picks the switch-aware discipline where reloads dominate, with a budget of reload times', () => {
    const system: SystemSetup = { tenants: [onTpu('a', 60, 2, 10), onTpu('b', 60, 2, 10)], cores: 0 };
    expect(meanReloadMs(system)).toBe(10);
    const c = chooseDiscipline(defaultModel, system);
    expect(c.discipline).not.toBe('fifo');
    expect(c.discipline).toMatchObject({ kind: 'switch-aware' });
    expect([10, 20]).toContain((c.discipline as { maxExtraWaitMs: number }).maxExtraWaitMs);
    expect(c.predictedMs).toBeLessThan(0.99 * c.fifoMs);
    // The system's own discipline is not what FIFO is predicted with.
    const again = chooseDiscipline(defaultModel, { ...system, discipline: c.discipline });
    expect(again.fifoMs).toBe(c.fifoMs);
  });

  it('keeps FIFO with one token, with a model that ignores the discipline, and below the margin', () => {
    const one: SystemSetup = { tenants: [onTpu('a', 100, 2, 10)], cores: 0 };
    expect(chooseDiscipline(defaultModel, one).discipline).toBe('fifo');
    const two: SystemSetup = { tenants: [onTpu('a', 60, 2, 10), onTpu('b', 60, 2, 10)], cores: 0 };
    const blind = {
      name: 'blind',
      predict: (s: SystemSetup) => {
        const { discipline: _d, ...fifo } = s;
        return defaultModel.predict(fifo);
      },
    };
    expect(chooseDiscipline(blind, two).discipline).toBe('fifo');
    expect(chooseDiscipline(defaultModel, two, { minGain: 0.99 }).discipline).toBe('fifo');
  });

  it('refuses budgets that are not > 0 and a negative margin', () => {
    const system: SystemSetup = { tenants: [onTpu('a', 1, 2, 10)], cores: 0 };
    for (const options of [{ budgetsInReloads: [0] }, { budgetsInReloads: [Number.NaN] }, { minGain: -1 }]) {
      let caught: unknown;
      try {
        chooseDiscipline(defaultModel, system, options);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError);
      expect((caught as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    }
  });
});

describe('swapless+ and the discipline', () => {
  // Small, reload-heavy heads: three tenants taking turns fast.
  const tenants = ['a', 'b', 'c'].map((name, i) => ({
    name,
    rate: 45,
    catalog: syntheticCatalog(name, { tpuMs: 2, cpuMs: 30, reloadMs: 9, seed: i + 1 }),
  }));
  const workload = { tenants, cores: 4, durationMs: 30_000, warmupMs: 3_000, seed: 1 };

  it('decides the switch-aware discipline where it predicts a gain; swapless never does', () => {
    const plus = createPolicy('swapless+').initial({ tenants, cores: 4 });
    const plain = createPolicy('swapless').initial({ tenants, cores: 4 });
    expect(plain.discipline).toBeUndefined();
    expect(plus.discipline).toMatchObject({ kind: 'switch-aware' });
    expect(plus.predictedMs).toBeLessThanOrEqual(plain.predictedMs);
  });

  it('is simulated under the discipline it decided: fewer reloads, and no worse than swapless', () => {
    const plus = runPolicyInSim(workload, createPolicy('swapless+', { coCompile: false }));
    const plain = runPolicyInSim(workload, createPolicy('swapless'));
    expect(plus.decisions[0]!.discipline).toMatchObject({ kind: 'switch-aware' });
    expect(plus.sim.swaps).toBeLessThan(plain.sim.swaps);
    expect(plus.meanResponseMs).toBeLessThanOrEqual(1.01 * plain.meanResponseMs);
  });
});
