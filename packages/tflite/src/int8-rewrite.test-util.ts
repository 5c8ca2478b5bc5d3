// Test-only: small uint8-quantized graphs (legacy TF 1.x style: per-tensor uint8 weights with a zero point) for
// the int8 rewrite's tests. Not exported by the package.
import { TinyGraph } from './graph.test-util.js';
import type { BuiltinOptions } from './model.js';
import { TensorType, type TfliteModel } from './model.js';
import { BuiltinOperator as OP } from './ops.js';

/** A tensor of a {@link Uint8Graph}: uint8 with (scale, zero point) unless `type` says otherwise. */
export interface U8TensorSpec {
  shape: number[];
  /** Default UINT8. */
  type?: number;
  /** [scale, zeroPoint]; default [0.05, 128] for uint8, none for other types. */
  q?: [number, number] | null;
  /** Constant bytes (the tensor gets its own buffer). */
  data?: Uint8Array;
}

/** {@link TinyGraph} with uint8 tensors of any (scale, zero point), as the TF 1.x converter wrote them. */
export class Uint8Graph extends TinyGraph {
  u8(name: string, spec: U8TensorSpec): number {
    const type = spec.type ?? TensorType.UINT8;
    const t = this.tensor(name, spec.shape, {
      type,
      ...(spec.data === undefined ? {} : { data: spec.data }),
    });
    const q: [number, number] | null =
      spec.q === undefined ? (type === TensorType.UINT8 ? [0.05, 128] : null) : spec.q;
    if (q !== null)
      this.tensors[t]!.quantization = { scale: [q[0]], zeroPoint: [q[1]], quantizedDimension: 0 };
    return t;
  }

  /** Constant uint8 weights filled by `value(i)`. */
  weights(name: string, shape: number[], q: [number, number], value: (i: number) => number): number {
    const count = shape.reduce((a, b) => a * b, 1);
    return this.u8(name, { shape, q, data: Uint8Array.from({ length: count }, (_, i) => value(i)) });
  }

  /** Constant int32 values (a bias with `scale`, or shape/axes data without quantization). */
  int32(name: string, values: number[], scale?: number, shape = [values.length]): number {
    return this.u8(name, {
      shape,
      type: TensorType.INT32,
      q: scale === undefined ? null : [scale, 0],
      data: new Uint8Array(new Int32Array(values).buffer),
    });
  }
}

/** Conv2DOptions / DepthwiseConv2DOptions (SAME padding, stride 1, RELU6 fused unless told). */
export function convOptions(depthwise = false, fused = 3): BuiltinOptions {
  const fields: Record<string, number> = {
    padding: 0,
    strideW: 1,
    strideH: 1,
    fusedActivationFunction: fused,
    dilationWFactor: 1,
    dilationHFactor: 1,
  };
  if (depthwise) fields.depthMultiplier = 1;
  return depthwise
    ? { type: 2, name: 'DepthwiseConv2DOptions', fields }
    : { type: 1, name: 'Conv2DOptions', fields };
}

/** Options tables of the element-wise ops and pools used below. */
export const OPTIONS = {
  add: { type: 11, name: 'AddOptions', fields: { fusedActivationFunction: 0 } },
  sub: { type: 28, name: 'SubOptions', fields: { fusedActivationFunction: 0 } },
  mul: { type: 21, name: 'MulOptions', fields: { fusedActivationFunction: 0 } },
  fc: { type: 8, name: 'FullyConnectedOptions', fields: { fusedActivationFunction: 0, weightsFormat: 0 } },
  concat: { type: 10, name: 'ConcatenationOptions', fields: { axis: 3, fusedActivationFunction: 0 } },
  mean: { type: 27, name: 'ReducerOptions', fields: { keepDims: true } },
  resize: { type: 15, name: 'ResizeBilinearOptions', fields: {} },
  pool: {
    type: 5,
    name: 'Pool2DOptions',
    fields: {
      padding: 1,
      strideW: 2,
      strideH: 2,
      filterWidth: 2,
      filterHeight: 2,
      fusedActivationFunction: 0,
    },
  },
  softmax: { type: 9, name: 'SoftmaxOptions', fields: { beta: 1 } },
} satisfies Record<string, BuiltinOptions>;

