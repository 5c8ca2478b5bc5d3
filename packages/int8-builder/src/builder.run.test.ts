// Runs GraphBuilder models on the real TFLite 2.9 runtime (the bytes as written: runtime.test-util.ts): interpreter creation
// validates op versions and quantization constraints, invoke checks the numbers. These tests need the writer
// and the native runtime and fail (never skip) when either is missing.

import { SeededRandom } from '@swapless/core';
import { type Tensor, type TfliteModel, writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { buildTestNet, type FusedActivation, GraphBuilder, type TensorHandle, tinyModel } from './builder.js';
import { type TensorArray, withInterpreter } from './runtime.test-util.js';

const SETTINGS = [{ xnnpack: true }, { xnnpack: false }] as const;

function randomInput(length: number, seed: number): Int8Array {
  const a = new Int8Array(length);
  new SeededRandom(seed).fillUniformInt8(a);
  return a;
}

/** Runs a model with the given inputs; returns every output. */
function run(model: TfliteModel, inputs: TensorArray[], xnnpack: boolean): TensorArray[] {
  return withInterpreter(writeModel(model), { xnnpack }, (it) => {
    inputs.forEach((data, i) => {
      it.setInput(i, data);
    });
    it.invoke();
    return it.outputs.map((_, i) => it.getOutput(i));
  });
}

/** Distinct values and the share of saturated values (−128 or 127) of an int8 feature map. */
function spread(a: Int8Array): { distinct: number; saturated: number } {
  const seen = new Set<number>();
  let saturated = 0;
  for (const v of a) {
    seen.add(v);
    if (v === -128 || v === 127) saturated++;
  }
  return { distinct: seen.size, saturated: saturated / a.length };
}

// ----- a plain reference for int8 conv / depthwise / fully connected, from the built model's own tensors

function int8Data(m: TfliteModel, t: Tensor): Int8Array {
  const d = m.buffers[t.buffer]!.data!;
  return new Int8Array(d.buffer, d.byteOffset, d.byteLength);
}

function int32Data(m: TfliteModel, t: Tensor): Int32Array {
  const d = m.buffers[t.buffer]!.data!;
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  return Int32Array.from({ length: d.byteLength / 4 }, (_, i) => view.getInt32(i * 4, true));
}

function requantize(acc: number, realMultiplier: number, zp: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.round(acc * realMultiplier) + zp));
}

function activationBounds(act: FusedActivation, scale: number, zp: number): [number, number] {
  if (act === 'none') return [-128, 127];
  const lo = Math.max(-128, zp);
  return act === 'relu' ? [lo, 127] : [lo, Math.min(127, zp + Math.round(6 / scale))];
}

/** The single op of `model` (conv or depthwise, NHWC), evaluated in exact integer arithmetic + one rounding. */
function referenceConv(
  model: TfliteModel,
  input: Int8Array,
  act: FusedActivation,
  depthwise: boolean,
): Int8Array {
  const g = model.subgraphs[0]!;
  const op = g.operators[0]!;
  const [tin, tw, tb] = op.inputs.map((i) => g.tensors[i]!);
  const tout = g.tensors[op.outputs[0]!]!;
  const f = op.builtinOptions!.fields as Record<string, number>;
  const [, h, w, c] = tin!.shape as [number, number, number, number];
  const [, oh, ow, oc] = tout.shape as [number, number, number, number];
  const kh = tw!.shape[1]!;
  const kw = tw!.shape[2]!;
  const sh = f.strideH!;
  const sw = f.strideW!;
  const dh = f.dilationHFactor!;
  const dwf = f.dilationWFactor!;
  const same = f.padding === 0;
  const padTop = same ? Math.floor(Math.max(0, (oh - 1) * sh + (kh - 1) * dh + 1 - h) / 2) : 0;
  const padLeft = same ? Math.floor(Math.max(0, (ow - 1) * sw + (kw - 1) * dwf + 1 - w) / 2) : 0;
  const weights = int8Data(model, tw!);
  const bias = int32Data(model, tb!);
  const inQ = tin!.quantization!;
  const outQ = tout.quantization!;
  const wScales = tw!.quantization!.scale!;
  const zpIn = inQ.zeroPoint![0]!;
  const [lo, hi] = activationBounds(act, outQ.scale![0]!, outQ.zeroPoint![0]!);
  const mult = depthwise ? oc / c : 1;
  const out = new Int8Array(oh * ow * oc);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      for (let o = 0; o < oc; o++) {
        let acc = bias[o]!;
        for (let ky = 0; ky < kh; ky++) {
          const iy = y * sh - padTop + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = x * sw - padLeft + kx * dwf;
            if (ix < 0 || ix >= w) continue;
            const base = (iy * w + ix) * c;
            if (depthwise) {
              const ic = Math.floor(o / mult);
              acc += weights[(ky * kw + kx) * oc + o]! * (input[base + ic]! - zpIn);
            } else {
              for (let ic = 0; ic < c; ic++) {
                acc += weights[((o * kh + ky) * kw + kx) * c + ic]! * (input[base + ic]! - zpIn);
              }
            }
          }
        }
        const m = (inQ.scale![0]! * wScales[o]!) / outQ.scale![0]!;
        out[(y * ow + x) * oc + o] = requantize(acc, m, outQ.zeroPoint![0]!, lo, hi);
      }
    }
  }
  return out;
}

