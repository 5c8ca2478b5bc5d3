import { SeededRandom } from '@swapless/core';
import {
  BuiltinOperator,
  builtinOperatorName,
  readModel,
  type Tensor,
  TensorType,
  type TfliteModel,
  writeModel,
} from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { buildTestNet, GraphBuilder, INT8_OP_VERSIONS, type TensorHandle, tinyModel } from './builder.js';
import { quantForRange } from './builder-quant.js';
import { expectInvalid } from './invalid.test-util.js';

const graph = (m: TfliteModel) => m.subgraphs[0]!;

function tensorByName(m: TfliteModel, name: string): Tensor {
  const t = graph(m).tensors.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no tensor ${name}`);
  return t;
}

function opNames(m: TfliteModel): string[] {
  return graph(m).operators.map((op) => builtinOperatorName(m.operatorCodes[op.opcodeIndex]!.builtinCode));
}

/** The operator producing tensor `name`. */
function producer(m: TfliteModel, name: string) {
  const g = graph(m);
  const idx = g.tensors.findIndex((t) => t.name === name);
  const op = g.operators.find((o) => o.outputs.includes(idx));
  if (op === undefined) throw new Error(`no producer of ${name}`);
  return { op, inputs: op.inputs.map((i) => g.tensors[i]!), code: m.operatorCodes[op.opcodeIndex]! };
}

function int32s(m: TfliteModel, t: Tensor): Int32Array {
  const data = m.buffers[t.buffer]!.data!;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return Int32Array.from({ length: data.byteLength / 4 }, (_, i) => view.getInt32(i * 4, true));
}

/** A small model using every op kind, with named layers. */
function everyOpModel(seed = 1): TfliteModel {
  const b = new GraphBuilder({ seed, name: 'every-op' });
  const x0 = b.input('image', [1, 20, 20, 3]);
  let x = b.pad(x0, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  x = b.conv2d(x, { filters: 8, kernel: 3, stride: 2, padding: 'valid', activation: 'relu', name: 'conv' });
  x = b.hardSwish(x, { name: 'hswish' });
  const se = b.mean(x, { axes: [1, 2], keepDims: true, name: 'se_pool' });
  const gate = b.logistic(b.conv2d(se, { filters: 8, kernel: 1, name: 'se_conv' }), { name: 'gate' });
  x = b.mul(x, gate, { name: 'excite' });
  const dw = b.depthwiseConv2d(x, { kernel: 3, multiplier: 2, activation: 'relu6', name: 'dw' });
  const mp = b.maxPool2d(dw, { size: 2, name: 'mp' });
  const ap = b.avgPool2d(dw, { size: 3, stride: 2, padding: 'same', name: 'ap' });
  const cat = b.concatenation([mp, ap], { axis: 3, name: 'cat' });
  const flat = b.reshape(cat, [1, -1], { name: 'flat' });
  const fc = b.fullyConnected(flat, { units: 6, activation: 'relu', name: 'fc' });
  const res = b.add(fc, b.fullyConnected(fc, { units: 6, name: 'fc2' }), { name: 'res' });
  b.output(b.softmax(res, { name: 'prob' }));
  return b.build();
}

describe('GraphBuilder shapes', () => {
  it('computes conv/depthwise/pool shapes like TFLite (SAME = ceil(in/s), VALID = floor((in-eff)/s)+1)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 15, 17, 3]);
    expect(b.conv2d(x, { filters: 4, kernel: 3, stride: 2 }).shape).toEqual([1, 8, 9, 4]);
    expect(b.conv2d(x, { filters: 4, kernel: 3, stride: 2, padding: 'valid' }).shape).toEqual([1, 7, 8, 4]);
    expect(b.conv2d(x, { filters: 4, kernel: [3, 5], stride: [1, 2], padding: 'valid' }).shape).toEqual([
      1, 13, 7, 4,
    ]);
    expect(b.conv2d(x, { filters: 2, kernel: 3, dilation: 2, padding: 'valid' }).shape).toEqual([
      1, 11, 13, 2,
    ]);
    expect(b.depthwiseConv2d(x, { kernel: 3, multiplier: 4 }).shape).toEqual([1, 15, 17, 12]);
    expect(b.depthwiseConv2d(x, { kernel: 5, stride: 3, padding: 'valid' }).shape).toEqual([1, 4, 5, 3]);
    expect(b.maxPool2d(x, { size: 2 }).shape).toEqual([1, 7, 8, 3]);
    expect(b.avgPool2d(x, { size: 3, stride: 2, padding: 'same' }).shape).toEqual([1, 8, 9, 3]);
  });

  it('computes shapes of reshape, pad, mean, concatenation, fully connected and broadcasting ops', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 6, 8]);
    expect(b.reshape(x, [1, -1]).shape).toEqual([1, 192]);
    expect(b.reshape(x, [2, 12, 8]).shape).toEqual([2, 12, 8]);
    expect(
      b.pad(x, [
        [0, 0],
        [1, 2],
        [0, 3],
        [0, 0],
      ]).shape,
    ).toEqual([1, 7, 9, 8]);
    expect(b.mean(x).shape).toEqual([1, 8]);
    expect(b.mean(x, [1, 2]).shape).toEqual([1, 8]);
    expect(b.mean(x, { axes: [-3, -2], keepDims: true }).shape).toEqual([1, 1, 1, 8]);
    expect(b.concatenation([x, x, b.conv2d(x, { filters: 5, kernel: 1 })]).shape).toEqual([1, 4, 6, 21]);
    expect(b.concatenation([x, x], { axis: 1 }).shape).toEqual([1, 8, 6, 8]);
    expect(b.fullyConnected(x, { units: 3 }).shape).toEqual([24, 3]);
    expect(b.fullyConnected(b.reshape(x, [1, -1]), { units: 3 }).shape).toEqual([1, 3]);
    const gate = b.mean(x, { keepDims: true });
    expect(b.mul(x, gate).shape).toEqual([1, 4, 6, 8]);
    expect(b.add(gate, x).shape).toEqual([1, 4, 6, 8]);
    expect(b.softmax(b.reshape(x, [1, -1])).shape).toEqual([1, 192]);
  });

  it('returns frozen handles and keeps the built tensor shapes equal to them', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 8, 8, 3]);
    const y = b.conv2d(x, { filters: 4, kernel: 3, name: 'c' });
    b.output(y);
    expect(Object.isFrozen(y)).toBe(true);
    expect(Object.isFrozen(y.shape)).toBe(true);
    const m = b.build();
    expect(graph(m).tensors[y.index]!.shape).toEqual([...y.shape]);
    expect(graph(m).tensors[y.index]!.name).toBe('c');
    expect(graph(m).inputs).toEqual([x.index]);
    expect(graph(m).outputs).toEqual([y.index]);
  });
});

describe('GraphBuilder quantization', () => {
  const m = everyOpModel();

  it('quantizes conv filters per output channel on dimension 0, symmetric int8 in [-127, 127]', () => {
    const { inputs, code } = producer(m, 'conv');
    expect(code).toEqual({ builtinCode: BuiltinOperator.CONV_2D, version: 3 });
    const [input, filter, bias] = inputs;
    expect(input!.type).toBe(TensorType.INT8);
    expect(filter!.type).toBe(TensorType.INT8);
    expect(filter!.shape).toEqual([8, 3, 3, 3]);
    expect(filter!.quantization!.quantizedDimension).toBe(0);
    expect(filter!.quantization!.scale).toHaveLength(8);
    expect(filter!.quantization!.zeroPoint).toEqual(new Array(8).fill(0));
    const q = new Int8Array(
      m.buffers[filter!.buffer]!.data!.buffer,
      m.buffers[filter!.buffer]!.data!.byteOffset,
      216,
    );
    expect(Math.min(...q)).toBeGreaterThanOrEqual(-127);
    expect(Math.max(...q)).toBeLessThanOrEqual(127);
    expect(bias!.type).toBe(TensorType.INT32);
    expect(bias!.shape).toEqual([8]);
  });

  it('gives every bias scale = input scale × weight scale (float32) and zero point 0', () => {
    for (const layer of ['conv', 'se_conv', 'dw', 'fc', 'fc2']) {
      const { inputs } = producer(m, layer);
      const [input, filter, bias] = inputs;
      const inScale = input!.quantization!.scale![0]!;
      const wScales = filter!.quantization!.scale!;
      const bq = bias!.quantization!;
      expect(bq.quantizedDimension).toBe(0);
      expect(bq.zeroPoint!.every((z) => z === 0)).toBe(true);
      expect(bq.scale).toHaveLength(wScales.length);
      expect(bq.scale).toEqual(wScales.map((w) => Math.fround(inScale * w)));
      expect(int32s(m, bias!).length).toBe(bias!.shape[0]);
    }
  });

  it('quantizes depthwise filters on dimension 3 with C·multiplier scales, fully connected per tensor', () => {
    const dw = producer(m, 'dw');
    expect(dw.code).toEqual({ builtinCode: BuiltinOperator.DEPTHWISE_CONV_2D, version: 3 });
    expect(dw.inputs[1]!.shape).toEqual([1, 3, 3, 16]);
    expect(dw.inputs[1]!.quantization!.quantizedDimension).toBe(3);
    expect(dw.inputs[1]!.quantization!.scale).toHaveLength(16);
    expect(dw.op.builtinOptions!.fields).toMatchObject({ depthMultiplier: 2, fusedActivationFunction: 3 });
    const fc = producer(m, 'fc');
    expect(fc.code).toEqual({ builtinCode: BuiltinOperator.FULLY_CONNECTED, version: 4 });
    expect(fc.inputs[1]!.shape).toEqual([6, fc.inputs[0]!.shape[1]!]);
    expect(fc.inputs[1]!.quantization!.scale).toHaveLength(1);
    expect(fc.inputs[1]!.quantization!.zeroPoint).toEqual([0]);
  });

  it('quantizes every activation per tensor with an int8 zero point', () => {
    for (const t of graph(m).tensors) {
      if (t.buffer !== 0) continue;
      expect(t.type).toBe(TensorType.INT8);
      expect(t.quantization!.scale).toHaveLength(1);
      expect(t.quantization!.scale![0]).toBeGreaterThan(0);
      expect(t.quantization!.zeroPoint![0]).toBeGreaterThanOrEqual(-128);
      expect(t.quantization!.zeroPoint![0]).toBeLessThanOrEqual(127);
    }
  });

  it('ties pooling, reshape, pad and concatenation inputs and outputs to one quantization', () => {
    const q = (name: string) => {
      const t = tensorByName(m, name).quantization!;
      return [t.scale![0], t.zeroPoint![0]];
    };
    expect(q('mp')).toEqual(q('dw'));
    expect(q('ap')).toEqual(q('dw'));
    expect(q('cat')).toEqual(q('dw'));
    expect(q('flat')).toEqual(q('cat'));
    expect(q('pad')).toEqual(q('image'));
  });

  it('fixes softmax and logistic outputs at scale 1/256, zero point -128, and relu outputs at zero point -128', () => {
    for (const name of ['prob', 'gate']) {
      expect(tensorByName(m, name).quantization).toMatchObject({ scale: [1 / 256], zeroPoint: [-128] });
    }
    expect(tensorByName(m, 'conv').quantization!.zeroPoint).toEqual([-128]);
    expect(tensorByName(m, 'fc').quantization!.zeroPoint).toEqual([-128]);
  });

  it('keeps the input quantization given by the caller', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4], { scale: 0.5, zeroPoint: -3 });
    b.output(b.fullyConnected(x, { units: 2 }));
    expect(tensorByName(b.build(), 'x').quantization).toMatchObject({ scale: [0.5], zeroPoint: [-3] });
  });

  it('chooses a range with 0 exactly representable', () => {
    expect(quantForRange({ lo: 0, hi: 6 })).toEqual({ scale: Math.fround(6 / 255), zeroPoint: -128 });
    const q = quantForRange({ lo: -1, hi: 3 });
    expect(q.zeroPoint).toBe(Math.round(-128 + 1 / q.scale));
    expect(quantForRange({ lo: 0, hi: 0 }).scale).toBeGreaterThan(0);
  });

  it('requantizes a fixed-quantization input of a concatenation so the shared range covers every input', () => {
    const b = new GraphBuilder({ seed: 3 });
    const x = b.input('x', [1, 4, 4, 2]);
    const y = b.conv2d(x, { filters: 2, kernel: 1, activation: 'relu6' });
    b.output(b.concatenation([x, y], { name: 'cat' }));
    const model = b.build();
    expect(opNames(model)).toEqual(['CONV_2D', 'QUANTIZE', 'CONCATENATION']);
    const cat = producer(model, 'cat');
    expect(cat.inputs[0]!.name).toBe('cat/requantize_0');
    expect(cat.inputs[0]!.quantization).toEqual(tensorByName(model, 'cat').quantization);
    expect(tensorByName(model, 'x').quantization!.scale).toEqual([1 / 128]);
  });

  it('keeps a shared fixed quantization without requantizing', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 8]);
    b.output(b.concatenation([x, x]));
    expect(opNames(b.build())).toEqual(['CONCATENATION']);
  });
});

describe('GraphBuilder model structure', () => {
  it('emits the op codes, versions and options TFLite 2.9 expects for int8', () => {
    const m = everyOpModel();
    expect(opNames(m)).toEqual([
      'PAD',
      'CONV_2D',
      'HARD_SWISH',
      'MEAN',
      'CONV_2D',
      'LOGISTIC',
      'MUL',
      'DEPTHWISE_CONV_2D',
      'MAX_POOL_2D',
      'AVERAGE_POOL_2D',
      'CONCATENATION',
      'RESHAPE',
      'FULLY_CONNECTED',
      'FULLY_CONNECTED',
      'ADD',
      'SOFTMAX',
    ]);
    for (const code of m.operatorCodes) {
      const name = builtinOperatorName(code.builtinCode);
      expect(code.version, name).toBe(INT8_OP_VERSIONS[name]);
    }
    expect(producer(m, 'conv').op.builtinOptions).toEqual({
      type: 1,
      name: 'Conv2DOptions',
      fields: {
        padding: 1,
        strideW: 2,
        strideH: 2,
        fusedActivationFunction: 1,
        dilationWFactor: 1,
        dilationHFactor: 1,
        quantizedBiasType: 0,
      },
    });
    expect(producer(m, 'ap').op.builtinOptions!.fields).toMatchObject({
      padding: 0,
      strideW: 2,
      strideH: 2,
      filterWidth: 3,
      filterHeight: 3,
    });
    expect(producer(m, 'flat').op.builtinOptions!.fields).toMatchObject({ newShape: [1, 800] });
    expect(producer(m, 'se_pool').op.builtinOptions!.fields).toEqual({ keepDims: true });
    expect(producer(m, 'cat').op.builtinOptions!.fields).toMatchObject({ axis: 3 });
    expect(producer(m, 'prob').op.builtinOptions!.fields).toEqual({ beta: 1 });
    const meanAxes = producer(m, 'se_pool').inputs[1]!;
    expect(meanAxes.type).toBe(TensorType.INT32);
    expect(Array.from(int32s(m, meanAxes))).toEqual([1, 2]);
  });

  it('names tensors after layers, auto-numbering like Keras', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 4, 2]);
    const a = b.conv2d(x, { filters: 2, kernel: 1 });
    const c = b.conv2d(a, { filters: 2, kernel: 1 });
    b.output(c, { name: 'features' });
    const names = graph(b.build()).tensors.map((t) => t.name);
    expect(names).toEqual([
      'x',
      'conv2d/kernel',
      'conv2d/bias',
      'conv2d',
      'conv2d_1/kernel',
      'conv2d_1/bias',
      'features',
    ]);
  });

  it('converts uint8 and float32 boundaries with QUANTIZE/DEQUANTIZE like the converter', () => {
    const b = new GraphBuilder();
    const u = b.input('u', [1, 4], { type: 'uint8', scale: 0.02, zeroPoint: 100 });
    const f = b.input('f', [1, 4], { type: 'float32', range: [-3, 3] });
    const s = b.add(u, f, { name: 'sum' });
    b.output(s, { type: 'float32', name: 'sum_float' });
    b.output(s, { type: 'uint8' });
    const m = b.build();
    expect(opNames(m)).toEqual(['QUANTIZE', 'QUANTIZE', 'ADD', 'DEQUANTIZE', 'QUANTIZE']);
    const g = graph(m);
    expect(g.inputs.map((i) => g.tensors[i]!.type)).toEqual([TensorType.UINT8, TensorType.FLOAT32]);
    expect(g.outputs.map((i) => g.tensors[i]!.type)).toEqual([TensorType.FLOAT32, TensorType.UINT8]);
    expect(tensorByName(m, 'u').quantization).toMatchObject({ scale: [Math.fround(0.02)], zeroPoint: [100] });
    expect(tensorByName(m, 'u/int8').quantization).toMatchObject({
      scale: [Math.fround(0.02)],
      zeroPoint: [-28],
    });
    expect(tensorByName(m, 'f').quantization).toBeUndefined();
    const sum = tensorByName(m, 'sum').quantization!;
    expect(tensorByName(m, 'sum/uint8').quantization).toMatchObject({
      scale: sum.scale,
      zeroPoint: [sum.zeroPoint![0]! + 128],
    });
    expect(tensorByName(m, 'sum_float').type).toBe(TensorType.FLOAT32);
  });

  it('round-trips through writeModel/readModel unchanged', () => {
    const m = everyOpModel();
    const back = readModel(writeModel(m));
    expect(back).toEqual(m);
  });

  it('builds the op-coverage test net with every op the split tests need', () => {
    const m = buildTestNet(1);
    expect(opNames(m)).toEqual([
      'CONV_2D',
      'DEPTHWISE_CONV_2D',
      'CONV_2D',
      'ADD',
      'MAX_POOL_2D',
      'AVERAGE_POOL_2D',
      'CONCATENATION',
      'RESHAPE',
      'FULLY_CONNECTED',
      'SOFTMAX',
    ]);
    const g = graph(m);
    expect(g.tensors[g.inputs[0]!]!.shape).toEqual([1, 16, 16, 3]);
    expect(g.tensors[g.outputs[0]!]!.shape).toEqual([1, 10]);
    expect(g.tensors.filter((t) => t.buffer === 0).every((t) => t.type === TensorType.INT8)).toBe(true);
  });

  it('makes a one-op tiny model (float ADD by default, int8 on request)', () => {
    const f = tinyModel();
    expect(graph(f).operators).toHaveLength(1);
    expect(f.operatorCodes).toEqual([{ builtinCode: BuiltinOperator.ADD, version: 1 }]);
    expect(graph(f).tensors.map((t) => [t.type, t.shape])).toEqual([
      [TensorType.FLOAT32, [1]],
      [TensorType.FLOAT32, [1]],
    ]);
    const q = tinyModel({ type: 'int8', shape: [1, 4] });
    expect(q.operatorCodes).toEqual([{ builtinCode: BuiltinOperator.ADD, version: 2 }]);
    expect(graph(q).tensors.every((t) => t.type === TensorType.INT8 && t.quantization !== undefined)).toBe(
      true,
    );
    expect(writeModel(f).length).toBeLessThan(1024);
  });

  it('counts ops, tensors and parameter bytes', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 4, 3]);
    b.output(b.conv2d(x, { filters: 5, kernel: 3 }));
    expect(b.opCount).toBe(1);
    expect(b.tensorCount).toBe(4);
    expect(b.parameterBytes).toBe(5 * 3 * 3 * 3 + 5 * 4);
  });
});

describe('GraphBuilder determinism', () => {
  function deepNet(seed: number): Uint8Array {
    const b = new GraphBuilder({ seed });
    let x = b.input('x', [1, 16, 16, 3]);
    x = b.conv2d(x, { filters: 16, kernel: 3, stride: 2, activation: 'relu6' });
    for (let i = 0; i < 4; i++) {
      x = b.add(
        x,
        b.conv2d(b.depthwiseConv2d(x, { kernel: 3, activation: 'relu6' }), { filters: 16, kernel: 1 }),
      );
    }
    b.output(b.softmax(b.fullyConnected(b.mean(x), { units: 300 })));
    return writeModel(b.build());
  }

  it('produces byte-identical models for the same calls and seed', () => {
    expect(deepNet(42)).toEqual(deepNet(42));
    expect(writeModel(buildTestNet(7))).toEqual(writeModel(buildTestNet(7)));
  });

  it('produces different weights for a different seed', () => {
    expect(deepNet(42)).not.toEqual(deepNet(43));
  });

  it('gives the seeded generator a reproducible, well-spread stream', () => {
    const a = new SeededRandom(1);
    const b = new SeededRandom(1);
    const xs = Array.from({ length: 1000 }, () => a.nextFloat());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.nextFloat()));
    expect(xs.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(new SeededRandom(2).nextUint32()).not.toBe(new SeededRandom(1).nextUint32());
    const w = new Int8Array(100_001);
    new SeededRandom(3).fillTriangularInt8(w);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-127);
    expect(Math.max(...w)).toBeLessThanOrEqual(127);
    expect(Math.abs(w.reduce((s, v) => s + v, 0) / w.length)).toBeLessThan(1);
  });
});

describe('GraphBuilder validation', () => {
  const setup = () => {
    const b = new GraphBuilder();
    return { b, x: b.input('x', [1, 8, 8, 4]) };
  };

  it('rejects tensors of the wrong rank', () => {
    const { b, x } = setup();
    const flat = b.reshape(x, [1, -1]);
    expectInvalid(() => b.conv2d(flat, { filters: 2, kernel: 1 }), /rank-4 NHWC.*shape \[1, 256\]/);
    expectInvalid(() => b.depthwiseConv2d(flat, { kernel: 3 }), /rank-4/);
    expectInvalid(() => b.maxPool2d(flat, { size: 2 }), /rank-4/);
  });

  it('rejects mismatched channels for add, mul and concatenation', () => {
    const { b, x } = setup();
    const y = b.conv2d(x, { filters: 3, kernel: 1 });
    expectInvalid(() => b.add(x, y), /broadcast-compatible.*\[1, 8, 8, 4\] and .*\[1, 8, 8, 3\]/);
    expectInvalid(() => b.mul(x, y), /broadcast-compatible/);
    expectInvalid(
      () => b.concatenation([x, y], { axis: 1 }),
      /all dimensions but axis 1 equal.*\[1, 8, 8, 3\]/,
    );
    expectInvalid(() => b.concatenation([x, b.reshape(x, [1, 64, 4])]), /input 1/);
    expectInvalid(() => b.concatenation([x], { axis: 4 }), /axis/);
    expectInvalid(() => b.concatenation([]), /non-empty array/);
  });

  it('rejects bad kernels, strides, padding, dilation and activations', () => {
    const { b, x } = setup();
    expectInvalid(() => b.conv2d(x, { filters: 2, kernel: 0 }), /an integer ≥ 1 for conv2d .* kernel/);
    expectInvalid(() => b.conv2d(x, { filters: 2, kernel: 3, stride: 1.5 }), /stride but received 1.5/);
    expectInvalid(() => b.conv2d(x, { filters: 0, kernel: 1 }), /filters/);
    expectInvalid(
      () => b.conv2d(x, { filters: 2, kernel: [3, 3, 3] as unknown as [number, number] }),
      /pair/,
    );
    expectInvalid(() => b.conv2d(x, { filters: 2, kernel: 9, padding: 'valid' }), /effective kernel size 9/);
    expectInvalid(
      () => b.conv2d(x, { filters: 2, kernel: 3, dilation: 4, padding: 'valid' }),
      /effective kernel size 9/,
    );
    expectInvalid(() => b.conv2d(x, { filters: 2, kernel: 1, padding: 'full' as 'same' }), /'same', 'valid'/);
    expectInvalid(() => b.conv2d(x, { filters: 2, kernel: 1, activation: 'tanh' as 'relu' }), /activation/);
    expectInvalid(() => b.depthwiseConv2d(x, { kernel: 3, multiplier: -1 }), /multiplier/);
    expectInvalid(() => b.maxPool2d(x, { size: 9 }), /effective kernel size 9/);
    expectInvalid(() => b.conv2d(x, undefined as unknown as { filters: 1; kernel: 1 }), /options object/);
  });

  it('rejects bad reshape, pad, mean, softmax and fully connected arguments', () => {
    const { b, x } = setup();
    expectInvalid(() => b.reshape(x, [1, 100]), /256 elements/);
    expectInvalid(() => b.reshape(x, [-1, -1]), /at most one/);
    expectInvalid(() => b.reshape(x, [3, -1]), /divide 256/);
    expectInvalid(() => b.pad(x, [[0, 0]]), /4 \[before, after\] pairs/);
    expectInvalid(
      () =>
        b.pad(x, [
          [0, 0],
          [-1, 0],
          [0, 0],
          [0, 0],
        ]),
      /paddings\[1\]/,
    );
    expectInvalid(() => b.mean(x, [4]), /axis in \[-4, 3\]/);
    expectInvalid(() => b.mean(x, []), /non-empty array of axes/);
    expectInvalid(() => b.softmax(x, { beta: 0 }), /beta/);
    expectInvalid(() => b.fullyConnected(b.mean(x, [1, 2, 3]), { units: 2 }), /rank 2 or more/);
    expectInvalid(() => b.fullyConnected(b.reshape(x, [1, -1]), { units: 0 }), /units/);
  });

  it('rejects handles from another builder, non-handles and non-int8 boundary tensors', () => {
    const { b } = setup();
    const other = new GraphBuilder().input('x', [1, 8, 8, 4]);
    expectInvalid(
      () => b.conv2d(other, { filters: 2, kernel: 1 }),
      /tensor handle returned by this GraphBuilder/,
    );
    expectInvalid(() => b.add({ index: 0, name: 'x', shape: [1, 8, 8, 4] }, other), /tensor handle/);
    expectInvalid(() => b.output(null as unknown as TensorHandle), /received null/);
    const c = new GraphBuilder();
    const f = c.output(c.input('f', [1, 2]), { type: 'float32' });
    expectInvalid(() => c.fullyConnected(f, { units: 2 }), /int8 activation tensor/);
  });

  it('rejects bad inputs, duplicate names and incomplete graphs', () => {
    const b = new GraphBuilder();
    expectInvalid(() => b.build(), /at least one input/);
    expectInvalid(() => b.input('a', [1, 0, 3]), /positive integers/);
    expectInvalid(() => b.input('a', [1, 2], { scale: 0 }), /scale/);
    expectInvalid(() => b.input('a', [1, 2], { zeroPoint: 200 }), /integer in \[-128, 127\]/);
    expectInvalid(() => b.input('a', [1, 2], { type: 'float32', range: [1, -1] }), /min < max/);
    expectInvalid(() => b.input('a', [1, 2], { type: 'int4' as 'int8' }), /type/);
    const x = b.input('a', [1, 2]);
    expectInvalid(() => b.build(), /at least one output/);
    expectInvalid(() => b.input('a', [1, 2]), /tensor name not used before.*"a"/);
    b.fullyConnected(x, { units: 2, name: 'dense' });
    expectInvalid(() => b.fullyConnected(x, { units: 2, name: 'dense' }), /layer name not used before/);
    expectInvalid(() => new GraphBuilder({ seed: Number.NaN }), /seed/);
    expectInvalid(() => new GraphBuilder({ gain: -1 }), /gain/);
    expectInvalid(() => tinyModel({ shape: [] }), /tinyModel shape/);
  });
});
