import { once } from 'node:events';
import type { Predictor } from '@swapless/controller';
import { buildTestNet } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import type { DecisionRecord, SeriesSample } from './index.js';
import { serviceFactory, usePrivateCache } from './test-support.js';

const A = writeModel(buildTestNet(0));

function input(seed: number): Int8Array {
  const a = new Int8Array(16 * 16 * 3);
  new SeededRandom(seed).fillUniformInt8(a);
  return a;
}

/** A latency model that predicts 1 µs for everything: whatever the host measures diverges from it. */
const tiny: Predictor = {
  name: 'tiny',
  predict(system) {
    const tenants = system.tenants.map((t) => ({
      name: t.name,
      responseMs: 0.001,
      tpuWaitMs: 0,
      tpuServiceMs: 0,
      cpuWaitMs: 0,
      cpuServiceMs: 0.001,
      tpuUtilization: 0,
      cpuUtilization: 0,
      switchProbability: 0,
    }));
    return { model: 'tiny', tenants, meanResponseMs: 0.001, stable: true };
  },
};

/** A latency model whose four parts differ, so a part reported in the wrong place shows. */
const parted: Predictor = {
  name: 'parted',
  predict(system) {
    const tenants = system.tenants.map((t) => ({
      name: t.name,
      responseMs: 10,
      tpuWaitMs: 1,
      tpuServiceMs: 2,
      cpuWaitMs: 3,
      cpuServiceMs: 4,
      tpuUtilization: 0.1,
      cpuUtilization: 0.1,
      switchProbability: 0,
    }));
    return { model: 'parted', tenants, meanResponseMs: 10, stable: true };
  },
};

usePrivateCache();
const service = serviceFactory();

describe('closing the loop', () => {
  it('re-plans past the hysteresis once a tenant diverged for 10 s of the (simulated) clock, not before', async () => {
    let clockMs = 5_000_000;
    const s = await service({
      policy: 'swapless',
      policyOptions: { model: tiny },
      tickMs: 15,
      clock: () => clockMs,
    });
    await s.addTenant({ name: 'a', model: A, source: 'test', rate: 5 });
    const samples: SeriesSample[] = [];
    const decisions: DecisionRecord[] = [];
    s.on('decision', (d) => decisions.push(d));
    // One simulated second per tick, whatever the wall clock does.
    s.on('tick', (t) => {
      samples.push(t);
      clockMs += 1000;
    });
    let seed = 0;
    while (!decisions.some((d) => d.trigger === 'divergence') && samples.length < 80) {
      for (let i = 0; i < 3; i++) await s.infer('a', input(seed++));
      await once(s, 'tick');
    }
    const replan = decisions.find((d) => d.trigger === 'divergence');
    expect(replan).toBeDefined();
    const first = samples.find((t) => (t.tenants.a?.divergence ?? null) !== null)!;
    expect(first.tenants.a!.divergence!).toBeGreaterThan(1.25);
    // Exactly 10 simulated seconds after the divergence began: not one tick earlier.
    expect(replan!.atMs - first.atMs).toBe(10_000);
    expect(replan!.reason).toMatch(/^divergence of a \(measured\/predicted \d+\.\d\d\): re-planned/);
    expect(replan!.applied).toBe(true);
    const st = s.tenant('a')!;
    expect(st.divergence.sinceMs).toBe(first.atMs);
    expect(st.divergence.ratio).toBeGreaterThan(1.25);
    expect(st.divergence.measuredMs).toBeGreaterThan(st.divergence.predictedMs!);
    expect(s.gauges().tenants[0]!.divergence).toBe(st.divergence.ratio);
    // The status says what the last tick weighed: a kept configuration with its reason.
    const v = s.controller().lastVerdict!;
    expect(v.currentMs).toBeGreaterThan(0);
    expect(v.gainMs).toBeCloseTo(v.currentMs - v.candidateMs, 9);
    expect(v.reason).not.toBe('');
  });

  it('adds the reported front-end time to the prediction', async () => {
    const s = await service({ policy: 'swapless', policyOptions: { model: tiny }, tickMs: 15 });
    await s.addTenant({ name: 'a', model: A, source: 'test', rate: 5 });
    expect(s.tenant('a')!.predictedMs).toBeCloseTo(0.001, 9);
    for (let i = 0; i < 5; i++) expect(s.observeFrontend('a', 7)).toBe(true);
    expect(s.observeFrontend('nobody', 7)).toBe(false);
    expect(s.observeFrontend('a', Number.NaN)).toBe(false);
    await once(s, 'tick');
    expect(s.tenant('a')!.predictedMs).toBeCloseTo(7.001, 6);
    // A decision's prediction is what clients see too: λ-weighted over the tenants at the decision's rates.
    await s.addTenant({ name: 'b', model: A, source: 'test', rate: 15 });
    const d = s.history().at(-1)!;
    expect(d.trigger).toBe('tenant-added');
    const ra = d.rates.a!;
    expect(d.predictedMs).toBeCloseTo((ra * 7.001 + 15 * 0.001) / (ra + 15), 6);
  });

  it("splits each tick's prediction by stage, the parts adding up to the predicted response", async () => {
    const s = await service({ policy: 'swapless', policyOptions: { model: parted }, tickMs: 15 });
    await s.addTenant({ name: 'a', model: A, source: 'test', rate: 5 });
    for (let i = 0; i < 5; i++) s.observeFrontend('a', 7);
    await s.infer('a', input(1));
    const [tick] = (await once(s, 'tick')) as [SeriesSample];
    const t = tick.tenants.a!;
    const p = t.predictedStages!;
    expect(p.tpuWaitMs).toBe(1);
    expect(p.tpuMs).toBe(2);
    expect(p.cpuWaitMs).toBe(3);
    expect(p.cpuMs).toBe(4);
    expect(p.frontendMs).toBeCloseTo(7, 9);
    expect(p.emulationMs).toBeGreaterThanOrEqual(0);
    const sum = p.tpuWaitMs + p.tpuMs + p.emulationMs + p.cpuWaitMs + p.cpuMs + p.frontendMs;
    expect(sum).toBeCloseTo(t.predictedMs!, 6);
    expect(s.series().at(-1)!.tenants.a!.predictedStages).toEqual(p);
  });

  it('plans a tenant that has had no request yet at its prior, not at an estimate decaying while others start', async () => {
    let clockMs = 9_000_000;
    const s = await service({ policy: 'swapless', tickMs: 15, clock: () => clockMs });
    await s.addTenant({ name: 'a', model: A, source: 'test', rate: 8 });
    // Simulated seconds go by without a request, as while a server profiles and adds its next tenants.
    for (let i = 0; i < 8; i++) {
      await once(s, 'tick');
      clockMs += 1000;
    }
    const decayed = s.tenant('a')!.rate.estimatedPerS;
    expect(decayed).toBeLessThan(8);
    await s.addTenant({ name: 'b', model: A, source: 'test', rate: 3 });
    const added = s.history().at(-1)!;
    expect(added.trigger).toBe('tenant-added');
    expect(added.rates).toEqual({ a: 8, b: 3 });
    // Once a has had requests, its estimate is what a re-plan starts from.
    for (let i = 0; i < 6; i++) await s.infer('a', input(i));
    await once(s, 'tick');
    clockMs += 1000;
    await s.addTenant({ name: 'c', model: A, source: 'test', rate: 1 });
    const again = s.history().at(-1)!;
    expect(again.rates.a).toBeGreaterThan(0);
    expect(again.rates.a).not.toBe(8);
  });
});
