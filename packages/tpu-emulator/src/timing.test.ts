import { ErrorCodes, InvalidArgumentError, UnsupportedModelError } from '@swapless/core';
import { GraphBuilder } from '@swapless/int8-builder';
import { buildZooModel } from '@swapless/zoo';
import { describe, expect, it } from 'vitest';
import { compileReport } from './compile.js';
import { parseProfile } from './profiles.js';
import { callBreakdown, layerComputeMs, reloadMs, VirtualDevice } from './timing.js';
import type { CallBreakdown } from './types.js';

function sumOfParts(b: CallBreakdown): number {
  return b.overheadMs + b.inputMs + b.outputMs + b.computeMs + b.streamedMs + b.reloadMs + b.jitterMs;
}

function chain(seed: number, filters = 256) {
  const g = new GraphBuilder({ seed });
  let x = g.input('x', [1, 8, 8, 64]);
  x = g.conv2d(x, { filters, kernel: 1 });
  x = g.conv2d(x, { filters: 64, kernel: 3 });
  g.output(x);
  return g.build();
}

const a = compileReport(chain(1), 'usb3');
const b = compileReport(chain(2), 'usb3');

describe('VirtualDevice token state', () => {
  it('does not reload when the same unit runs twice (A, A)', () => {
    const d = new VirtualDevice('usb3');
    const first = d.call(a);
    const second = d.call(a);
    expect(first.reloaded).toBe(true); // a fresh device holds no token
    expect(first.tokenBefore).toBeNull();
    expect(second.reloaded).toBe(false);
    expect(second.breakdown.reloadMs).toBe(0);
    expect(second.tokenBefore).toBe(a.cachingToken);
    expect(d.token).toBe(a.cachingToken);
  });

  it('flushes and re-uploads on every token switch (A, B, A)', () => {
    const d = new VirtualDevice('usb3');
    d.call(a);
    const rb = d.call(b);
    const ra = d.call(a);
    expect(rb.reloaded).toBe(true);
    expect(ra.reloaded).toBe(true);
    expect(rb.tokenBefore).toBe(a.cachingToken);
    expect(ra.tokenBefore).toBe(b.cachingToken);
    expect(ra.breakdown.reloadMs).toBeCloseTo(reloadMs(a, 'usb3'), 12);
    expect(rb.breakdown.reloadMs).toBeCloseTo(reloadMs(b, 'usb3'), 12);
    // Reload = the unit's cached bytes over the link (420 MB/s).
    expect(ra.breakdown.reloadMs).toBeCloseTo((a.onChipCachedBytes / 420e6) * 1e3, 9);
    d.reset();
    expect(d.token).toBeNull();
  });

  it('keeps a co-compiled set cached across calls of its models, and reloads the whole set after a switch', () => {
    const pair = compileReport([chain(3), chain(4)], 'usb3');
    const d = new VirtualDevice('usb3');
    d.call(pair, { model: 0 });
    expect(d.call(pair, { model: 1 }).reloaded).toBe(false);
    expect(d.call(pair, { model: 0 }).reloaded).toBe(false);
    d.call(a);
    const back = d.call(pair, { model: 1 });
    expect(back.reloaded).toBe(true);
    expect(back.model).toBe(1);
    expect(back.breakdown.reloadMs).toBeCloseTo((pair.onChipCachedBytes / 420e6) * 1e3, 9);
  });

  it('peek does not change the state', () => {
    const d = new VirtualDevice('usb3');
    expect(d.peek(a).reloadMs).toBeGreaterThan(0);
    expect(d.token).toBeNull();
  });
});