/** Weights spanning the whole uint8 range (so some channels cannot be shifted losslessly). */
export function spread(i: number): number {
  return (i * 97 + 13) % 256;
}

/**
 * A uint8 network touching every rewrite rule and every conversion case: the model input feeds a conv (input
 * conversion), a depthwise conv, an ADD with a constant operand, a kept AVERAGE_POOL_2D
 * (uint8 copy of an int8 tensor), CONCATENATION of two tensors quantized alike, MAX_POOL_2D, MEAN, LOGISTIC, a
 * FULLY_CONNECTED without bias with requantized per-tensor weights, and two outputs: one produced by an int8 op (output
 * conversion) and the kept SOFTMAX's.
 */
export function uint8Net(): TfliteModel {
  const g = new Uint8Graph();
  const input = g.u8('input', { shape: [1, 8, 8, 3], q: [1 / 128, 128] });
  const w1 = g.weights('w1', [8, 3, 3, 3], [0.02, 120], spread);
  const b1 = g.int32('b1', [100, -200, 300, -400, 500, -600, 700, -800], (1 / 128) * 0.02);
  const c1 = g.u8('conv1', { shape: [1, 8, 8, 8], q: [0.03, 0] });
  g.op(OP.CONV_2D, [input, w1, b1], [c1], convOptions());
  const w2 = g.weights('w2', [1, 3, 3, 8], [0.05, 110], (i) => (i * 31 + 7) % 230);
  const b2 = g.int32('b2', [-50, 40, -30, 20, -10, 0, 10, 20], 0.03 * 0.05);
  const c2 = g.u8('dw2', { shape: [1, 8, 8, 8], q: [0.03, 0] });
  g.op(OP.DEPTHWISE_CONV_2D, [c1, w2, b2], [c2], convOptions(true));
  const k = g.u8('k', {
    shape: [1, 1, 1, 8],
    q: [0.03, 3],
    data: Uint8Array.from({ length: 8 }, (_, i) => i * 20),
  });
  const sum = g.u8('sum', { shape: [1, 8, 8, 8], q: [0.05, 10] });
  g.op(OP.ADD, [c2, k], [sum], OPTIONS.add);
  const avg = g.u8('avg', { shape: [1, 4, 4, 8], q: [0.05, 10] });
  g.op(OP.AVERAGE_POOL_2D, [sum], [avg], OPTIONS.pool);
  const max = g.u8('max', { shape: [1, 4, 4, 8], q: [0.05, 10] });
  g.op(OP.MAX_POOL_2D, [sum], [max], OPTIONS.pool);
  const cat = g.u8('cat', { shape: [1, 4, 4, 16], q: [0.05, 10] });
  g.op(OP.CONCATENATION, [avg, max], [cat], OPTIONS.concat);
  const axes = g.int32('axes', [1, 2]);
  const mean = g.u8('mean', { shape: [1, 1, 1, 16], q: [0.04, 12] });
  g.op(OP.MEAN, [cat, axes], [mean], OPTIONS.mean);
  const shape = g.int32('shape', [1, 16]);
  const flat = g.u8('flat', { shape: [1, 16], q: [0.04, 12] });
  g.op(OP.RESHAPE, [mean, shape], [flat]);
  const sig = g.u8('sigmoid', { shape: [1, 16], q: [1 / 256, 0] });
  g.op(OP.LOGISTIC, [flat], [sig]);
  const w3 = g.weights('w3', [10, 16], [0.01, 100], spread);
  const logits = g.u8('logits', { shape: [1, 10], q: [0.02, 128] });
  g.op(OP.FULLY_CONNECTED, [sig, w3, -1], [logits], OPTIONS.fc);
  const probs = g.u8('probs', { shape: [1, 10], q: [1 / 256, 0] });
  g.op(OP.SOFTMAX, [logits], [probs], OPTIONS.softmax);
  return g.model([input], [logits, probs]);
}

