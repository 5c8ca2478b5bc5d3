// Co-compiled head sets through the service (`Decision.sets`, the swapless+ policy): tenants added and removed
// join and leave the set the decisions name, the runtime switches them with it, and the per-tick prediction is
// made under the sets in force.
import { VariantStore } from '@swapless/compiler';
import type { Decision } from '@swapless/contracts';
import type { Policy, PolicyContext } from '@swapless/controller';
import { buildTestNet } from '@swapless/int8-builder';
import type { ReconfigureEvent } from '@swapless/runtime';
import { writeModel } from '@swapless/tflite';
import { describe, expect, inject, it } from 'vitest';
import { createService, type Service } from './index.js';
import { ClosedLoop } from './loop.js';
import { input, serviceFactory, usePrivateCache } from './test-support.js';

const MODELS = [0, 3, 7].map((seed) => writeModel(buildTestNet(seed)));

usePrivateCache();
const service = serviceFactory();

/**
 * A static policy: every tenant whole on the Edge TPU (no CPU stage), and — when `grouped` and there are at least
 * two — all their heads co-compiled in one set, in the context's order.
 */
function wholePolicy(grouped: boolean): Policy {
  const decide = (ctx: PolicyContext): Decision => ({
    tenants: ctx.tenants.map((t) => ({ name: t.name, k: t.catalog.edgetpuPrefix, cores: 0, mode: 'mg1' })),
    predictedMs: Number.NaN,
    reason: grouped ? 'one set' : 'alone',
    ...(grouped && ctx.tenants.length > 1 ? { sets: [ctx.tenants.map((t) => t.name)] } : {}),
  });
  return { name: grouped ? 'one-set' : 'alone', initial: decide, onTick: () => null };
}

async function add(s: Service, names: readonly string[]): Promise<void> {
  for (const [i, name] of names.entries())
    await s.addTenant({ name, model: MODELS[i]!, source: name, rate: 20 });
}

/** Device reloads while `names` take turns, one request at a time. */
async function turnReloads(s: Service, names: readonly string[], n = 30): Promise<number> {
  const before = s.device().reloads;
  for (let i = 0; i < n; i++) await s.infer(names[i % names.length]!, input(i));
  return s.device().reloads - before;
}

describe('co-compiled sets in the service', () => {
  it('a newcomer joins the set, a removed tenant leaves it, and the runtime switches the members with it', async () => {
    const s = await service({ policy: () => wholePolicy(true) });
    const switched: string[][] = [];
    s.on('reconfigure', (e: ReconfigureEvent) => {
      if (e.phase === 'switched') switched.push(e.tenants.map((t) => t.name).sort());
    });
    await add(s, ['a', 'b']);
    expect(s.controller().sets).toEqual([['a', 'b']]);
    // b joined once the runtime had it: a and b switched onto the set together.
    expect(switched.at(-1)).toEqual(['a', 'b']);
    expect(await turnReloads(s, ['a', 'b'])).toBeLessThanOrEqual(1);
    await add(s, ['a', 'b', 'c'].slice(2));
    expect(s.controller().sets).toEqual([['a', 'b', 'c']]);
    expect(s.history().at(-1)).toMatchObject({
      trigger: 'tenant-added',
      applied: true,
      sets: [['a', 'b', 'c']],
    });
    expect(await turnReloads(s, ['a', 'b', 'c'])).toBeLessThanOrEqual(1);

    await s.removeTenant('b');
    expect(s.controller().sets).toEqual([['a', 'c']]);
    expect(switched.at(-1)).toEqual(['a', 'c']);
    expect(await turnReloads(s, ['a', 'c'])).toBeLessThanOrEqual(1);
    // The last partner gone, a set of one is none: a runs its own head again.
    await s.removeTenant('c');
    expect(s.controller().sets).toEqual([]);
    expect(switched.at(-1)).toEqual(['a']);
    expect(s.history().at(-1)).toMatchObject({ trigger: 'tenant-removed', applied: true, sets: [] });
  }, 120_000);

  it('predicts each tenant under the sets in force: co-compiled heads that take turns pay no reload', async () => {
    const predicted: Record<string, (number | null)[]> = {};
    const reloads: Record<string, number> = {};
    for (const grouped of [true, false]) {
      const s = await service({ policy: () => wholePolicy(grouped) });
      await add(s, ['a', 'b']);
      const key = grouped ? 'set' : 'alone';
      predicted[key] = s.tenants().map((t) => t.predictedMs);
      reloads[key] = await turnReloads(s, ['a', 'b']);
    }
    // Same cuts and rates; only the sets differ — and the prediction with them.
    for (const [i, ms] of predicted.set!.entries()) {
      expect(ms).not.toBeNull();
      expect(ms!).toBeLessThan(predicted.alone![i]!);
    }
    expect(reloads.alone).toBeGreaterThan(reloads.set! + 10);
  }, 120_000);

  it('on the real Edge TPU (mock delegate) no set is in force: the runtime runs every head alone there', async () => {
    const s = await createService({
      cores: 2,
      tickMs: 3_600_000,
      policy: () => wholePolicy(true),
      profiling: { repetitions: 3, maxCuts: 4 },
      device: { edgetpu: { library: inject('mockEdgeTpuLibrary'), device: 'usb:0' } },
    });
    try {
      await add(s, ['a', 'b']);
      expect(s.history().at(-1)).toMatchObject({ applied: true, sets: [['a', 'b']] });
      expect(s.controller()).toMatchObject({ backend: 'edgetpu', sets: [] });
    } finally {
      await s.close();
    }
  }, 120_000);

  it('swapless+ plans with the service correction and makes its set reports in the service store', () => {
    const store = new VariantStore();
    const loop = new ClosedLoop(undefined, store);
    expect(loop.policyOptions('swapless+', {})).toEqual({
      correction: loop.correction,
      coCompile: { variants: store },
    });
    expect(loop.policyOptions('swapless', {})).toEqual({ correction: loop.correction });
    // The operator's own settings win: no correction, their co-compile options.
    expect(loop.policyOptions('swapless+', { correction: false, coCompile: { refine: 2 } })).toEqual({
      correction: false,
      coCompile: { refine: 2 },
    });
    expect(loop.policyOptions('default', { x: 1 })).toEqual({ x: 1 });
  });
});
