// GraphBuilder.batchNorm: an unfoldable inference batch norm as MUL + ADD by constant int8 vectors (how the
// converter emits the pre-activation of ResNet v2). Structure, quantization, Edge TPU mapping, validation, and
// the numbers on the real TFLite 2.9 runtime against a float reference from the model's own constants.
import { SeededRandom } from '@swapless/core';
import {
  analyzeModel,
  builtinOperatorName,
  type Tensor,
  TensorType,
  type TfliteModel,
  writeModel,
} from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, INT8_OP_VERSIONS } from './builder.js';
import { expectInvalid } from './invalid.test-util.js';
import { openInterpreter } from './runtime.test-util.js';

/** input [1,6,6,8] → conv → add (residual) → batchNorm(relu) → output. */
function preactModel(seed = 3): TfliteModel {
  const b = new GraphBuilder({ seed, name: 'preact' });
  const x = b.input('input', [1, 6, 6, 8]);
  const y = b.conv2d(x, { name: 'conv', filters: 8, kernel: 3 });
  const r = b.add(x, y, { name: 'residual' });
  b.output(b.batchNorm(r, { name: 'bn', activation: 'relu' }));
  return b.build();
}

const g = (m: TfliteModel) => m.subgraphs[0]!;
const byName = (m: TfliteModel, name: string): Tensor => g(m).tensors.find((t) => t.name === name)!;
const int8Of = (m: TfliteModel, t: Tensor): Int8Array => {
  const d = m.buffers[t.buffer]!.data!;
  return new Int8Array(d.buffer, d.byteOffset, d.byteLength);
};
const deq = (t: Tensor, q: number): number =>
  t.quantization!.scale![0]! * (q - Number(t.quantization!.zeroPoint![0]!));

describe('GraphBuilder.batchNorm', () => {
  it('emits MUL then ADD (fused activation) with constant int8 [C] operands, per-tensor quantized', () => {
    const m = preactModel();
    const ops = g(m).operators.map((op) => builtinOperatorName(m.operatorCodes[op.opcodeIndex]!.builtinCode));
    expect(ops).toEqual(['CONV_2D', 'ADD', 'MUL', 'ADD']);
    const [mul, add] = g(m).operators.slice(2);
    const scale = byName(m, 'bn/scale');
    const offset = byName(m, 'bn/offset');
    expect(g(m).tensors[mul!.inputs[1]!]).toBe(scale);
    expect(g(m).tensors[mul!.outputs[0]!]!.name).toBe('bn/mul');
    expect(g(m).tensors[add!.inputs[1]!]).toBe(offset);
    expect(g(m).tensors[add!.outputs[0]!]!.name).toBe('bn');
    expect(add!.builtinOptions!.fields.fusedActivationFunction).toBe(1);
    for (const t of [scale, offset]) {
      expect(t.type).toBe(TensorType.INT8);
      expect(t.shape).toEqual([8]);
      expect(t.quantization!.scale).toHaveLength(1);
      expect(m.buffers[t.buffer]!.data!.byteLength).toBe(8);
    }
    // A batch norm's scale is positive (γ > 0 over a standard deviation).
    expect(Array.from(int8Of(m, scale), (q) => deq(scale, q)).every((v) => v > 0)).toBe(true);
    // ReLU output: zero point −128 (range [0, hi]).
    expect(Number(byName(m, 'bn').quantization!.zeroPoint![0])).toBe(-128);
    const versions = m.operatorCodes.map((c) => [builtinOperatorName(c.builtinCode), c.version]);
    expect(versions).toContainEqual(['ADD', INT8_OP_VERSIONS.ADD]);
    expect(versions.some(([n, v]) => n === 'MUL' && (v === 2 || v === 3))).toBe(true);
  });

  it('maps to the Edge TPU and counts its constants as parameters', () => {
    const m = preactModel();
    const a = analyzeModel(m);
    expect(a.edgetpuPrefix.length).toBe(a.ops.length);
    // conv 8·3·3·8 + 8 bias, then 8 + 8 batch-norm constants.
    expect(a.totals.params).toBe(8 * 9 * 8 + 8 + 16);
  });

  it('is deterministic per seed and validates its arguments', () => {
    expect(Buffer.from(writeModel(preactModel(5)))).toEqual(Buffer.from(writeModel(preactModel(5))));
    expect(Buffer.from(writeModel(preactModel(5)))).not.toEqual(Buffer.from(writeModel(preactModel(6))));
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4, 4, 2]);
    const other = new GraphBuilder().input('y', [1, 4, 4, 2]);
    for (const fn of [
      () => b.batchNorm(other),
      () => b.batchNorm(x, { activation: 'tanh' as 'relu' }),
      () => b.batchNorm(x, null as unknown as object),
    ]) {
      expectInvalid(fn);
    }
  });

  for (const xnnpack of [true, false]) {
    it(`computes relu(scale·x + offset) on the runtime within two steps (XNNPACK ${xnnpack ? 'on' : 'off'})`, () => {
      const b = new GraphBuilder({ seed: 9, name: 'bn-only' });
      const x = b.input('input', [1, 8, 8, 16]);
      b.output(b.batchNorm(x, { name: 'bn', activation: 'relu' }));
      const m = b.build();
      const input = new Int8Array(8 * 8 * 16);
      new SeededRandom(4).fillUniformInt8(input);
      const it = openInterpreter(writeModel(m), { threads: 1, xnnpack });
      let out: Int8Array;
      try {
        it.setInput(0, input);
        it.invoke();
        out = it.getOutput(0) as Int8Array;
      } finally {
        it.dispose();
      }
      const tIn = byName(m, 'input');
      const tOut = byName(m, 'bn');
      const sc = byName(m, 'bn/scale');
      const of = byName(m, 'bn/offset');
      const scales = Array.from(int8Of(m, sc), (q) => deq(sc, q));
      const offsets = Array.from(int8Of(m, of), (q) => deq(of, q));
      const outScale = tOut.quantization!.scale![0]!;
      const mulScale = byName(m, 'bn/mul').quantization!.scale![0]!;
      let distinct = new Set<number>();
      for (let i = 0; i < input.length; i++) {
        const c = i % 16;
        const want = Math.max(0, scales[c]! * deq(tIn, input[i]!) + offsets[c]!);
        const got = deq(tOut, out[i]!);
        // One rounding step at the MUL output and one at the ADD output.
        expect(Math.abs(got - want), `element ${i}`).toBeLessThanOrEqual(mulScale + outScale + 1e-6);
        distinct = distinct.add(out[i]!);
      }
      expect(distinct.size).toBeGreaterThan(64);
    });
  }
});
