import { UnsupportedModelError } from '@swapless/core';
import { GraphBuilder } from '@swapless/int8-builder';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compileReport } from './compile.js';
import { EmulatedDevice } from './device.js';
import { callBreakdown } from './timing.js';

function unit(seed: number, input: 'int8' | 'float32' = 'int8') {
  const g = new GraphBuilder({ seed });
  let x = g.input('x', [1, 8, 8, 32], { type: input });
  x = g.conv2d(x, { filters: 64, kernel: 1 });
  g.output(x);
  return compileReport(g.build(), 'usb3');
}

describe('EmulatedDevice (real time, fake timers)', () => {
  let clock = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const now = () => Date.now() - clock;

  it('runs one call at a time, FIFO, each resolving after its modelled duration', async () => {
    clock = Date.now();
    // Tiny units model well under 1 ms; scale real waiting up so fake time can resolve the order.
    const device = new EmulatedDevice('usb3', { now, timeScale: 100 });
    const a = unit(1);
    const b = unit(2);
    const order: string[] = [];
    const pa = device.invoke(a).then((r) => {
      order.push('a');
      return r;
    });
    const pb = device.invoke(b).then((r) => {
      order.push('b');
      return r;
    });
    const pa2 = device.invoke(a).then((r) => {
      order.push('a2');
      return r;
    });
    expect(device.pending).toBe(3);
    await vi.runAllTimersAsync();
    const [ra, rb, ra2] = await Promise.all([pa, pb, pa2]);
    expect(order).toEqual(['a', 'b', 'a2']);
    expect(device.pending).toBe(0);
    // Token decisions in FIFO order: fresh → reload; a → b reload; b → a reload.
    expect([ra.reloaded, rb.reloaded, ra2.reloaded]).toEqual([true, true, true]);
    expect(rb.tokenBefore).toBe(a.cachingToken);
    expect(device.token).toBe(a.cachingToken);
    // Fake time advances by the modelled durations × timeScale (setTimeout rounds to whole ms).
    expect(rb.startedAtMs).toBeGreaterThanOrEqual(ra.endedAtMs);
    expect(ra2.startedAtMs).toBeGreaterThanOrEqual(rb.endedAtMs);
    expect(ra.endedAtMs - ra.startedAtMs).toBeGreaterThanOrEqual(Math.floor(ra.breakdown.totalMs * 100));
    expect(ra.endedAtMs - ra.startedAtMs).toBeLessThanOrEqual(Math.ceil(ra.breakdown.totalMs * 100));
    expect(rb.queuedMs).toBe(ra.endedAtMs - ra.startedAtMs);
    expect(ra.breakdown).toEqual(callBreakdown(a, 'usb3', { reload: true }));
  });

  it('does not reload for a repeated unit, and scales real waiting by timeScale', async () => {
    clock = Date.now();
    const device = new EmulatedDevice('usb3', { now, timeScale: 0 });
    const a = unit(1);
    const p1 = device.invoke(a);
    const p2 = device.invoke(a);
    await vi.runAllTimersAsync();
    const [r1, r2] = await Promise.all([p1, p2]);
    expect(r1.reloaded).toBe(true);
    expect(r2.reloaded).toBe(false);
    expect(r2.breakdown.reloadMs).toBe(0);
    expect(r2.endedAtMs - r1.startedAtMs).toBe(0);
  });

  it('rejects a unit without Edge TPU ops at once and keeps serving the queue', async () => {
    const device = new EmulatedDevice('usb3', { timeScale: 0 });
    const good = device.invoke(unit(1));
    await expect(device.invoke(unit(3, 'float32'))).rejects.toBeInstanceOf(UnsupportedModelError);
    await vi.runAllTimersAsync();
    await expect(good).resolves.toMatchObject({ reloaded: true });
    expect(device.pending).toBe(0);
  });
});

describe('EmulatedDevice (real clock)', () => {
  it('never ends a call before its modelled time, sub-millisecond calls included', async () => {
    const device = new EmulatedDevice('usb3');
    const a = unit(1);
    const b = unit(2);
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => device.invoke(i % 3 === 0 ? b : a)));
    for (const r of runs) {
      expect(r.breakdown.totalMs).toBeLessThan(1);
      expect(r.endedAtMs - r.startedAtMs).toBeGreaterThanOrEqual(r.breakdown.totalMs);
    }
  });
});
