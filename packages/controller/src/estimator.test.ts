import { Xoshiro128 } from '@swapless/sim';
import { describe, expect, it } from 'vitest';
import { poissonArrivals } from './arrivals.js';
import { poissonG, RateEstimator } from './estimator.js';
import { ServiceCorrection } from './feedback.js';
import { syntheticCatalog } from './synthetic.test-util.js';

/** Feeds a trace tick by tick (1 s) and returns the first tick time at which `changed` fired after `fromMs`. */
function detectionDelay(
  from: number,
  to: number,
  seed: number,
): { delayMs: number; falseAlarms: number; rate: number } {
  const stepMs = 60_000;
  const trace = poissonArrivals([{ name: 'a', rate: from }], {
    durationMs: 90_000,
    seed,
    phases: [{ atMs: stepMs, rates: { a: to } }],
  }).a!;
  const est = new RateEstimator(['a']);
  let i = 0;
  let falseAlarms = 0;
  for (let now = 1000; now <= 90_000; now += 1000) {
    while (i < trace.length && trace[i]! < now) est.observe('a', trace[i++]!);
    const s = est.update(now);
    if (s.changed && now <= stepMs) falseAlarms++;
    if (s.changed && now > stepMs) return { delayMs: now - stepMs, falseAlarms, rate: s.rates.a! };
  }
  return { delayMs: Infinity, falseAlarms, rate: Number.NaN };
}

describe('rate estimator', () => {
  it('G statistic: 0 at the mean, grows with the deviation', () => {
    expect(poissonG(20, 20)).toBe(0);
    expect(poissonG(40, 20)).toBeCloseTo(2 * (40 * Math.log(2) - 20), 12);
    expect(poissonG(30, 20)).toBeLessThan(poissonG(40, 20));
  });

  it('estimates a stationary rate within a few percent without false alarms', () => {
    const trace = poissonArrivals([{ name: 'a', rate: 30 }], { durationMs: 120_000, seed: 3 }).a!;
    const est = new RateEstimator(['a']);
    let i = 0;
    let alarms = 0;
    let last = 0;
    for (let now = 1000; now <= 120_000; now += 1000) {
      while (i < trace.length && trace[i]! < now) est.observe('a', trace[i++]!);
      const s = est.update(now);
      if (s.changed) alarms++;
      last = s.rates.a!;
    }
    expect(alarms).toBe(0);
    expect(Math.abs(last - 30) / 30).toBeLessThan(0.08);
  });

  it('detects step changes within a few seconds (seeded Poisson streams, virtual time)', () => {
    const cases: [number, number][] = [
      [10, 20],
      [20, 10],
      [5, 40],
      [40, 15],
      [50, 75],
    ];
    for (const [from, to] of cases) {
      const delays: number[] = [];
      for (let seed = 1; seed <= 8; seed++) {
        const r = detectionDelay(from, to, seed);
        expect(r.falseAlarms).toBe(0);
        delays.push(r.delayMs);
        // Right after the change the estimate comes from the new regime only: nearer the new rate than the old.
        expect(Math.abs(r.rate - to)).toBeLessThan(Math.abs(r.rate - from));
      }
      delays.sort((a, b) => a - b);
      const median = delays[delays.length >> 1]!;
      expect(median).toBeLessThanOrEqual(5000);
      expect(delays.at(-1)!).toBeLessThanOrEqual(10_000);
    }
  });

  it('takes a mix step at once: the tenant that slowed down is caught with the one that sped up', () => {
    // The demo's step: one tenant 2 → 8 req/s, another 8 → 2, a third unchanged at 4.
    const stepMs = 30_000;
    const run = (seed: number, jointThreshold?: number) => {
      const trace = poissonArrivals(
        [
          { name: 'up', rate: 2 },
          { name: 'down', rate: 8 },
          { name: 'same', rate: 4 },
        ],
        { durationMs: 60_000, seed, phases: [{ atMs: stepMs, rates: { up: 8, down: 2 } }] },
      );
      const est = new RateEstimator(
        ['up', 'down', 'same'],
        jointThreshold === undefined ? {} : { jointThreshold },
      );
      const idx = { up: 0, down: 0, same: 0 };
      const first: Record<string, number> = {};
      let falseAlarms = 0;
      for (let now = 1000; now <= 60_000; now += 1000) {
        for (const name of ['up', 'down', 'same'] as const) {
          const t = trace[name]!;
          while (idx[name] < t.length && t[idx[name]]! < now) est.observe(name, t[idx[name]++]!);
        }
        const s = est.update(now);
        for (const name of s.changedTenants) {
          if (now <= stepMs) falseAlarms++;
          else first[name] ??= now - stepMs;
        }
      }
      return { first, falseAlarms };
    };
    let together = 0;
    let apartWithoutJoint = 0;
    const seeds = 12;
    for (let seed = 1; seed <= seeds; seed++) {
      const joint = run(seed);
      const alone = run(seed, 1e9);
      expect(joint.falseAlarms).toBe(0);
      expect(joint.first.up).toBeDefined();
      expect(joint.first.down).toBeDefined();
      // Never later than without the joint test.
      expect(joint.first.down!).toBeLessThanOrEqual(alone.first.down ?? Infinity);
      if (joint.first.down! <= joint.first.up!) together++;
      if ((alone.first.down ?? Infinity) > alone.first.up!) apartWithoutJoint++;
    }
    // With the joint test the drop is caught no later than the rise in most runs; without it, it mostly lags.
    expect(together).toBeGreaterThanOrEqual(seeds * 0.75);
    expect(apartWithoutJoint).toBeGreaterThanOrEqual(seeds * 0.5);
  });

  it('reports the mix and uses priors before data', () => {
    const est = new RateEstimator(['a', 'b'], { priors: { a: 10, b: 30 } });
    const s0 = est.update(0);
    expect(s0.rates).toEqual({ a: 10, b: 30 });
    expect(s0.mix.b).toBeCloseTo(0.75, 12);
    const rng = new Xoshiro128(5);
    let t = 0;
    for (;;) {
      t += rng.exponential() * 50;
      if (t >= 20_000) break;
      est.observe('a', t);
    }
    const s = est.update(20_000);
    expect(s.rates.a).toBeGreaterThan(15);
    expect(s.rates.b).toBeLessThan(5);
    expect(est.observe('zzz', 1)).toBe(false);
  });
});

