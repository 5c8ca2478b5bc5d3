import { fileURLToPath } from 'node:url';
import type { SystemSetup } from '@swapless/contracts';
import { ErrorCodes, InvalidArgumentError, InvalidConfigError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { conformanceSystems } from './conformance.js';
import { guardLatencyModel, predictionProblems, queueingPackage } from './guard.js';
import { defaultModel } from './model.js';
import { createLatencyModelRegistry } from './registry.js';

const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const registry = () => createLatencyModelRegistry({ baseDir: fixtures });
const system = (cores: number): SystemSetup => {
  const s = structuredClone(conformanceSystems()[0]!.system);
  return { ...s, cores, tenants: s.tenants.map((t) => ({ ...t, cores: Math.min(t.cores, cores) })) };
};

async function refusedAtLoad(dir: string): Promise<InvalidConfigError> {
  const e = await registry()
    .load(`./${dir}`)
    .then(
      () => null,
      (err: unknown) => err,
    );
  expect(e).toBeInstanceOf(InvalidConfigError);
  expect((e as InvalidConfigError).code).toBe(ErrorCodes.INVALID_CONFIG);
  return e as InvalidConfigError;
}

describe('plugins that break the contract are refused when they load, naming package and version', () => {
  it('NaN', async () => {
    const e = await refusedAtLoad('nan-plugin');
    expect(e.message).toMatch(
      /^Expected a latency model that passes the quick conformance checks from latency model fixture-nan \(@fixture\/nan-plugin@0\.3\.1\)/,
    );
    expect(e.problems).toContain(
      '[shape] single tenant: solo.responseMs = NaN: expected a number ≥ 0, never NaN',
    );
    expect(e.details.latencyModel).toMatchObject({
      id: 'fixture-nan',
      package: '@fixture/nan-plugin',
      version: '0.3.1',
    });
  });

  it('negative times', async () => {
    const e = await refusedAtLoad('negative-plugin');
    expect(e.message).toContain('fixture-negative (@fixture/negative-plugin@0.3.1)');
    expect(e.problems).toContain(
      '[shape] single tenant: solo.responseMs = -979.72: expected a number ≥ 0, never NaN',
    );
  });

  it('stages that do not add up to the response', async () => {
    const e = await refusedAtLoad('parts-plugin');
    expect(e.message).toContain('fixture-parts (@fixture/parts-plugin@0.3.1)');
    expect(e.problems).toContain('[components] single tenant: solo.responseMs 2 ≠ sum of its stages 9');
  });

  it('a predict that throws', async () => {
    const e = await refusedAtLoad('throwing-plugin');
    expect(e.message).toContain('fixture-throwing (@fixture/throwing-plugin@0.3.1)');
    expect(e.problems[0]).toMatch(/^\[shape\] single tenant: predict threw TypeError: /);
  });
});

describe('every prediction is checked after load', () => {
  it('a plugin that passes the quick checks and later returns NaN: SWAPLESS_INVALID_CONFIG, never the NaN', async () => {
    const resolved = await registry().load('./sly-plugin');
    expect(resolved.label).toBe('fixture-sly (@fixture/sly-plugin@0.3.1)');
    expect(resolved.model.predict(system(2)).tenants[0]!.responseMs).toBeGreaterThan(0);
    let caught: unknown;
    try {
      resolved.model.predict(system(8));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidConfigError);
    const e = caught as InvalidConfigError;
    expect(e.message).toMatch(
      /^Expected finite, non-negative predictions whose stages add up from latency model fixture-sly \(@fixture\/sly-plugin@0\.3\.1\) but received/,
    );
    expect(e.problems).toContain('tenants[0] (solo).responseMs = NaN: expected a number ≥ 0');
  });

  it('a SwapLess error the model throws on purpose passes through; a bug does not', () => {
    const id = { id: 'mg1-default', package: '@swapless/queueing', version: '0.0.0' };
    expect(() => guardLatencyModel(defaultModel, id).predict(null as unknown as SystemSetup)).toThrow(
      InvalidArgumentError,
    );
    const buggy = guardLatencyModel(
      {
        name: 'buggy',
        predict: () => defaultModel.predict(system(2)),
        fit: () => {
          throw new RangeError('oops');
        },
      },
      { id: 'buggy', package: null, version: null },
    );
    expect(() => buggy.fit?.([])).toThrow(
      /latency model buggy \(built-in\).*\n {2}fit\(\) threw RangeError: oops/,
    );
  });

  it('predictionProblems: Infinity only with a reason, a mean within the tenants', () => {
    const s = conformanceSystems()[3]!.system; // Edge TPU overloaded
    const p = defaultModel.predict(s);
    expect(predictionProblems(s, p)).toEqual([]);
    const noReason = { ...p, tenants: p.tenants.map(({ unstable: _u, ...t }) => t) };
    expect(predictionProblems(s, noReason)).toContain(
      "tenants[0] (p).responseMs = Infinity without an 'unstable' reason",
    );
    const stable = system(2);
    const q = defaultModel.predict(stable);
    expect(predictionProblems(stable, { ...q, meanResponseMs: q.meanResponseMs * 3 })[0]).toMatch(
      /^meanResponseMs = .* is outside the tenants' responses/,
    );
  });

  it('the built-in model is labelled with this package and version', async () => {
    const r = await createLatencyModelRegistry().load('mg1-default');
    const { name, version } = queueingPackage();
    expect(r.label).toBe(`mg1-default (${name}@${version})`);
    expect(r.model.name).toBe('mg1-default');
  });
});
