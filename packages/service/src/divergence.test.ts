import { describe, expect, it } from 'vitest';
import { DivergenceTracker } from './divergence.js';
import { FrontendTimes } from './frontend.js';

/** Feeds one tick a second on a simulated clock: 10 completions of `measured` ms against `predicted` ms. */
function run(
  d: DivergenceTracker,
  from: number,
  seconds: number,
  measured: number,
  predicted: number,
  onTick?: (t: number, due: string[]) => void,
): void {
  for (let s = 0; s < seconds; s++) {
    const t = from + s * 1000;
    d.record('a', t, 10, measured, predicted);
    const due = d.takeDue(t);
    onTick?.(t, due);
  }
}

describe('DivergenceTracker (simulated clock)', () => {
  it('fires after 10 s of continuous divergence, not before, then again only after another 10 s', () => {
    const d = new DivergenceTracker();
    const fired: number[] = [];
    run(d, 1_000_000, 31, 20, 10, (t, due) => {
      if (due.includes('a')) fired.push(t);
    });
    // Diverging from the first tick (1,000,000): due at +10 s, then +20 s, +30 s.
    expect(fired).toEqual([1_010_000, 1_020_000, 1_030_000]);
    const st = d.status('a');
    expect(st.ratio).toBeCloseTo(2, 9);
    expect(st.measuredMs).toBeCloseTo(20, 9);
    expect(st.predictedMs).toBeCloseTo(10, 9);
    expect(st.sinceMs).toBe(1_000_000);
  });

  it('does not fire within 25 % (either side), however long', () => {
    const d = new DivergenceTracker();
    const fired: number[] = [];
    run(d, 0, 30, 12.4, 10, (t, due) => due.length > 0 && fired.push(t));
    run(d, 30_000, 30, 7.6, 10, (t, due) => due.length > 0 && fired.push(t));
    expect(fired).toEqual([]);
    expect(d.status('a').sinceMs).toBeNull();
    expect(d.status('a').ratio).toBeCloseTo(0.76, 2);
  });

  it('needs the divergence without a break: a window back within 25 % restarts the 10 s', () => {
    const d = new DivergenceTracker({ windowMs: 1000 });
    const fired: number[] = [];
    const on = (t: number, due: string[]) => due.length > 0 && fired.push(t);
    run(d, 0, 9, 40, 10, on); // 0 … 8 s diverging
    run(d, 9000, 1, 10, 10, on); // back in agreement at 9 s
    expect(d.status('a').sinceMs).toBeNull();
    run(d, 10_000, 10, 40, 10, on); // diverging again from 10 s: due at 20 s, not at 10 s
    expect(fired).toEqual([]);
    run(d, 20_000, 1, 40, 10, on);
    expect(fired).toEqual([20_000]);
  });

  it('re-plans once for every diverging tenant: the others wait another 10 s too', () => {
    const d = new DivergenceTracker();
    const fired: [number, string[]][] = [];
    for (let s = 0; s <= 25; s++) {
      const t = s * 1000;
      d.record('a', t, 10, 30, 10); // diverging from 0 s
      if (s >= 4) d.record('b', t, 10, 30, 10); // diverging from 4 s
      const due = d.takeDue(t);
      if (due.length > 0) fired.push([t, due]);
    }
    // a is due at 10 s; b, acted on then too, needs 10 s more (not 14 s); both due together at 20 s.
    expect(fired).toEqual([
      [10_000, ['a']],
      [20_000, ['a', 'b']],
    ]);
  });

  it('gives no ratio with too few completions or no prediction, and forgets what left the window', () => {
    const d = new DivergenceTracker();
    d.record('a', 0, 4, 50, 10);
    expect(d.status('a')).toEqual({ ratio: null, measuredMs: null, predictedMs: null, sinceMs: null });
    d.record('a', 1000, 10, 50, null); // no prediction: left out
    expect(d.status('a').ratio).toBeNull();
    d.record('a', 2000, 1, 50, 10);
    expect(d.status('a').ratio).toBeCloseTo(5, 9);
    // 10 s later the old completions are gone: only the new ones count.
    d.record('a', 12_500, 6, 10, 10);
    expect(d.status('a').ratio).toBeCloseTo(1, 9);
    expect(d.status('zzz').ratio).toBeNull();
  });

  it('weights the prediction by the completions it was in force for', () => {
    const d = new DivergenceTracker();
    d.record('a', 0, 10, 10, 10);
    d.record('a', 1000, 30, 10, 5);
    // Predicted mean over the 40 completions: (10·10 + 30·5) / 40 = 6.25.
    expect(d.status('a').predictedMs).toBeCloseTo(6.25, 9);
    expect(d.status('a').ratio).toBeCloseTo(1.6, 9);
  });
});

describe('FrontendTimes', () => {
  it('is 0 until 5 requests, then their mean, and ignores bad values', () => {
    const f = new FrontendTimes();
    for (let i = 0; i < 4; i++) f.observe('a', 2 + i);
    expect(f.meanMs('a')).toBe(0);
    f.observe('a', 6);
    expect(f.meanMs('a')).toBeCloseTo(4, 9);
    expect(f.observe('a', Number.NaN)).toBe(false);
    expect(f.observe('a', -1)).toBe(false);
    expect(f.meanMs('a')).toBeCloseTo(4, 9);
    f.forget('a');
    expect(f.meanMs('a')).toBe(0);
  });

  it('is the mean of the last 5 s (at least the last 5 requests), a stall counted as at most 4 × the median', () => {
    let now = 0;
    const f = new FrontendTimes({ now: () => now });
    // Cold requests at the start (the JIT has not compiled the decode path yet), then warm ones.
    for (const ms of [60, 45, 40, 35, 30]) {
      f.observe('a', ms);
      now += 100;
    }
    expect(f.meanMs('a')).toBeCloseTo(42, 9);
    for (let i = 0; i < 50; i++) {
      f.observe('a', 2);
      now += 200;
    }
    // 10 s later the cold start has left the window: the mean is the warm requests'.
    expect(f.meanMs('a')).toBeCloseTo(2, 9);
    f.observe('a', 1000); // a stall: counted as 4 × the median, 8 ms
    const n = 1 + Math.floor(5000 / 200); // requests in the window
    expect(f.meanMs('a')).toBeCloseTo(2 + (8 - 2) / n, 1);
    // Time passes with no requests: the last 5 stay the mean (with the stall among them, capped).
    now += 60_000;
    expect(f.meanMs('a')).toBeCloseTo((4 * 2 + 8) / 5, 9);
    // A lasting change is followed within the window.
    for (let i = 0; i < 30; i++) {
      f.observe('a', 20);
      now += 200;
    }
    expect(f.meanMs('a')).toBeCloseTo(20, 9);
    for (const bad of [{ outlier: 0.5 }, { outlier: Number.NaN }, { minCount: 0 }, { windowMs: 0 }])
      expect(() => new FrontendTimes(bad)).toThrow(
        expect.objectContaining({ code: 'SWAPLESS_INVALID_ARGUMENT' }),
      );
  });
});