describe('service-time correction', () => {
  const cat = syntheticCatalog('c', { cuts: 4 });
  const cut = cat.cuts[1]!;
  const mean1 = cut.cpu!.get(1)!.reduce((s, x) => s + x, 0) / 3;

  it('learns a bounded multiplicative factor per (tenant, stage, k, threads) and applies it', () => {
    const c = new ServiceCorrection(new Map([['c', cat]]));
    expect(c.corrected('c')).toBe(cat);
    for (let i = 0; i < 50; i++)
      c.observe({ tenant: 'c', stage: 'cpu', k: cut.k, threads: 1, ms: 1.3 * mean1 });
    expect(c.factor('c', 'cpu', cut.k, 1)).toBeCloseTo(1.3, 2);
    // Unobserved keys of the same stage fall back to the tenant's stage factor.
    expect(c.factor('c', 'cpu', cat.cuts[0]!.k, 2)).toBeCloseTo(1.3, 2);
    expect(c.factor('c', 'tpu', cut.k)).toBe(1);
    const fixed = c.corrected('c');
    expect(fixed).not.toBe(cat);
    expect(fixed.cuts[1]!.cpu!.get(1)![1]).toBeCloseTo(cut.cpu!.get(1)![1]! * 1.3, 6);
    expect(c.corrected('c')).toBe(fixed); // cached while factors do not move
    // Bounded: absurd observations saturate at the bound.
    for (let i = 0; i < 500; i++)
      c.observe({ tenant: 'c', stage: 'tpu', k: cut.k, ms: cut.tpu!.serviceMs * 50 });
    expect(c.factor('c', 'tpu', cut.k)).toBe(8);
    // Reloading calls are compared with call + reload.
    const d = new ServiceCorrection(new Map([['c', cat]]));
    for (let i = 0; i < 10; i++)
      d.observe({
        tenant: 'c',
        stage: 'tpu',
        k: cut.k,
        ms: cut.tpu!.serviceMs + cut.tpu!.reloadMs,
        reload: true,
      });
    expect(d.factor('c', 'tpu', cut.k)).toBe(1);
    expect(d.observe({ tenant: 'x', stage: 'tpu', k: 1, ms: 1 })).toBe(false);
  });
});
