import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ErrorCodes } from '@swapless/core';
import { buildTestNet } from '@swapless/int8-builder';
import { loadPlugin } from '@swapless/queueing';
import type { Observation as RuntimeObservation } from '@swapless/runtime';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { fitObservations } from './fit-observations.js';
import { createService } from './index.js';
import { serviceFactory, usePrivateCache } from './test-support.js';

// The example plugin (`mg1-switchover`), as a user installs it: a package directory with its manifest.
const PLUGIN = fileURLToPath(new URL('../../latency-model-switchover/', import.meta.url));
const A = writeModel(buildTestNet(0));
const B = writeModel(buildTestNet(7));
const x = new Int8Array(16 * 16 * 3);
new SeededRandom(3).fillUniformInt8(x);

usePrivateCache();
const service = serviceFactory();

interface SwitchoverModel {
  fittedSwitchProbabilities(): ReadonlyMap<string, number>;
}

describe('the service latency model', () => {
  it("learns the example plugin's reload fractions from served requests (fit fed every tick)", async () => {
    const loaded = await loadPlugin(PLUGIN, { minObservedCalls: 4 });
    const plugin = loaded.model as unknown as SwitchoverModel;
    const s = await service({ policy: 'fixed', tickMs: 50, vetting: false, latencyModel: loaded.model });
    await s.addTenant({ name: 'a', model: A, source: 'test:a', rate: 5 });
    await s.addTenant({ name: 'b', model: B, source: 'test:b', rate: 5 });
    expect(plugin.fittedSwitchProbabilities().size).toBe(0);
    // Strict alternation: every call finds the device holding the other tenant's head, where Poisson arrivals
    // at equal rates would reload half the time. The fitted probability must move to what was served.
    for (let i = 0; i < 6; i++) {
      await s.infer('a', [x]);
      await s.infer('b', [x]);
    }
    await once(s, 'tick');
    await once(s, 'tick');
    const fitted = plugin.fittedSwitchProbabilities();
    expect([...fitted.keys()].sort()).toEqual(['a', 'b']);
    expect(fitted.get('a')).toBeGreaterThan(0.8);
    expect(fitted.get('b')).toBeGreaterThan(0.8);
    const c = s.controller().latencyModelDetails;
    expect(c).toMatchObject({ id: 'mg1-switchover', package: null, label: 'mg1-switchover (built-in)' });
    expect(c.fitted).toBeGreaterThan(0);
  });

  it('resolves { id, options } through the registry and names it with package and version', async () => {
    const s = await service({ latencyModel: { id: PLUGIN, options: { correction: 'linear' } } });
    expect(s.controller().latencyModel).toBe('mg1-switchover');
    expect(s.controller().latencyModelDetails).toEqual({
      id: 'mg1-switchover',
      package: '@swapless/latency-model-switchover',
      version: '0.1.0',
      label: 'mg1-switchover (@swapless/latency-model-switchover@0.1.0)',
      fitted: 0,
    });
    const d = await service({});
    expect(d.controller().latencyModelDetails).toMatchObject({ id: 'mg1-default', fitted: null });
    expect(d.controller().latencyModelDetails.label).toMatch(/^mg1-default \(@swapless\/queueing@/);
  });

  it('bad ids and options are SWAPLESS_INVALID_CONFIG before anything starts', async () => {
    await expect(createService({ latencyModel: 'no-such-model' })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_CONFIG,
      message: expect.stringMatching(/^Expected a registered id \(mg1-default\)/),
    });
    await expect(
      createService({ latencyModel: { id: PLUGIN, options: { correction: 'quadratic' } } }),
    ).rejects.toMatchObject({
      code: ErrorCodes.INVALID_CONFIG,
      problems: [expect.stringMatching(/^\/options\/correction: must be equal to one of the allowed values/)],
    });
  });

  it('maps runtime windows to fit observations per tenant and cut', () => {
    const window: RuntimeObservation = {
      fromMs: 0,
      toMs: 1000,
      tenants: {
        a: {
          arrivalsMs: [1, 2, 3],
          rejected: 0,
          tpuServiceMs: [2, 4, 6],
          emulationLagMs: [0, 0, 0],
          emulationComputeMs: [0, 0, 0],
          emulationReturnMs: [0, 0, 0],
          tpuAt: [3, 3, 5],
          tpuReload: [true, false, true],
          cpuServiceMs: [1, 3],
          cpuAt: [
            { k: 3, cores: 2, mode: 'mg1' },
            { k: 3, cores: 2, mode: 'mg1' },
          ],
          latencyMs: [9, 9, 9],
        },
      },
    };
    expect(fitObservations(window, new Map([['a', 3]]), () => 1)).toEqual([
      {
        tenant: 'a',
        k: 3,
        cores: 2,
        rate: 3,
        count: 2,
        tpuServiceMs: 3,
        reloadFraction: 0.5,
        cpuServiceMs: 2,
      },
      { tenant: 'a', k: 5, cores: 1, rate: 3, count: 1, tpuServiceMs: 6, reloadFraction: 1 },
    ]);
  });
});