describe('callBreakdown', () => {
  it('adds up to the total on every profile, with and without reload and streaming', () => {
    const r50 = buildZooModel('resnet50_v1', { seed: 0 });
    for (const profile of ['usb3', 'usb2', 'pcie', 'devboard'] as const) {
      const unit = compileReport(r50, profile);
      for (const reload of [false, true]) {
        const br = callBreakdown(unit, profile, { reload });
        expect(br.streamedMs).toBeGreaterThan(0);
        expect(br.totalMs).toBeCloseTo(sumOfParts(br), 9);
        expect(br.reloadMs > 0).toBe(reload);
        for (const v of Object.values(br)) expect(Number.isFinite(v) && v >= 0).toBe(true);
      }
    }
  });

  it('has no streaming term when the parameters fit, and output bytes cost more than input bytes', () => {
    const br = callBreakdown(a, 'usb3');
    expect(br.streamedMs).toBe(0);
    const m = a.models[0]!;
    expect(br.outputMs / m.outputBytes).toBeGreaterThan(br.inputMs / m.inputBytes);
  });

  it('charges compute by op type: a depthwise MAC costs more than a conv MAC', () => {
    const layer = {
      position: 0,
      macs: 1e8,
      weightBytes: 0,
      inputBytes: 0,
      outputBytes: 0,
      placement: 'none',
    } as const;
    expect(layerComputeMs({ ...layer, type: 'DEPTHWISE_CONV_2D' }, 'usb3')).toBeGreaterThan(
      layerComputeMs({ ...layer, type: 'CONV_2D' }, 'usb3'),
    );
    // Without a recorded output shape, a conv uses the flat rate: at 500 MHz, 4096 MACs/cycle and 45 %
    // efficiency, 1e8 MACs take 1e8 / (4096·0.45·5e5) ms + 1 µs.
    expect(layerComputeMs({ ...layer, type: 'CONV_2D' }, 'usb3')).toBeCloseTo(
      1e8 / (4096 * 0.45 * 5e5) + 0.001,
      9,
    );
  });

  it('throws UnsupportedModelError when the called model has no Edge TPU op', () => {
    const g = new GraphBuilder({ seed: 0 });
    let x = g.input('x', [1, 8, 8, 8], { type: 'float32' });
    x = g.conv2d(x, { filters: 8, kernel: 1 });
    g.output(x);
    const unit = compileReport(g.build(), 'usb3');
    expect(unit.mappedOps).toBe(0);
    try {
      callBreakdown(unit, 'usb3');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UnsupportedModelError);
      expect((e as UnsupportedModelError).code).toBe(ErrorCodes.UNSUPPORTED_MODEL);
    }
    expect(() => new VirtualDevice('usb3').call(unit)).toThrow(UnsupportedModelError);
  });

  it('rejects a unit compiled for another profile and a model index outside the set', () => {
    expect(() => callBreakdown(a, 'devboard')).toThrow(InvalidArgumentError);
    expect(() => callBreakdown(a, 'usb3', { model: 1 })).toThrow(InvalidArgumentError);
  });
});

describe('jitter', () => {
  const jittery = parseProfile({ name: 'usb3-jitter', extends: 'usb3', jitterCv: 0.05 });
  const unit = compileReport(chain(1), jittery);
  const run = (seed: number) => {
    const d = new VirtualDevice(jittery, { seed });
    return Array.from({ length: 20 }, () => d.call(unit).breakdown);
  };

  it('is reproducible for a seed and differs between seeds', () => {
    const one = run(7).map((x) => x.totalMs);
    expect(run(7).map((x) => x.totalMs)).toEqual(one);
    expect(run(8).map((x) => x.totalMs)).not.toEqual(one);
    expect(new Set(one.slice(1)).size).toBeGreaterThan(1);
  });

  it('keeps the parts adding up and totals positive', () => {
    for (const br of run(3)) {
      expect(br.totalMs).toBeCloseTo(sumOfParts(br), 9);
      expect(br.totalMs).toBeGreaterThan(0);
    }
  });

  it('is off (exactly 0) with the built-in profiles', () => {
    const d = new VirtualDevice('usb3', { seed: 5 });
    expect(d.call(a).breakdown.jitterMs).toBe(0);
  });
});