/**
 * One single-op uint8 model per op type the rewrite takes from XNNPACK's refused unsigned path, each with the
 * input shape [1,4,4,8] (FULLY_CONNECTED: [1,16]): what docs/native.md's op-by-op evidence is measured on.
 */
export function singleOpModels(): Record<string, TfliteModel> {
  const make = (build: (g: Uint8Graph, x: number) => number, shape = [1, 4, 4, 8]): TfliteModel => {
    const g = new Uint8Graph();
    const x = g.u8('x', { shape });
    return g.model([x], [build(g, x)]);
  };
  const out = (g: Uint8Graph, shape = [1, 4, 4, 8], q: [number, number] = [0.1, 120]) =>
    g.u8('y', { shape, q });
  const binary = (code: number, options: BuiltinOptions) =>
    make((g, x) => {
      const k = g.u8('k', {
        shape: [1, 1, 1, 8],
        q: [0.05, 100],
        data: Uint8Array.from({ length: 8 }, (_, i) => i * 30),
      });
      const y = out(g);
      g.op(code, [x, k], [y], options);
      return y;
    });
  /** A 1×1 conv or a 3×3 depthwise conv, 8 channels, with a bias. */
  const conv = (depthwise: boolean) =>
    make((g, x) => {
      const y = out(g);
      const weights = g.weights('w', depthwise ? [1, 3, 3, 8] : [8, 1, 1, 8], [0.02, 127], spread);
      const bias = g.int32('b', new Array(8).fill(7), 0.001);
      g.op(depthwise ? OP.DEPTHWISE_CONV_2D : OP.CONV_2D, [x, weights, bias], [y], convOptions(depthwise));
      return y;
    });
  return {
    CONV_2D: conv(false),
    DEPTHWISE_CONV_2D: conv(true),
    FULLY_CONNECTED: make(
      (g, x) => {
        const y = out(g, [1, 8]);
        g.op(OP.FULLY_CONNECTED, [x, g.weights('w', [8, 16], [0.02, 127], spread), -1], [y], OPTIONS.fc);
        return y;
      },
      [1, 16],
    ),
    ADD: binary(OP.ADD, OPTIONS.add),
    SUB: binary(OP.SUB, OPTIONS.sub),
    MUL: binary(OP.MUL, OPTIONS.mul),
    MAX_POOL_2D: make((g, x) => {
      const y = g.u8('y', { shape: [1, 2, 2, 8] });
      g.op(OP.MAX_POOL_2D, [x], [y], OPTIONS.pool);
      return y;
    }),
    PAD: make((g, x) => {
      const y = g.u8('y', { shape: [1, 6, 6, 8] });
      g.op(OP.PAD, [x, g.int32('p', [0, 0, 1, 1, 1, 1, 0, 0], undefined, [4, 2])], [y]);
      return y;
    }),
    MEAN: make((g, x) => {
      const y = out(g, [1, 1, 1, 8]);
      g.op(OP.MEAN, [x, g.int32('axes', [1, 2])], [y], OPTIONS.mean);
      return y;
    }),
    LOGISTIC: make((g, x) => {
      const y = out(g, [1, 4, 4, 8], [1 / 256, 0]);
      g.op(OP.LOGISTIC, [x], [y]);
      return y;
    }),
    RESIZE_BILINEAR: make((g, x) => {
      const y = g.u8('y', { shape: [1, 8, 8, 8] });
      g.op(OP.RESIZE_BILINEAR, [x, g.int32('size', [8, 8])], [y], OPTIONS.resize);
      return y;
    }),
  };
}
