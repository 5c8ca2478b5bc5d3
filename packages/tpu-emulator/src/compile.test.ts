import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { GraphBuilder } from '@swapless/int8-builder';
import { splitModel, type TfliteModel } from '@swapless/tflite';
import { buildZooModel } from '@swapless/zoo';
import { describe, expect, it } from 'vitest';
import { coCompileReports, compileReport, MIB } from './compile.js';
import { parseProfile } from './profiles.js';

/** A chain of 1×1 convs on a small map: parameters of `filters[i]²`-ish bytes, tiny activations. */
function convChain(filters: readonly number[], options: { input?: 'int8' | 'float32'; seed?: number } = {}) {
  const g = new GraphBuilder({ seed: options.seed ?? 0, name: 'chain' });
  let x = g.input('x', [1, 4, 4, 64], { type: options.input ?? 'int8' });
  for (const f of filters) x = g.conv2d(x, { filters: f, kernel: 1 });
  g.output(x);
  return g.build();
}

const tinySram = (mib: number) =>
  parseProfile({
    name: 'tiny',
    extends: 'usb3',
    sramMiB: mib,
    fixedReserveMiB: 0,
    activationReserveFactor: 0,
  });

describe('compileReport', () => {
  it('reports the three compiler figures, op counts and source for a model that fits', () => {
    const r = compileReport(buildZooModel('mobilenet_v1', { seed: 0 }), 'usb3');
    expect(r.source).toBe('emulated');
    expect(r.models).toHaveLength(1);
    const m = r.models[0]!;
    expect(m.mappedOps).toBe(m.opCount);
    expect(m.unmappedOps).toBe(0);
    expect(r.offChipStreamedBytes).toBe(0);
    expect(m.onChipCachedBytes).toBe(m.parameterBytes);
    expect(m.onChipRemainingBytes).toBe(r.parameterBudgetBytes - m.onChipCachedBytes);
    expect(m.layers.every((l) => l.placement !== 'streamed')).toBe(true);
    // Usable parameter SRAM of a 224 px CNN within the published 6.9–7.9 MiB.
    expect(r.parameterBudgetBytes / MIB).toBeGreaterThanOrEqual(6.9);
    expect(r.parameterBudgetBytes / MIB).toBeLessThanOrEqual(7.9);
  });

  it('streams the rest of a model bigger than the budget, whole layers in graph order', () => {
    const r = compileReport(buildZooModel('resnet50_v1', { seed: 0 }), 'usb3');
    const m = r.models[0]!;
    expect(r.offChipStreamedBytes).toBeGreaterThan(0);
    expect(m.onChipCachedBytes + m.offChipStreamedBytes).toBe(m.parameterBytes);
    expect(m.onChipCachedBytes).toBeLessThanOrEqual(r.parameterBudgetBytes);
    // Once a layer streams, no later layer is cached.
    const firstStreamed = m.layers.findIndex((l) => l.placement === 'streamed');
    expect(firstStreamed).toBeGreaterThan(0);
    expect(m.layers.slice(firstStreamed).some((l) => l.placement === 'cached')).toBe(false);
    // The first streamed layer is the one that did not fit.
    expect(m.onChipCachedBytes + m.layers[firstStreamed]!.weightBytes).toBeGreaterThan(
      r.parameterBudgetBytes,
    );
    expect(r.parameterBudgetBytes / MIB).toBeGreaterThanOrEqual(6.9);
  });

  it('does not let a later, smaller layer fill the gap left by a layer that did not fit', () => {
    // 1×1 conv 64→512 (32 KiB + bias), 512→512 (256 KiB), 512→16 (8 KiB): budget 0.2 MiB.
    const model = convChain([512, 512, 16]);
    const r = compileReport(model, tinySram(0.2));
    expect(r.models[0]!.layers.map((l) => l.placement)).toEqual(['cached', 'streamed', 'streamed']);
  });

  it('is monotone in the cut: cached + streamed never shrink as the Edge TPU part grows (all cuts of mobilenet_v2)', () => {
    const model = buildZooModel('mobilenet_v2', { seed: 0 });
    const small = tinySram(2); // a budget the model outgrows, so both cached and streamed bytes appear
    for (const profile of ['usb3', small] as const) {
      let previous = 0;
      let previousMapped = 0;
      const n = compileReport(model, profile).models[0]!.opCount;
      for (let k = 1; k <= n; k++) {
        const head = splitModel(model, k).head!;
        const r = compileReport(head, profile);
        const total = r.onChipCachedBytes + r.offChipStreamedBytes;
        expect(total).toBeGreaterThanOrEqual(previous);
        expect(r.mappedOps).toBeGreaterThanOrEqual(previousMapped);
        if (profile === 'usb3') expect(r.offChipStreamedBytes).toBe(0);
        previous = total;
        previousMapped = r.mappedOps;
      }
      if (profile === small) {
        const whole = compileReport(model, small);
        expect(whole.offChipStreamedBytes).toBeGreaterThan(0);
      }
    }
  });

  it('caches a co-compiled set in argument order and reports per model', () => {
    const v1 = buildZooModel('mobilenet_v1', { seed: 0 });
    const v2 = buildZooModel('mobilenet_v2', { seed: 0 });
    const ab = compileReport([v1, v2], 'usb3');
    const ba = compileReport([v2, v1], 'usb3');
    // The pair does not fit: the later model in argument order is the one that streams.
    expect(ab.offChipStreamedBytes).toBeGreaterThan(0);
    expect(ab.models[0]!.offChipStreamedBytes).toBe(0);
    expect(ab.models[1]!.offChipStreamedBytes).toBeGreaterThan(0);
    expect(ba.models[0]!.offChipStreamedBytes).toBe(0);
    expect(ba.models[1]!.offChipStreamedBytes).toBeGreaterThan(0);
    expect(ab.models.map((m) => m.index)).toEqual([0, 1]);
    // Remaining is cumulative along the set.
    expect(ab.models[0]!.onChipRemainingBytes).toBe(
      ab.parameterBudgetBytes - ab.models[0]!.onChipCachedBytes,
    );
    expect(ab.models[1]!.onChipRemainingBytes).toBe(ab.onChipRemainingBytes);
    expect(ab.onChipCachedBytes).toBe(ab.models[0]!.onChipCachedBytes + ab.models[1]!.onChipCachedBytes);
    expect(ab.mappedOps).toBe(ab.models[0]!.mappedOps + ab.models[1]!.mappedOps);
    // One caching token per unit, different for a different set.
    expect(ab.cachingToken).not.toBe(ba.cachingToken);
    expect(ab.cachingToken).toBe(compileReport([v1, v2], 'usb3').cachingToken);
  });

  it('gives different tokens to the same architecture with other weights, and honours an explicit token', () => {
    const a = convChain([64, 64], { seed: 1 });
    const b = convChain([64, 64], { seed: 2 });
    expect(compileReport(a, 'usb3').cachingToken).not.toBe(compileReport(b, 'usb3').cachingToken);
    expect(compileReport(a, 'usb3', { cachingToken: 'mine' }).cachingToken).toBe('mine');
  });

  it('reports 0 mapped ops for a model that is not int8 at its input (everything on the CPU)', () => {
    const model = convChain([32], { input: 'float32' });
    const r = compileReport(model, 'usb3');
    const m = r.models[0]!;
    expect(m.mappedOps).toBe(0);
    expect(m.unmappedOps).toBe(m.opCount);
    expect(m.firstUnmapped?.type).toBe('QUANTIZE');
    expect(r.onChipCachedBytes + r.offChipStreamedBytes).toBe(0);
    expect(m.inputBytes).toBe(0);
  });

  it('reserves activation SRAM from the largest activation tensor, capped', () => {
    const big = new GraphBuilder({ seed: 0 });
    let x = big.input('x', [1, 1024, 1024, 16]);
    x = big.conv2d(x, { filters: 16, kernel: 1 });
    big.output(x);
    const r = compileReport(big.build(), 'usb3');
    // 16 MiB tensors: half would be 8 MiB; the cap leaves 8 − 0.125 − 6.5 MiB for parameters (a "large activations" model).
    expect(r.parameterBudgetBytes / MIB).toBeCloseTo(1.375, 3);
  });

  it('rejects an empty set and non-models with SWAPLESS_INVALID_ARGUMENT', () => {
    expect(() => compileReport([], 'usb3')).toThrow(InvalidArgumentError);
    try {
      compileReport([{} as TfliteModel], 'usb3');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    }
  });
});

