import type { SystemSetup, TenantSetup, TpuDiscipline, TpuStage } from '@swapless/contracts';
import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { defaultModel } from './model.js';
import { analyzeSwitchAwareTpu } from './switch-aware.js';

const sa = (maxExtraWaitMs: number): TpuDiscipline => ({ kind: 'switch-aware', maxExtraWaitMs });
/** A tenant with both stages: 0.2 ms² of TPU jitter, a small measured CPU tail. */
const BASE: TenantSetup = {
  name: '',
  rate: 0,
  k: 4,
  n: 10,
  cores: 1,
  tpu: { token: '', serviceMs: 1, serviceVarianceMs2: 0.2, reloadMs: 0, source: 'emulated' },
  cpu: { mode: 'mg1', samplesMs: [1, 2, 4], source: 'measured' },
};
/** A tenant with BASE's stages and the given TPU token, call and reload times. */
const head = (name: string, rate: number, tpu: Pick<TpuStage, 'token' | 'serviceMs' | 'reloadMs'>) => ({
  ...BASE,
  name,
  rate,
  tpu: { ...BASE.tpu!, ...tpu },
});
const pair = (rate: number): SystemSetup => ({
  tenants: [
    head('a', rate, { token: 'A', serviceMs: 2, reloadMs: 12 }),
    head('b', rate, { token: 'B', serviceMs: 3, reloadMs: 10 }),
  ],
  cores: 2,
});

describe('the default model under the switch-aware discipline', () => {
  it('is FIFO with one token, with a budget of 0, and with a budget below every call', () => {
    const one: SystemSetup = {
      tenants: [head('a', 150, { token: 'A', serviceMs: 2, reloadMs: 12 })],
      cores: 2,
    };
    expect(defaultModel.predict({ ...one, discipline: sa(40) })).toEqual(defaultModel.predict(one));
    // Two tenants sharing a token (co-compiled) are one token too.
    const shared: SystemSetup = {
      tenants: [
        head('a', 80, { token: 'S', serviceMs: 2, reloadMs: 12 }),
        head('b', 60, { token: 'S', serviceMs: 3, reloadMs: 12 }),
      ],
      cores: 2,
    };
    const fifoShared = defaultModel.predict(shared);
    const saShared = defaultModel.predict({ ...shared, discipline: sa(40) });
    saShared.tenants.forEach((t, i) => {
      expect(t.responseMs).toBeCloseTo(fifoShared.tenants[i]!.responseMs, 9);
    });
    const two = pair(60);
    const fifo = defaultModel.predict(two);
    expect(defaultModel.predict({ ...two, discipline: sa(0) })).toEqual(fifo);
    expect(defaultModel.predict({ ...two, discipline: 'fifo' })).toEqual(fifo);
    // 1.9 ms < both calls' 2 and 3 ms: no call can pass another.
    const tight = defaultModel.predict({ ...two, discipline: sa(1.9) });
    tight.tenants.forEach((t, i) => {
      expect(t.switchProbability).toBeCloseTo(fifo.tenants[i]!.switchProbability, 12);
      expect(t.responseMs).toBeCloseTo(fifo.tenants[i]!.responseMs, 9);
    });
  });

  it('predicts fewer reloads and a lower mean as the budget grows, and more so under load', () => {
    const light = pair(10);
    const heavy = pair(60);
    const fifoHeavy = defaultModel.predict(heavy);
    let last = fifoHeavy;
    for (const budget of [3, 6, 12, 48]) {
      const p = defaultModel.predict({ ...heavy, discipline: sa(budget) });
      expect(p.stable).toBe(true);
      expect(p.tenants[0]!.switchProbability).toBeLessThan(last.tenants[0]!.switchProbability);
      expect(p.meanResponseMs).toBeLessThan(last.meanResponseMs);
      last = p;
    }
    const gain = (s: SystemSetup) =>
      1 -
      defaultModel.predict({ ...s, discipline: sa(48) }).meanResponseMs /
        defaultModel.predict(s).meanResponseMs;
    expect(gain(heavy)).toBeGreaterThan(gain(light));
    expect(gain(light)).toBeGreaterThan(0);
  });

  it('can make stable what FIFO saturates, and its per-tenant waits average to the reported wait', () => {
    const saturated = pair(85);
    expect(defaultModel.predict(saturated).stable).toBe(false);
    const p = defaultModel.predict({ ...saturated, discipline: sa(60) });
    expect(p.stable).toBe(true);
    expect(p.tenants[0]!.tpuUtilization).toBeLessThan(1);
    const tpu = analyzeSwitchAwareTpu(saturated, 60);
    const mean =
      tpu.classes.reduce((s, c) => s + c.ratePerMs * tpu.waitByIndex.get(c.index)!, 0) / tpu.ratePerMs;
    expect(tpu.pkWaitMs).toBeCloseTo(mean, 12);
  });

  it('refuses a malformed discipline', () => {
    let caught: unknown;
    try {
      defaultModel.predict({ ...pair(1), discipline: { kind: 'switch-aware', maxExtraWaitMs: -1 } });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    expect((caught as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
  });
});
