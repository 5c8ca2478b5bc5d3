import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Prediction, SystemSetup } from '@swapless/contracts';
import { ErrorCodes } from '@swapless/core';
import { buildTestNet } from '@swapless/int8-builder';
import type { ProfileResult } from '@swapless/profiler';
import { defaultModel } from '@swapless/queueing';
import { writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { buildCatalog, type CutCandidate, type TenantCatalog } from './catalog.js';
import { planWorkload } from './plan.js';
import { baselineChoices, evenSplit, searchConfiguration } from './search.js';
import { type PlannedTenant, systemSetup, tenantChoices, tenantSetup } from './setup.js';

/** A synthetic catalog: TPU time grows with k, CPU time shrinks with k; 1 and 2 threads measured. */
function catalog(
  name: string,
  n: number,
  tpuMsPerOp: number,
  cpuMsPerOp: number,
  reloadMs: number,
): TenantCatalog {
  const cuts: CutCandidate[] = [];
  for (const k of [0, Math.round(n / 3), Math.round((2 * n) / 3), n]) {
    const cpuMs = (n - k) * cpuMsPerOp;
    cuts.push({
      k,
      tpu:
        k === 0
          ? null
          : {
              token: `${name}@${k}`,
              serviceMs: 0.3 + k * tpuMsPerOp,
              serviceVarianceMs2: 0,
              reloadMs: (reloadMs * k) / n,
              source: 'emulated',
            },
      cpu:
        k === n
          ? null
          : new Map([
              [1, [cpuMs * 0.9, cpuMs, cpuMs * 1.1]],
              [2, [cpuMs * 0.5, cpuMs * 0.55, cpuMs * 0.6]],
            ]),
      boundaryBytes: 1000,
      tpuMacsShare: k / n,
    });
  }
  return {
    model: name,
    sha256: name,
    n,
    edgetpuPrefix: n,
    kind: 'partitioned',
    reason: null,
    device: 'usb3',
    threads: [1, 2],
    cuts,
    profile: {} as ProfileResult,
  };
}

const A = catalog('a', 30, 0.05, 0.4, 8);
const B = catalog('b', 60, 0.4, 1.5, 20);
const tenants = (ra: number, rb: number): PlannedTenant[] => [
  { name: 'a', rate: ra, catalog: A },
  { name: 'b', rate: rb, catalog: B },
];

describe('choices and setups', () => {
  it('enumerates every cut with mg1 at measured thread counts and mgc with 1-thread samples', () => {
    const choices = tenantChoices(A, 3);
    expect(choices.filter((c) => c.k === 30)).toEqual([{ k: 30, cores: 0, mode: 'mg1' }]);
    expect(choices.filter((c) => c.k === 0)).toEqual([
      { k: 0, cores: 1, mode: 'mg1' },
      { k: 0, cores: 2, mode: 'mg1' },
      { k: 0, cores: 2, mode: 'mgc' },
      { k: 0, cores: 3, mode: 'mgc' },
    ]);
  });

  it('builds tenant setups and refuses impossible ones with typed errors', () => {
    const t = tenantSetup({ name: 'a', rate: 5, catalog: A }, { k: 10, cores: 2, mode: 'mgc' });
    expect(t.cpu?.samplesMs).toEqual(A.cuts[1]!.cpu!.get(1));
    expect(t.tpu?.token).toBe('a@10');
    expect(() => tenantSetup({ name: 'a', rate: 5, catalog: A }, { k: 7, cores: 1, mode: 'mg1' })).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_CUT }),
    );
    expect(() => tenantSetup({ name: 'a', rate: 5, catalog: A }, { k: 10, cores: 0, mode: 'mg1' })).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }),
    );
    expect(() => tenantSetup({ name: 'a', rate: 5, catalog: A }, { k: 10, cores: 3, mode: 'mg1' })).toThrow(
      /measured thread count/,
    );
  });
});

