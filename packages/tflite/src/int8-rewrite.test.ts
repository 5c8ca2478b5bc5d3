// The uint8 → int8 rewrite, structurally: what it decides, what it converts and how, and that it leaves the input
// model and the model's interface alone. Runtime checks (accuracy, chaining) are in int8-rewrite.run.test.ts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { analyzeModel } from './analysis.js';
import { int8CutMap, planInt8Rewrite, rewriteToInt8 } from './int8-rewrite.js';
import { convOptions, OPTIONS, Uint8Graph, uint8Net } from './int8-rewrite.test-util.js';
import { TensorType, type TfliteModel } from './model.js';
import { builtinOperatorName, BuiltinOperator as OP } from './ops.js';
import { readModel } from './reader.js';
import { writeModel } from './writer.js';

const coral = (name: string): TfliteModel =>
  readModel(
    new Uint8Array(
      readFileSync(fileURLToPath(new URL(`../../../fixtures/models/coral/${name}`, import.meta.url))),
    ),
  );
const V2 = 'mobilenet_v2_1.0_224_quant.tflite';

function opNames(model: TfliteModel): string[] {
  return model.subgraphs[0]!.operators.map((op) =>
    builtinOperatorName(model.operatorCodes[op.opcodeIndex]!.builtinCode),
  );
}

function int8Values(model: TfliteModel, tensor: number): Int8Array {
  const data = model.buffers[model.subgraphs[0]!.tensors[tensor]!.buffer]!.data!;
  return new Int8Array(data.buffer, data.byteOffset, data.byteLength);
}

describe('planInt8Rewrite', () => {
  it("finds the 63 ops XNNPACK's unsigned path refuses in Coral's uint8 MobileNet v2", () => {
    const plan = planInt8Rewrite(coral(V2));
    expect(plan.xnnpackRefused).toBe(63); // 36 CONV_2D + 17 DEPTHWISE_CONV_2D + 10 ADD
    expect(plan.rewrite).toHaveLength(64); // and the RESHAPE between the last conv and SOFTMAX
    expect(plan.kept.map((k) => [k.op, k.type])).toEqual([
      [62, 'AVERAGE_POOL_2D'],
      [65, 'SOFTMAX'],
    ]);
    expect(plan.kept[0]!.reason).toMatch(/rounds ties/);
  });

  it('finds nothing to do in an int8 model', () => {
    const plan = planInt8Rewrite(coral('tf2_mobilenet_v2_1.0_224_ptq.tflite'));
    // Only the QUANTIZE ops at the uint8 edges touch uint8, and they stay.
    expect(plan).toMatchObject({ rewrite: [], xnnpackRefused: 0 });
    expect(plan.kept.map((k) => k.type)).toEqual(['QUANTIZE', 'QUANTIZE']);
  });

  it('keeps ops whose own tensors do not allow the int8 form, and says why', () => {
    const g = new Uint8Graph();
    const a = g.u8('a', { shape: [1, 2, 2, 4], q: [0.1, 100] });
    const b = g.u8('b', { shape: [1, 2, 2, 4], q: [0.2, 100] });
    const cat = g.u8('cat', { shape: [1, 2, 2, 8], q: [0.1, 100] });
    g.op(OP.CONCATENATION, [a, b], [cat], OPTIONS.concat);
    const w = g.u8('w', { shape: [4, 8] }); // weights computed at run time
    const y = g.u8('y', { shape: [1, 4] });
    g.op(OP.FULLY_CONNECTED, [cat, w, -1], [y], OPTIONS.fc);
    const plan = planInt8Rewrite(g.model([a, b, w], [y]));
    expect(plan.rewrite).toEqual([]);
    expect(plan.kept.map((k) => k.reason)).toEqual([
      'an input is quantized differently from the output',
      'the weights are not constant',
    ]);
  });

  it('rejects what is not a model', () => {
    expect(() => planInt8Rewrite(null as unknown as TfliteModel)).toThrow(InvalidArgumentError);
    expect(() => rewriteToInt8({} as TfliteModel)).toThrow(
      /^Expected a TfliteModel for rewriteToInt8\(model\)/,
    );
  });
});