describe('coCompileReports', () => {
  const heads = [
    buildZooModel('mobilenet_v1', { seed: 0 }),
    splitModel(buildZooModel('inception_v3', { seed: 1 }), 60).head!,
    buildZooModel('squeezenet', { seed: 2 }),
  ];

  it('places a set exactly as compiling the models together does, in either order', () => {
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 0],
    ]) {
      const models = order.map((i) => heads[i]!);
      const together = compileReport(models, 'usb3');
      const merged = coCompileReports(
        models.map((m) => compileReport(m, 'usb3')),
        'usb3',
      );
      const { cachingToken: _a, ...want } = together;
      const { cachingToken: _b, ...got } = merged;
      expect(got).toEqual(want);
    }
  });

  it('gives the earlier member the cache: the later one streams what does not fit', () => {
    const alone = heads.map((h) => compileReport(h, 'usb3'));
    const ab = coCompileReports([alone[1]!, alone[0]!], 'usb3');
    const ba = coCompileReports([alone[0]!, alone[1]!], 'usb3');
    // 4.6 MiB of inception_v3's head and 4.1 MiB of mobilenet_v1 exceed the ~7.2 MiB budget: the later one streams.
    expect(ab.offChipStreamedBytes).toBeGreaterThan(0);
    expect(ab.models[1]!.offChipStreamedBytes).toBeGreaterThan(ba.models[0]!.offChipStreamedBytes);
    // Tokens: one per set and order, distinct from the members'.
    expect(ab.cachingToken).not.toBe(ba.cachingToken);
    expect(coCompileReports([alone[1]!, alone[0]!], 'usb3').cachingToken).toBe(ab.cachingToken);
    expect(alone.map((r) => r.cachingToken)).not.toContain(ab.cachingToken);
  });

  it('refuses an empty set, a set member and a report of another profile', () => {
    const a = compileReport(heads[0]!, 'usb3');
    const set = compileReport([heads[0]!, heads[2]!], 'usb3');
    for (const bad of [[], [set], [compileReport(heads[0]!, 'pcie')], [{}]]) {
      let err: unknown;
      try {
        coCompileReports(bad as never, 'usb3');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    }
    expect(coCompileReports([a], 'usb3').models[0]!.onChipCachedBytes).toBe(a.onChipCachedBytes);
  });
});