describe('search', () => {
  /** Brute force, written independently of the search: every pair of choices within the core budget. */
  function bruteForce(ts: PlannedTenant[], cores: number): number {
    let best = Number.POSITIVE_INFINITY;
    for (const ca of tenantChoices(ts[0]!.catalog, cores)) {
      for (const cb of tenantChoices(ts[1]!.catalog, cores)) {
        if (ca.cores + cb.cores > cores) continue;
        const p = defaultModel.predict(systemSetup(ts, [ca, cb], cores));
        if (p.meanResponseMs < best) best = p.meanResponseMs;
      }
    }
    return best;
  }

  it('exhaustive search finds the brute-force optimum and respects the core budget', () => {
    for (const [ra, rb, cores] of [
      [5, 5, 2],
      [40, 2, 2],
      [2, 30, 4],
    ] as const) {
      const r = searchConfiguration(tenants(ra, rb), cores, defaultModel);
      expect(r.method).toBe('exhaustive');
      expect(r.prediction.meanResponseMs).toBeCloseTo(bruteForce(tenants(ra, rb), cores), 9);
      expect(r.choices.reduce((s, c) => s + c.cores, 0)).toBeLessThanOrEqual(cores);
    }
  });

  it('coordinate descent reaches the optimum on these instances too', () => {
    for (const [ra, rb] of [
      [5, 5],
      [40, 2],
    ] as const) {
      const exact = searchConfiguration(tenants(ra, rb), 2, defaultModel);
      const cd = searchConfiguration(tenants(ra, rb), 2, defaultModel, { exhaustiveLimit: 1 });
      expect(cd.method).toBe('coordinate-descent');
      expect(cd.prediction.meanResponseMs).toBeLessThanOrEqual(exact.prediction.meanResponseMs * 1.05);
    }
  });

  it('uses the latency model it is given', () => {
    const calls: SystemSetup[] = [];
    const fake = {
      name: 'fake',
      // Prefers CPU-only configurations for tenant a: k = 0 costs nothing, anything else costs 1.
      predict(system: SystemSetup): Prediction {
        calls.push(system);
        const cost = system.tenants[0]!.k === 0 ? 0 : 1;
        return { model: 'fake', stable: true, meanResponseMs: cost, tenants: [] };
      },
    };
    const r = searchConfiguration(tenants(1, 1), 2, fake);
    expect(r.choices[0]!.k).toBe(0);
    expect(calls.length).toBe(r.evaluated);
  });

  it('baselines: default = whole mappable prefix, cpu needs a core per tenant, cores split evenly', () => {
    expect(baselineChoices('default', tenants(1, 1), 2)!.map((c) => c.k)).toEqual([30, 60]);
    expect(baselineChoices('cpu', tenants(1, 1), 1)).toBeNull();
    expect(baselineChoices('cpu', tenants(1, 1), 3)!.map((c) => [c.k, c.cores])).toEqual([
      [0, 2],
      [0, 1],
    ]);
    expect(evenSplit(5, 3)).toEqual([2, 2, 1]);
  });

  it('plans: SwapLess predicts no worse than any baseline', () => {
    const plan = planWorkload(tenants(20, 3), 2, defaultModel);
    const swapless = plan.plans[0]!;
    expect(swapless.policy).toBe('swapless');
    for (const p of plan.plans.slice(1)) {
      if (p.prediction)
        expect(swapless.prediction!.meanResponseMs).toBeLessThanOrEqual(p.prediction.meanResponseMs);
    }
  });
});

describe('buildCatalog on a real int8 model', () => {
  it('profiles the CPU suffixes (measured) and emulates the TPU stages of the catalogued cuts', async () => {
    const bytes = writeModel(buildTestNet(3));
    const cacheDir = await mkdtemp(join(tmpdir(), 'swapless-controller-'));
    const prev = process.env.SWAPLESS_CACHE_DIR;
    process.env.SWAPLESS_CACHE_DIR = cacheDir;
    try {
      const cat = await buildCatalog(bytes, { name: 'testnet', threads: [1], repetitions: 3, maxCuts: 4 });
      const ks = cat.cuts.map((c) => c.k);
      expect(ks[0]).toBe(0);
      expect(ks.at(-1)).toBe(cat.edgetpuPrefix);
      expect(cat.cuts[0]!.tpu).toBeNull();
      expect(cat.cuts.at(-1)!.cpu).toBeNull();
      for (const c of cat.cuts.slice(1)) {
        expect(c.tpu!.source).toBe('emulated');
        expect(c.tpu!.serviceMs).toBeGreaterThan(0);
      }
      for (const c of cat.cuts.slice(0, -1)) expect(c.cpu!.get(1)).toHaveLength(3);
      // Different cuts are different compiled units: different caching tokens.
      expect(new Set(cat.cuts.slice(1).map((c) => c.tpu!.token)).size).toBe(cat.cuts.length - 1);
    } finally {
      if (prev === undefined) delete process.env.SWAPLESS_CACHE_DIR;
      else process.env.SWAPLESS_CACHE_DIR = prev;
    }
  });
});
