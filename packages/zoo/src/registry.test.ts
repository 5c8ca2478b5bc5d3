// Registry facts for every zoo model, from analysis only (no runtime): published params and MACs within 3 %,
// the whole model Edge-TPU-mappable, input/output shapes, determinism and the unknown-name error.
import { InvalidArgumentError } from '@swapless/core';
import { analyzeModel, writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { buildZooModel, ZOO_MODEL_NAMES, ZOO_MODELS, type ZooModelName } from './index.js';

const relError = (ours: number, published: number): number => Math.abs(ours - published) / published;

describe('ZOO_MODELS', () => {
  it('lists the twelve models in registry order, keyed by name', () => {
    expect(ZOO_MODEL_NAMES).toHaveLength(12);
    expect(Object.keys(ZOO_MODELS)).toEqual([...ZOO_MODEL_NAMES]);
    for (const name of ZOO_MODEL_NAMES) {
      const info = ZOO_MODELS[name];
      expect(info.name).toBe(name);
      expect([1000, 1001]).toContain(info.classes);
      expect(info.description.length).toBeGreaterThan(10);
      expect(info.published.paramsSource.length).toBeGreaterThan(10);
      expect(info.published.macsSource.length).toBeGreaterThan(10);
      expect(Object.isFrozen(info)).toBe(true);
    }
  });
});

describe.each(ZOO_MODEL_NAMES.map((n) => [n] as [ZooModelName]))('%s', (name) => {
  const info = ZOO_MODELS[name];

  it('matches the published params and MACs within 3 % and maps to the Edge TPU as a whole', () => {
    const model = buildZooModel(name);
    const analysis = analyzeModel(model);
    const g = model.subgraphs[0]!;
    expect(g.inputs.map((t) => g.tensors[t]!.shape)).toEqual([[...info.inputShape]]);
    expect(g.outputs.map((t) => g.tensors[t]!.shape)).toEqual([[1, info.classes]]);
    expect(analysis.edgetpuPrefix.length).toBe(analysis.ops.length);
    expect(relError(analysis.totals.params, info.published.params)).toBeLessThan(0.03);
    // MACs are compared at the resolution the published figure is for (the architecture is fully
    // convolutional up to its global pool, so it builds at any input size).
    const macs =
      info.published.macsResolution === info.inputShape[1]
        ? analysis.totals.macs
        : analyzeModel(buildZooModel(name, { inputSize: info.published.macsResolution })).totals.macs;
    expect(relError(macs, info.published.macs)).toBeLessThan(0.03);
  }, 60_000);
});

describe('buildZooModel', () => {
  it('is deterministic: the same seed gives identical bytes, another seed other bytes', () => {
    for (const name of ['squeezenet', 'mobilenet_v2'] as const) {
      const a = writeModel(buildZooModel(name, { seed: 7 }));
      const b = writeModel(buildZooModel(name, { seed: 7 }));
      const c = writeModel(buildZooModel(name, { seed: 8 }));
      expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
      expect(Buffer.compare(Buffer.from(a), Buffer.from(c))).not.toBe(0);
      // Same architecture either way: same size, same tensors.
      expect(c.byteLength).toBe(a.byteLength);
    }
    // The default seed is 0.
    const d0 = writeModel(buildZooModel('squeezenet'));
    const d1 = writeModel(buildZooModel('squeezenet', { seed: 0 }));
    expect(Buffer.compare(Buffer.from(d0), Buffer.from(d1))).toBe(0);
  });

  it('rejects an unknown name with the house message', () => {
    let error: unknown;
    try {
      buildZooModel('resnet18' as ZooModelName);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe('SWAPLESS_INVALID_ARGUMENT');
    expect((error as Error).message).toBe(
      `Expected one of ${ZOO_MODEL_NAMES.join(', ')} for model name but received "resnet18"`,
    );
    expect(() => buildZooModel(undefined as unknown as ZooModelName)).toThrow(/but received undefined$/);
  });

  it('rejects a bad seed or input size', () => {
    expect(() => buildZooModel('squeezenet', { seed: -1 })).toThrow(InvalidArgumentError);
    expect(() => buildZooModel('squeezenet', { seed: 1.5 })).toThrow(/non-negative safe integer/);
    expect(() => buildZooModel('squeezenet', { inputSize: 10 })).toThrow(InvalidArgumentError);
  });

  it('builds MobileNet v1 at a depth multiplier, and refuses one elsewhere', () => {
    // TF-slim mobilenet_v1.md table: 0.25_128 has 14 M MACs and 0.47 M params, 0.5_160 77 M and 1.32 M.
    for (const [depth, size, macs, params] of [
      [0.25, 128, 14e6, 0.47e6],
      [0.5, 160, 77e6, 1.32e6],
    ] as const) {
      const { totals } = analyzeModel(
        buildZooModel('mobilenet_v1', { depthMultiplier: depth, inputSize: size }),
      );
      expect(Math.abs(totals.macs / macs - 1)).toBeLessThan(0.06);
      expect(Math.abs(totals.params / params - 1)).toBeLessThan(0.06);
    }
    expect(() => buildZooModel('mobilenet_v2', { depthMultiplier: 0.5 })).toThrow(InvalidArgumentError);
    expect(() => buildZooModel('mobilenet_v1', { depthMultiplier: 0 })).toThrow(InvalidArgumentError);
  });
});