function referenceFullyConnected(model: TfliteModel, input: Int8Array, act: FusedActivation): Int8Array {
  const g = model.subgraphs[0]!;
  const op = g.operators[0]!;
  const [tin, tw, tb] = op.inputs.map((i) => g.tensors[i]!);
  const tout = g.tensors[op.outputs[0]!]!;
  const [units, inDim] = tw!.shape as [number, number];
  const weights = int8Data(model, tw!);
  const bias = int32Data(model, tb!);
  const zpIn = tin!.quantization!.zeroPoint![0]!;
  const outQ = tout.quantization!;
  const m = (tin!.quantization!.scale![0]! * tw!.quantization!.scale![0]!) / outQ.scale![0]!;
  const [lo, hi] = activationBounds(act, outQ.scale![0]!, outQ.zeroPoint![0]!);
  const batch = input.length / inDim;
  const out = new Int8Array(batch * units);
  for (let b = 0; b < batch; b++) {
    for (let u = 0; u < units; u++) {
      let acc = bias[u]!;
      for (let i = 0; i < inDim; i++) acc += weights[u * inDim + i]! * (input[b * inDim + i]! - zpIn);
      out[b * units + u] = requantize(acc, m, outQ.zeroPoint![0]!, lo, hi);
    }
  }
  return out;
}

