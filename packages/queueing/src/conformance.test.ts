import type { LatencyModel, Prediction, SystemSetup } from '@swapless/contracts';
import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { assertLatencyModel, checkLatencyModel, conformanceSystems } from './conformance.js';
import { defaultModel } from './model.js';

const failed = (model: LatencyModel) =>
  checkLatencyModel(model)
    .checks.filter((c) => !c.passed)
    .map((c) => c.name);

/** The default model with one thing broken. */
const broken = (name: string, predict: (s: SystemSetup, base: Prediction) => Prediction): LatencyModel => ({
  name,
  predict: (s) => predict(s, { ...defaultModel.predict(s), model: name }),
});

describe('conformance kit', () => {
  it('the default model passes every check; fit is skipped', () => {
    const report = assertLatencyModel(defaultModel);
    expect(report.passed).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual([
      'shape',
      'components',
      'determinism',
      'monotonicity-load',
      'monotonicity-single-token',
      'instability',
      'errors',
      'fit',
    ]);
    expect(report.checks.find((c) => c.name === 'fit')?.skipped).toBe(true);
  });

  it('its systems are valid for the default model and hit the intended stages', () => {
    for (const k of conformanceSystems()) {
      const p = defaultModel.predict(k.system);
      const unstable = Object.fromEntries(
        p.tenants.filter((t) => t.unstable).map((t) => [t.name, t.unstable!.stage]),
      );
      expect(unstable, k.label).toEqual(k.unstable);
    }
  });

  it('catches NaN, a wrong name, Infinity without a reason', () => {
    expect(
      failed(
        broken('nan', (_s, p) => ({
          ...p,
          tenants: p.tenants.map((t) => ({ ...t, cpuWaitMs: Number.NaN })),
        })),
      ),
    ).toContain('shape');
    expect(failed({ name: 'liar', predict: defaultModel.predict })).toEqual(['shape']);
    const noReason = failed(
      broken('no-reason', (_s, p) => ({ ...p, tenants: p.tenants.map(({ unstable: _u, ...t }) => t) })),
    );
    expect(noReason).toEqual(expect.arrayContaining(['shape', 'instability']));
  });

  it('catches a model that does not add its stages up', () => {
    expect(
      failed(
        broken('sum', (_s, p) => ({ ...p, tenants: p.tenants.map((t) => ({ ...t, cpuServiceMs: 0 })) })),
      ),
    ).toContain('components');
  });

  it('catches non-determinism and input mutation', () => {
    let n = 0;
    expect(
      failed(
        broken('noisy', (_s, p) => ({
          ...p,
          tenants: p.tenants.map((t) => ({ ...t, tpuServiceMs: t.tpuServiceMs + (n++ % 2) * 1e-3 })),
        })),
      ),
    ).toContain('determinism');
    const mutating: LatencyModel = {
      name: 'mutating',
      predict: (s) => {
        (s.tenants as SystemSetup['tenants'][number][]).sort((a, b) => a.name.localeCompare(b.name));
        return { ...defaultModel.predict(s), model: 'mutating' };
      },
    };
    expect(failed(mutating)).toContain('determinism');
  });

  it('catches a response that falls as load rises', () => {
    const inverse = broken('inverse', (s, p) => ({
      ...p,
      tenants: p.tenants.map((t, i) =>
        t.unstable
          ? t
          : { ...t, cpuWaitMs: 0, responseMs: t.responseMs - t.cpuWaitMs + 100 / (1 + s.tenants[i]!.rate) },
      ),
    }));
    const f = failed(inverse);
    expect(f).toContain('monotonicity-load');
    expect(f).toContain('monotonicity-single-token');
  });

  it('catches a model that never saturates, and one that crashes on malformed input', () => {
    const optimist = broken('optimist', (_s, p) => ({
      ...p,
      stable: true,
      meanResponseMs: 1,
      tenants: p.tenants.map(({ unstable: _u, ...t }) => ({
        ...t,
        responseMs: 1,
        tpuWaitMs: 0,
        cpuWaitMs: 0,
        tpuServiceMs: 1,
        cpuServiceMs: 0,
      })),
    }));
    expect(failed(optimist)).toContain('instability');
    const naive: LatencyModel = {
      name: 'naive',
      predict: (s) => ({
        model: 'naive',
        stable: true,
        meanResponseMs: 0,
        tenants: s.tenants.map((t) => ({ ...defaultModel.predict({ cores: 99, tenants: [t] }).tenants[0]! })),
      }),
    };
    const report = checkLatencyModel(naive);
    const errors = report.checks.find((c) => c.name === 'errors')!;
    expect(errors.passed).toBe(false);
    expect(errors.failures.some((f) => /TypeError/.test(f))).toBe(true);
  });

  it('runs fit when there is one, and assertLatencyModel throws a typed error listing failures', () => {
    const fits: unknown[] = [];
    const fitted: LatencyModel = {
      name: 'mg1-default',
      predict: defaultModel.predict,
      fit: (o) => fits.push(o),
    };
    expect(checkLatencyModel(fitted).passed).toBe(true);
    expect(fits).toHaveLength(2);
    const throwsOnFit: LatencyModel = {
      ...fitted,
      fit: () => {
        throw new Error('no');
      },
    };
    expect(failed(throwsOnFit)).toEqual(['fit']);
    try {
      assertLatencyModel(throwsOnFit);
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
      expect((e as Error).message).toMatch(/\[fit\] fit\(\[\]\) threw Error: no/);
    }
    expect(checkLatencyModel({} as LatencyModel).passed).toBe(false);
  });
});