describe('rewriteToInt8 on a uint8 network covering every rule', () => {
  const model = uint8Net();
  const before = writeModel(model);
  const { model: out, report } = rewriteToInt8(model);
  const graph = out.subgraphs[0]!;
  const original = model.subgraphs[0]!;

  it('never modifies its input', () => {
    expect(Buffer.compare(Buffer.from(writeModel(model)), Buffer.from(before))).toBe(0);
  });

  it('keeps the interface: the same input and output tensors, names, types and quantization', () => {
    expect(graph.inputs).toEqual(original.inputs);
    expect(graph.outputs).toEqual(original.outputs);
    for (const t of [...graph.inputs, ...graph.outputs])
      expect(graph.tensors[t]).toEqual(original.tensors[t]);
  });

  it('rewrites every rule, keeps AVERAGE_POOL_2D and SOFTMAX, and converts at the edges', () => {
    expect(report.rewritten).toEqual({
      CONV_2D: 1,
      DEPTHWISE_CONV_2D: 1,
      ADD: 1,
      MAX_POOL_2D: 1,
      CONCATENATION: 1,
      MEAN: 1,
      RESHAPE: 1,
      LOGISTIC: 1,
      FULLY_CONNECTED: 1,
    });
    expect(report.kept.map((k) => k.type)).toEqual(['AVERAGE_POOL_2D', 'SOFTMAX']);
    expect(opNames(out)).toEqual([
      'QUANTIZE', // input uint8 → int8
      'CONV_2D',
      'DEPTHWISE_CONV_2D',
      'ADD',
      'QUANTIZE', // sum int8 → uint8 for the kept AVERAGE_POOL_2D
      'AVERAGE_POOL_2D',
      'MAX_POOL_2D',
      'QUANTIZE', // avg uint8 → int8 for CONCATENATION
      'CONCATENATION',
      'MEAN',
      'RESHAPE',
      'LOGISTIC',
      'FULLY_CONNECTED',
      'QUANTIZE', // logits: int8 → the uint8 model output
      'SOFTMAX', // reads the uint8 output tensor
    ]);
    expect(report.conversions).toBe(4);
    expect(report.origin).toEqual([0, 0, 1, 2, 3, 3, 4, 5, 5, 6, 7, 8, 9, 9, 10]);
  });

  it('gives int8 tensors the same scale and the zero point − 128', () => {
    const sum = original.tensors.findIndex((t) => t.name === 'sum');
    expect(graph.tensors[sum]).toMatchObject({
      type: TensorType.INT8,
      quantization: { scale: [0.05], zeroPoint: [-118] },
    });
    const twin = graph.tensors.find((t) => t.name === 'input/int8')!;
    expect(twin.quantization).toMatchObject({ scale: [1 / 128], zeroPoint: [0] });
    const k = graph.operators[3]!.inputs[1]!;
    expect(Array.from(int8Values(out, k))).toEqual([0, 20, 40, 60, 80, 100, 120, 140].map((v) => v - 128));
  });

  it('makes conv weights symmetric per output channel, shifting losslessly where it can', () => {
    const conv = graph.operators[1]!;
    const w = graph.tensors[conv.inputs[1]!]!;
    expect(w.type).toBe(TensorType.INT8);
    expect(w.quantization!.quantizedDimension).toBe(0);
    expect(w.quantization!.zeroPoint).toEqual(new Array(8).fill(0));
    const source = original.tensors[original.operators[0]!.inputs[1]!]!;
    const raw = model.buffers[source.buffer]!.data!;
    const values = int8Values(out, conv.inputs[1]!);
    let lossless = 0;
    for (let c = 0; c < 8; c++) {
      const s = w.quantization!.scale![c]!;
      const deltas = Array.from(raw.subarray(c * 27, (c + 1) * 27), (v) => v - 120);
      const maxAbs = Math.max(...deltas.map(Math.abs));
      if (maxAbs <= 127) {
        lossless++;
        expect(s).toBe(0.02);
        expect(Array.from(values.subarray(c * 27, (c + 1) * 27))).toEqual(deltas);
      } else {
        expect(s).toBe(Math.fround((0.02 * maxAbs) / 127));
        deltas.forEach((d, i) => {
          expect(Math.abs(values[c * 27 + i]! * (s / 0.02) - d)).toBeLessThanOrEqual(maxAbs / 127 / 2 + 1e-9);
        });
      }
    }
    expect(lossless).toBeGreaterThan(0);
    expect(lossless).toBeLessThan(8);
    expect(report.maxWeightErrorLsb).toBeGreaterThan(0);
    expect(report.maxWeightErrorLsb).toBeLessThanOrEqual(1);
    expect(report.maxWeightError).toBeLessThanOrEqual(report.maxWeightErrorLsb * 0.02);
  });

  it('rescales the bias of requantized channels and gives it input scale × weight scale', () => {
    const conv = graph.operators[1]!;
    const w = graph.tensors[conv.inputs[1]!]!;
    const b = graph.tensors[conv.inputs[2]!]!;
    const data = out.buffers[b.buffer]!.data!;
    const bias = new Int32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    const raw = [100, -200, 300, -400, 500, -600, 700, -800];
    w.quantization!.scale!.forEach((s, c) => {
      expect(b.quantization!.scale![c]).toBe(Math.fround((1 / 128) * s));
      expect(bias[c]).toBe(s === 0.02 ? raw[c] : Math.round((raw[c]! * 0.02) / s));
    });
  });

  it('puts depthwise channels on dimension 3', () => {
    const dw = graph.operators[2]!;
    expect(graph.tensors[dw.inputs[1]!]!.quantization!.quantizedDimension).toBe(3);
    expect(graph.tensors[dw.inputs[2]!]!.quantization!.scale).toHaveLength(8);
  });

  it('requantizes FULLY_CONNECTED weights per tensor (what TFLite 2.9 takes)', () => {
    const fc = graph.operators[12]!;
    const w = graph.tensors[fc.inputs[1]!]!;
    expect(w.quantization!.scale).toHaveLength(1);
    expect(w.quantization!.zeroPoint).toEqual([0]);
    expect(fc.inputs[2]).toBe(-1); // an absent bias stays absent
  });

  it('reports the weights it converted', () => {
    expect(report).toMatchObject({ weightTensors: 3, channels: 8 + 8 + 1 });
    expect(report.requantizedWeightTensors).toBeGreaterThanOrEqual(2);
    expect(report.requantizedChannels).toBeGreaterThan(0);
  });

  it('leaves nothing for a second pass and writes a model the reader accepts', () => {
    expect(planInt8Rewrite(out).xnnpackRefused).toBe(0);
    expect(rewriteToInt8(out).report.opsRewritten).toBe(0);
    expect(() => readModel(writeModel(out))).not.toThrow();
  });

  it('maps cut points: the conversions an op needs go with it', () => {
    const map = int8CutMap(model, { model: out, report });
    expect(map).toEqual([0, 2, 3, 4, 6, 7, 9, 10, 11, 12, 14, 15]);
    expect(map).toHaveLength(analyzeModel(model).n + 1);
    expect(map.at(-1)).toBe(analyzeModel(out).n);
  });
});

