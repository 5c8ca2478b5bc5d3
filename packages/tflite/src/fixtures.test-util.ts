// Test-only fixtures: the hand-made graphs shared by analysis, cuts and split tests. Not exported by the package.
import { addOptions, convOptions, TinyGraph } from './graph.test-util.js';
import { TensorType, type TfliteModel } from './model.js';
import { BuiltinOperator as OP } from './ops.js';

const I8 = { type: TensorType.INT8, quantized: true };

/** in → CONV_2D → RELU → RESHAPE → FULLY_CONNECTED → out, all int8 (Edge-TPU-mappable). */
export function linearInt8(): TfliteModel {
  const g = new TinyGraph();
  const input = g.tensor('input', [1, 8, 8, 3], I8);
  const w1 = g.tensor('w1', [4, 3, 3, 3], { ...I8, data: new Uint8Array(108).fill(1) });
  const b1 = g.constant('b1', [4], TensorType.INT32, 16, 0);
  const c1 = g.tensor('conv1', [1, 8, 8, 4], I8);
  const r1 = g.tensor('relu1', [1, 8, 8, 4], I8);
  const shape = g.tensor('shape', [2], {
    type: TensorType.INT32,
    data: new Uint8Array([1, 0, 0, 0, 0, 1, 0, 0]),
  });
  const flat = g.tensor('flat', [1, 256], I8);
  const w2 = g.tensor('w2', [10, 256], { ...I8, data: new Uint8Array(2560).fill(2) });
  const b2 = g.constant('b2', [10], TensorType.INT32, 40, 0);
  const out = g.tensor('logits', [1, 10], I8);
  g.op(OP.CONV_2D, [input, w1, b1], [c1], convOptions());
  g.op(OP.RELU, [c1], [r1]);
  g.op(OP.RESHAPE, [r1, shape], [flat], { type: 17, name: 'ReshapeOptions', fields: { newShape: [1, 256] } });
  g.op(OP.FULLY_CONNECTED, [flat, w2, b2], [out], {
    type: 8,
    name: 'FullyConnectedOptions',
    fields: { fusedActivationFunction: 0, weightsFormat: 0 },
  });
  return g.model([input], [out]);
}

/** in → A → x; x → B → y; ADD(x, y) → z (a residual block). Float32. */
export function residual(): TfliteModel {
  const g = new TinyGraph();
  const input = g.tensor('input', [1, 4, 4, 8]);
  const wa = g.constant('wa', [8, 1, 1, 8], TensorType.FLOAT32, 256);
  const wb = g.constant('wb', [8, 1, 1, 8], TensorType.FLOAT32, 256);
  const x = g.tensor('x', [1, 4, 4, 8]);
  const y = g.tensor('y', [1, 4, 4, 8]);
  const z = g.tensor('z', [1, 4, 4, 8]);
  g.op(OP.CONV_2D, [input, wa, -1], [x], convOptions());
  g.op(OP.CONV_2D, [x, wb, -1], [y], convOptions());
  g.op(OP.ADD, [x, y], [z], addOptions());
  return g.model([input], [z]);
}

/** in → A → p; in → B → q; CONCATENATION(p, q) → out (two branches reading the model input). */
export function branches(): TfliteModel {
  const g = new TinyGraph();
  const input = g.tensor('input', [1, 4, 4, 2]);
  const wa = g.constant('wa', [3, 1, 1, 2], TensorType.FLOAT32, 24);
  const wb = g.constant('wb', [5, 1, 1, 2], TensorType.FLOAT32, 40);
  const p = g.tensor('p', [1, 4, 4, 3]);
  const q = g.tensor('q', [1, 4, 4, 5]);
  const out = g.tensor('out', [1, 4, 4, 8]);
  g.op(OP.CONV_2D, [input, wa, -1], [p], convOptions());
  g.op(OP.CONV_2D, [input, wb, -1], [q], convOptions());
  g.op(OP.CONCATENATION, [p, q], [out], {
    type: 10,
    name: 'ConcatenationOptions',
    fields: { axis: 3, fusedActivationFunction: 0 },
  });
  return g.model([input], [out]);
}

/**
 * in → A → x (model output "early"), x → B → y (model output "late"), in → C → w (model output "side");
 * outputs listed as [late, early, side] to check that the original output order is kept.
 */
export function earlyOutput(): TfliteModel {
  const g = new TinyGraph();
  const input = g.tensor('input', [1, 6]);
  const x = g.tensor('early', [1, 6]);
  const y = g.tensor('late', [1, 6]);
  const w = g.tensor('side', [1, 6]);
  g.op(OP.RELU, [input], [x]);
  g.op(OP.LOGISTIC, [x], [y]);
  g.op(OP.TANH, [input], [w]);
  return g.model([input], [y, x, w]);
}

/**
 * in → RELU → r; fp16 weights → DEQUANTIZE → w32 (constant-only, op 1); CONV(r, w32, b1) → c; CONV(c, w32, b2)
 * → out. The DEQUANTIZE feeds both convs, so a cut between them needs it on both sides.
 */
export function dequantizeFeedingConv(): TfliteModel {
  const g = new TinyGraph();
  const input = g.tensor('input', [1, 4, 4, 3]);
  const r = g.tensor('relu', [1, 4, 4, 3]);
  const w16 = g.constant('w16', [3, 3, 3, 3], TensorType.FLOAT16, 162, 7);
  const w32 = g.tensor('w32', [3, 3, 3, 3]);
  const b1 = g.constant('b1', [3], TensorType.FLOAT32, 12, 3);
  const b2 = g.constant('b2', [3], TensorType.FLOAT32, 12, 4);
  const c = g.tensor('c', [1, 4, 4, 3]);
  const out = g.tensor('out', [1, 4, 4, 3]);
  g.op(OP.RELU, [input], [r]);
  g.op(OP.DEQUANTIZE, [w16], [w32]);
  g.op(OP.CONV_2D, [r, w32, b1], [c], convOptions());
  g.op(OP.CONV_2D, [c, w32, b2], [out], convOptions(1, 1));
  return g.model([input], [out]);
}