function maxAbsDiff(a: Int8Array, b: Int8Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

// ----- tests

describe('GraphBuilder models on the TFLite runtime', () => {
  it('creates interpreters for the op-coverage test net with XNNPACK on and off and outputs probabilities', () => {
    const model = buildTestNet(5);
    const input = randomInput(16 * 16 * 3, 1);
    const results = SETTINGS.map(({ xnnpack }) =>
      withInterpreter(writeModel(model), { xnnpack }, (it) => {
        expect(it.backend.xnnpack).toBe(xnnpack);
        expect(it.inputs.map((t) => [t.type, t.shape])).toEqual([['INT8', [1, 16, 16, 3]]]);
        expect(it.outputs.map((t) => [t.type, t.shape])).toEqual([['INT8', [1, 10]]]);
        expect(it.outputs[0]!.quantization).toEqual({ scale: 1 / 256, zeroPoint: -128 });
        it.setInput(0, input);
        it.invoke();
        return it.getOutput(0) as Int8Array;
      }),
    );
    for (const out of results) {
      const total = Array.from(out).reduce((s, q) => s + (q + 128) / 256, 0);
      expect(total).toBeGreaterThan(0.9);
      expect(total).toBeLessThan(1.1);
      expect(new Set(out).size).toBeGreaterThan(3);
    }
    // XNNPACK and the builtin kernels round differently in places, never by more than a few steps.
    expect(maxAbsDiff(results[0]!, results[1]!)).toBeLessThanOrEqual(4);
  });

  it('keeps a deep conv/depthwise/residual network out of saturation for a random input', () => {
    const b = new GraphBuilder({ seed: 11, name: 'deep' });
    let x = b.input('input', [1, 64, 64, 3]);
    x = b.conv2d(x, { filters: 16, kernel: 3, stride: 2, activation: 'relu6' });
    const checkpoints: TensorHandle[] = [];
    let channels = 16;
    for (let block = 0; block < 10; block++) {
      const expand = b.conv2d(x, { filters: channels * 4, kernel: 1, activation: 'relu6' });
      const stride = block % 4 === 3 ? 2 : 1;
      const dw = b.depthwiseConv2d(expand, { kernel: 3, stride, activation: 'relu6' });
      const outChannels = stride === 2 ? channels * 2 : channels;
      const project = b.conv2d(dw, { filters: outChannels, kernel: 1 });
      x = stride === 1 ? b.add(x, project) : project;
      channels = outChannels;
      checkpoints.push(x);
    }
    const features = b.conv2d(x, { filters: 128, kernel: 1, name: 'features' });
    for (const t of [...checkpoints, features]) b.output(t);
    const model = b.build();
    expect(model.subgraphs[0]!.operators.length).toBeGreaterThanOrEqual(31);
    const input = randomInput(64 * 64 * 3, 2);
    for (const { xnnpack } of SETTINGS) {
      const outputs = run(model, [input], xnnpack) as Int8Array[];
      expect(outputs).toHaveLength(11);
      outputs.forEach((out, i) => {
        const s = spread(out);
        expect(s.distinct, `output ${i} distinct values`).toBeGreaterThan(20);
        expect(s.saturated, `output ${i} saturated share`).toBeLessThan(0.5);
      });
      expect(outputs[10]!.length).toBe(8 * 8 * 128);
    }
  });

  it('runs every op kind, uint8/float32 boundaries and requantized concatenations', () => {
    const b = new GraphBuilder({ seed: 3, name: 'every-op' });
    const image = b.input('image', [1, 24, 24, 3], { type: 'uint8', scale: 1 / 255, zeroPoint: 0 });
    const aux = b.input('aux', [1, 8], { type: 'float32', range: [-2, 2] });
    let x = b.pad(image, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
    x = b.conv2d(x, { filters: 16, kernel: 3, stride: 2, padding: 'valid', activation: 'relu' });
    x = b.hardSwish(x);
    const squeeze = b.mean(x, { keepDims: true });
    const gate = b.logistic(
      b.conv2d(b.conv2d(squeeze, { filters: 4, kernel: 1, activation: 'relu' }), { filters: 16, kernel: 1 }),
    );
    x = b.mul(x, gate);
    const dw = b.depthwiseConv2d(x, { kernel: 5, multiplier: 2, stride: 2, activation: 'relu6' });
    const branch = b.conv2d(x, { filters: 8, kernel: 3, stride: 2, dilation: 1 });
    const cat = b.concatenation([dw, branch]);
    const pooled = b.avgPool2d(b.maxPool2d(cat, { size: 2, stride: 1, padding: 'same' }), { size: 2 });
    const vec = b.reshape(b.mean(pooled), [1, 40]);
    const fc = b.fullyConnected(vec, { units: 8, activation: 'relu' });
    const mixed = b.concatenation([fc, aux], { axis: 1 });
    const probs = b.softmax(b.fullyConnected(mixed, { units: 5 }));
    b.output(probs, { type: 'float32', name: 'probs' });
    b.output(mixed, { type: 'uint8' });
    b.output(cat);
    const model = b.build();
    const rng = new SeededRandom(9);
    const img = new Uint8Array(24 * 24 * 3).map(() => rng.nextUint32() & 0xff);
    const auxIn = new Float32Array(8).map(() => rng.uniform(-2, 2));
    for (const { xnnpack } of SETTINGS) {
      withInterpreter(writeModel(model), { xnnpack }, (it) => {
        expect(it.inputs.map((t) => [t.type, t.shape])).toEqual([
          ['UINT8', [1, 24, 24, 3]],
          ['FLOAT32', [1, 8]],
        ]);
        expect(it.outputs.map((t) => [t.name, t.type, t.shape])).toEqual([
          ['probs', 'FLOAT32', [1, 5]],
          ['concatenate_1/uint8', 'UINT8', [1, 16]],
          ['concatenate', 'INT8', [1, 6, 6, 40]],
        ]);
        it.setInput(0, img);
        it.setInput(1, auxIn);
        it.invoke();
        const p = it.getOutput(0) as Float32Array;
        expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 1);
        const mixedOut = it.getOutput(1) as Uint8Array;
        // The float input was requantized into the shared range: its 8 values are not clipped.
        const q = it.outputs[1]!.quantization!;
        const auxBack = Array.from(mixedOut.slice(8), (v) => q.scale * (v - q.zeroPoint));
        auxBack.forEach((v, i) => {
          expect(Math.abs(v - auxIn[i]!)).toBeLessThan(2 * q.scale + 4 / 255);
        });
        const s = spread(it.getOutput(2) as Int8Array);
        expect(s.distinct).toBeGreaterThan(20);
        expect(s.saturated).toBeLessThan(0.5);
      });
    }
  });

  it('matches an integer reference for conv, depthwise and fully connected (≤ 1 step)', () => {
    const cases: { act: FusedActivation; make: (b: GraphBuilder, x: TensorHandle) => TensorHandle }[] = [
      {
        act: 'relu6',
        make: (b, x) => b.conv2d(x, { filters: 7, kernel: 3, stride: 2, activation: 'relu6' }),
      },
      {
        act: 'none',
        make: (b, x) => b.conv2d(x, { filters: 4, kernel: [2, 3], padding: 'valid', dilation: 2 }),
      },
      { act: 'relu', make: (b, x) => b.depthwiseConv2d(x, { kernel: 3, multiplier: 3, activation: 'relu' }) },
      { act: 'none', make: (b, x) => b.depthwiseConv2d(x, { kernel: 5, stride: 2, padding: 'valid' }) },
    ];
    for (const [i, c] of cases.entries()) {
      const b = new GraphBuilder({ seed: 20 + i });
      const x = b.input('x', [1, 9, 11, 5], { scale: 0.02, zeroPoint: 3 });
      b.output(c.make(b, x));
      const model = b.build();
      const input = randomInput(9 * 11 * 5, i);
      const depthwise = model.subgraphs[0]!.tensors[1]!.quantization!.quantizedDimension === 3;
      const expected = referenceConv(model, input, c.act, depthwise);
      for (const { xnnpack } of SETTINGS) {
        const [out] = run(model, [input], xnnpack) as Int8Array[];
        expect(maxAbsDiff(out!, expected), `case ${i} xnnpack ${xnnpack}`).toBeLessThanOrEqual(1);
        expect(new Set(out).size).toBeGreaterThan(10);
      }
    }
    const b = new GraphBuilder({ seed: 30 });
    const x = b.input('x', [3, 40]);
    b.output(b.fullyConnected(x, { units: 12, activation: 'relu6' }));
    const model = b.build();
    const input = randomInput(120, 5);
    const expected = referenceFullyConnected(model, input, 'relu6');
    for (const { xnnpack } of SETTINGS) {
      const [out] = run(model, [input], xnnpack) as Int8Array[];
      expect(maxAbsDiff(out!, expected)).toBeLessThanOrEqual(1);
    }
  });

  it('runs the tiny models: float x + x and int8 x + x', () => {
    for (const { xnnpack } of SETTINGS) {
      const [y] = run(tinyModel(), [new Float32Array([1.25])], xnnpack) as Float32Array[];
      expect(Array.from(y!)).toEqual([2.5]);
      // int8: in scale 1/128, out scale 1/64, so q_out = q_in for every value.
      const q = new Int8Array([-128, -5, 0, 7, 127]);
      const [z] = run(tinyModel({ type: 'int8', shape: [5] }), [q], xnnpack) as Int8Array[];
      expect(Array.from(z!)).toEqual(Array.from(q));
    }
  });
});
