import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SystemSetup, TenantSetup } from '@swapless/contracts';
import {
  API_VERSION,
  analyzeTpu,
  createLatencyModelRegistry,
  defaultModel,
  ErrorCodes,
  InvalidArgumentError,
  readPluginManifest,
  satisfies,
} from '@swapless/queueing';
import { assertLatencyModel } from '@swapless/queueing/conformance';
import { describe, expect, it } from 'vitest';
import createFromEntry, { createSwitchoverModel, SWITCHOVER_MODEL_NAME, switchoverWait } from './index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const tenant = (
  name: string,
  rate: number,
  token: string,
  serviceMs: number,
  reloadMs: number,
): TenantSetup => ({
  name,
  rate,
  k: 10,
  n: 10,
  cores: 0,
  tpu: { token, serviceMs, serviceVarianceMs2: 0, reloadMs, source: 'emulated' },
  cpu: null,
});
const system = (...tenants: TenantSetup[]): SystemSetup => ({ cores: 0, tenants });

/**
 * Mean Edge TPU wait by Lindley's recursion over Poisson arrivals with i.i.d. tenant marks, FCFS, and a reload
 * whenever the previous call had another token: the exact system the models approximate. Seeded, so the
 * result is a fixed number, not a flaky one.
 */
function simulateWaitMs(s: SystemSetup, calls: number, seed: number): number {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rates = s.tenants.map((t) => t.rate / 1000);
  const total = rates.reduce((a, b) => a + b, 0);
  let wait = 0;
  let previousService = 0;
  let previousToken: string | undefined;
  let sum = 0;
  let counted = 0;
  for (let n = 0; n < calls; n++) {
    const gap = -Math.log(1 - random()) / total;
    let u = random() * total;
    let j = 0;
    while (j < rates.length - 1 && u >= rates[j]!) u -= rates[j++]!;
    wait = Math.max(0, wait + previousService - gap);
    const stage = s.tenants[j]!.tpu!;
    previousService =
      stage.serviceMs + (previousToken !== undefined && previousToken !== stage.token ? stage.reloadMs : 0);
    previousToken = stage.token;
    if (n >= calls / 20) {
      sum += wait;
      counted++;
    }
  }
  return sum / counted;
}

