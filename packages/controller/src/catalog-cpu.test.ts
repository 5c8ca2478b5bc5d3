// A catalog on a modelled CPU: CPU stages from the CPU model (nothing measured, marked emulated), and the plan
// follows the target — a slower CPU moves the chosen cut towards the Edge TPU.
import { InvalidConfigError } from '@swapless/core';
import { modelledModelMs } from '@swapless/profiler';
import { defaultModel } from '@swapless/queueing';
import { readModel, writeModel } from '@swapless/tflite';
import { buildZooModel } from '@swapless/zoo';
import { describe, expect, it } from 'vitest';
import { buildCatalog } from './catalog.js';
import { planWorkload } from './plan.js';
import { tenantSetup } from './setup.js';

const bytes = writeModel(buildZooModel('mobilenet_v2'));

describe('buildCatalog with a modelled CPU', () => {
  it('takes the CPU stages from the model, marked emulated, at the target cores', async () => {
    const c = await buildCatalog(bytes, { name: 'mobilenet_v2', device: 'devboard', cpu: 'devboard-a53' });
    expect(c.cpu).toEqual({ profile: 'devboard-a53', source: 'emulated' });
    expect(c.profile).toBeNull();
    expect(c.threads).toEqual([1, 2, 3, 4]);
    const cut0 = c.cuts.find((x) => x.k === 0)!;
    expect(cut0.cpu!.get(1)![0]).toBeCloseTo(modelledModelMs(readModel(bytes), 'devboard-a53'), 6);
    expect(c.cuts.at(-1)!.k).toBe(c.edgetpuPrefix);
    const setup = tenantSetup({ name: 'a', rate: 5, catalog: c }, { k: 0, cores: 2, mode: 'mg1' });
    expect(setup.cpu!.source).toBe('emulated');
    // Thread counts beyond the target's cores are dropped.
    const two = await buildCatalog(bytes, { cpu: 'devboard-a53', threads: [1, 2, 8] });
    expect(two.threads).toEqual([1, 2]);
  });

  it('refuses an unknown profile before any work', async () => {
    await expect(buildCatalog(bytes, { cpu: 'pentium' as never })).rejects.toBeInstanceOf(InvalidConfigError);
  });

  it('moves the chosen cut towards the Edge TPU when the CPU is slower', async () => {
    const fast = {
      name: 'fast',
      rates: { conv1x1: 6.1e8, conv: 3.2e8, depthwise: 2.65e7, fullyConnected: 6.1e8, elementwise: 5e7 },
      fixedMsPerOp: 0.0005,
    };
    const kOf = async (cpu: 'devboard-a53' | typeof fast) => {
      const catalog = await buildCatalog(bytes, { name: 'm', device: 'devboard', cpu });
      const plan = planWorkload([{ name: 'a', rate: 20, catalog }], 2, defaultModel, { device: 'devboard' });
      return plan.plans[0]!.choices![0]!.k;
    };
    const onA53 = await kOf('devboard-a53');
    const onFast = await kOf(fast);
    expect(onA53).toBeGreaterThan(onFast);
  });
});