describe('rewriteToInt8 verifies what it builds', () => {
  it('refuses to hand on a rewrite the verifier refuses (here: a stride of 0 it carried over)', () => {
    const model = coral('mobilenet_v1_0.25_128_quant.tflite');
    const conv = model.subgraphs[0]!.operators.find((op) => op.builtinOptions?.name === 'Conv2DOptions')!;
    conv.builtinOptions = { ...conv.builtinOptions!, fields: { ...conv.builtinOptions!.fields, strideH: 0 } };
    expect(() => rewriteToInt8(model)).toThrow(
      expect.objectContaining({
        code: 'SWAPLESS_INVALID_MODEL',
        details: expect.objectContaining({ rule: 'op-options' }),
      }),
    );
  });
});

describe('rewriteToInt8 shares converted weights', () => {
  it('converts a filter read by two convs once, in place', () => {
    const g = new Uint8Graph();
    const x = g.u8('x', { shape: [1, 4, 4, 4] });
    const w = g.weights('w', [4, 1, 1, 4], [0.02, 100], (i) => (i * 53) % 256);
    const b = g.int32('b', [0, 0, 0, 0], 0.05 * 0.02);
    const y = g.u8('y', { shape: [1, 4, 4, 4] });
    const z = g.u8('z', { shape: [1, 4, 4, 4] });
    g.op(OP.CONV_2D, [x, w, b], [y], convOptions());
    g.op(OP.CONV_2D, [y, w, b], [z], convOptions());
    const model = g.model([x], [z]);
    const { model: out, report } = rewriteToInt8(model);
    const ops = out.subgraphs[0]!.operators.filter((op) => op.inputs.length === 3);
    expect(ops[0]!.inputs[1]).toBe(w);
    expect(ops[1]!.inputs[1]).toBe(w);
    expect(report.weightTensors).toBe(1);
    // The shared bias gets one conversion per distinct input scale: here both are the same.
    expect(ops[0]!.inputs[2]).toBe(ops[1]!.inputs[2]);
    // The replaced uint8 weights are dropped, not carried along.
    expect(out.buffers[model.subgraphs[0]!.tensors[w]!.buffer]).toEqual({});
  });
});