describe('mg1-switchover', () => {
  it('passes the conformance kit (every correction)', () => {
    for (const correction of ['transform', 'linear', 'none'] as const) {
      expect(assertLatencyModel(createSwitchoverModel({ correction })).passed).toBe(true);
    }
  });

  it('passes the conformance kit after fitting, fit check included', () => {
    const model = createSwitchoverModel({ minObservedCalls: 1 });
    expect(assertLatencyModel(model).passed).toBe(true);
    expect(model.fittedSwitchProbabilities().size).toBeGreaterThan(0);
  });

  it('equals Pollaczek–Khinchine where P-K is exact: one token, and symmetric tenants', () => {
    const model = createSwitchoverModel();
    const oneToken = system(tenant('a', 30, 't', 2, 9), tenant('b', 10, 't', 5, 9));
    const reference = defaultModel.predict(oneToken).tenants;
    model.predict(oneToken).tenants.forEach((t, i) => {
      expect(Math.abs(t.responseMs - reference[i]!.responseMs) / reference[i]!.responseMs).toBeLessThan(1e-9);
    });
    const symmetric = system(tenant('a', 20, 'ta', 2, 10), tenant('b', 20, 'tb', 2, 10));
    const tpu = analyzeTpu(symmetric);
    const w = switchoverWait(symmetric, tpu, 'transform');
    expect(Math.abs(w.covarianceMs2)).toBeLessThan(1e-12);
    expect(Math.abs(w.waitMs - w.pkWaitMs) / w.pkWaitMs).toBeLessThan(1e-9);
  });

  it("'none' is the default model under another name", () => {
    const s = system(tenant('a', 50, 'ta', 1, 10), tenant('b', 5, 'tb', 1, 60));
    const p = createSwitchoverModel({ correction: 'none' }).predict(s);
    expect(p.model).toBe(SWITCHOVER_MODEL_NAME);
    expect(p.tenants).toEqual(defaultModel.predict(s).tenants);
  });

  it('predicts several Edge TPUs as one queue per device', () => {
    const model = createSwitchoverModel();
    const a = tenant('a', 50, 'ta', 1, 10);
    const b = tenant('b', 5, 'tb', 1, 60);
    const c = tenant('c', 20, 'tc', 3, 5);
    const both: SystemSetup = {
      cores: 0,
      devices: [{ id: 'x' }, { id: 'y' }],
      tenants: [
        { ...a, device: 'x' },
        { ...c, device: 'y' },
        { ...b, device: 'x' },
      ],
    };
    const p = model.predict(both);
    const onX = model.predict(system(a, b));
    expect(p.tenants[0]).toEqual(onX.tenants[0]);
    expect(p.tenants[2]).toEqual(onX.tenants[1]);
    expect(p.tenants[1]).toEqual(model.predict(system(c)).tenants[0]);
    // One device listed: the same as none.
    expect(model.predict({ ...system(a, b), devices: [{ id: 'x' }] })).toEqual(onX);
  });

  it('is closer to an exact FCFS simulation than P-K when tenants differ (positive and negative correlation)', () => {
    // Asymmetric cases where P-K is off by 7–10 %: it under-predicts the first, over-predicts the second.
    const cases = [
      system(tenant('a', 50, 'ta', 1, 10), tenant('b', 5, 'tb', 1, 60)),
      system(tenant('a', 50, 'ta', 8, 1), tenant('b', 10, 'tb', 1, 30)),
    ];
    for (const s of cases) {
      const simulated = simulateWaitMs(s, 2_000_000, 7);
      const pk = defaultModel.predict(s).tenants[0]!.tpuWaitMs;
      const transform = createSwitchoverModel().predict(s).tenants[0]!.tpuWaitMs;
      const linear = createSwitchoverModel({ correction: 'linear' }).predict(s).tenants[0]!.tpuWaitMs;
      const err = (x: number) => Math.abs(x - simulated) / simulated;
      expect(err(pk)).toBeGreaterThan(0.05);
      expect(err(transform)).toBeLessThan(0.015);
      expect(err(linear)).toBeLessThan(err(pk));
    }
  });

  it('fit(): reload fractions replace the analytic ones after minObservedCalls, with bounded memory', () => {
    const s = system(tenant('a', 40, 'ta', 2, 20), tenant('b', 40, 'tb', 2, 20));
    const model = createSwitchoverModel({ minObservedCalls: 100, memoryCalls: 1000 });
    const before = model.predict(s);
    expect(before.tenants[0]!.switchProbability).toBeCloseTo(0.5, 12);
    model.fit([{ tenant: 'a', k: 10, cores: 0, rate: 40, count: 50, reloadFraction: 0.1 }]);
    expect(model.predict(s).tenants[0]!.switchProbability).toBeCloseTo(0.5, 12); // 50 < 100 calls
    model.fit([{ tenant: 'a', k: 10, cores: 0, rate: 40, count: 50, reloadFraction: 0.1 }]);
    const after = model.predict(s);
    expect(after.tenants[0]!.switchProbability).toBeCloseTo(0.1, 12);
    expect(after.tenants[0]!.responseMs).toBeLessThan(before.tenants[0]!.responseMs);
    // 1000 newer calls at 0.3 push the 100 old ones out of memory entirely.
    model.fit([{ tenant: 'a', k: 10, cores: 0, rate: 40, count: 1000, reloadFraction: 0.3 }]);
    expect(model.fittedSwitchProbabilities().get('a')).toBeCloseTo(0.3, 12);
    expect(() => model.fit([{ tenant: 'a', k: 1, cores: 0, rate: 1, count: 5, reloadFraction: 2 }])).toThrow(
      InvalidArgumentError,
    );
  });

  it('direct construction checks its options with typed errors', () => {
    try {
      createSwitchoverModel({ minObservedCalls: 0 });
      throw new Error('expected a throw');
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
      expect((e as Error).message).toBe(
        'Expected an integer ≥ 1 for options.minObservedCalls but received 0',
      );
    }
  });
});

describe('the plugin package', () => {
  it('ships a manifest that passes the host checks and matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const { manifest } = readPluginManifest(packageDir);
    expect(manifest.name).toBe(pkg.name);
    expect(manifest.version).toBe(pkg.version);
    expect(satisfies(API_VERSION, manifest.apiVersion)).toBe(true);
    expect(pkg.dependencies).toEqual({ '@swapless/queueing': '^0.1.0' });
  });

  it('loads through the registry by path, options validated with defaults, and conforms', async () => {
    const registry = createLatencyModelRegistry({ baseDir: packageDir });
    const resolved = await registry.resolve([['.', { correction: 'linear' }], 'mg1-default']);
    expect(resolved.kind).toBe('plugin');
    expect(resolved.name).toBe('@swapless/latency-model-switchover');
    expect(resolved.options).toEqual({ correction: 'linear', minObservedCalls: 200, memoryCalls: 5000 });
    expect(resolved.model.name).toBe(SWITCHOVER_MODEL_NAME);
    expect(assertLatencyModel(resolved.model).passed).toBe(true);
    await expect(registry.load(['.', { correction: 'exact' }])).rejects.toMatchObject({
      code: ErrorCodes.INVALID_CONFIG,
      problems: [
        '/options/correction: must be equal to one of the allowed values ("transform", "linear", "none")',
      ],
    });
    expect(typeof createFromEntry).toBe('function');
  });
});
