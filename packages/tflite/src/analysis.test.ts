import { describe, expect, it } from 'vitest';
import { analyzeModel, opMacs } from './analysis.js';
import { branches, dequantizeFeedingConv, linearInt8, residual } from './fixtures.test-util.js';
import { TinyGraph } from './graph.test-util.js';
import { TensorType } from './model.js';
import { BuiltinOperator as OP } from './ops.js';

const I8 = { type: TensorType.INT8, quantized: true };

describe('analyzeModel', () => {
  it('reports type, MACs, weight and activation bytes per op of a linear int8 model', () => {
    const a = analyzeModel(linearInt8());
    expect(a.n).toBe(4);
    expect(a.ops.map((o) => o.type)).toEqual(['CONV_2D', 'RELU', 'RESHAPE', 'FULLY_CONNECTED']);
    // conv: outH·outW·outC·kH·kW·inC = 8·8·4·3·3·3; relu: one per element; reshape: 0; FC: out·in.
    expect(a.ops.map((o) => o.macs)).toEqual([6912, 256, 0, 2560]);
    expect(a.ops.map((o) => o.weightBytes)).toEqual([108 + 16, 0, 8, 2560 + 40]);
    // params: elements of owned constants (conv 4·3·3·3 + 4 bias; reshape's shape [2]; FC 10·256 + 10 bias).
    expect(a.ops.map((o) => o.params)).toEqual([108 + 4, 0, 2, 2560 + 10]);
    expect(a.ops.map((o) => o.inputBytes)).toEqual([192, 256, 256, 256]);
    expect(a.ops.map((o) => o.outputBytes)).toEqual([256, 256, 256, 10]);
    expect(a.ops[0]!.inputs).toEqual([0, 1, 2]);
    expect(a.totals).toEqual({
      macs: 6912 + 256 + 2560,
      weightBytes: 124 + 8 + 2600,
      params: 112 + 2 + 2570,
      inputBytes: 192,
      outputBytes: 10,
    });
    expect(a.ops.every((o) => o.edgetpu.mappable)).toBe(true);
    expect(a.edgetpuPrefix).toEqual({ length: 4 });
  });

  it('counts depthwise, pooling, add and softmax work by the documented convention', () => {
    const g = new TinyGraph();
    const x = g.tensor('x', [1, 8, 8, 4], I8);
    const dw = g.tensor('dw', [1, 3, 3, 4], { ...I8, data: new Uint8Array(36) });
    const y = g.tensor('y', [1, 4, 4, 4], I8);
    const p = g.tensor('p', [1, 2, 2, 4], I8);
    const s = g.tensor('s', [1, 2, 2, 4], I8);
    const m = g.tensor('m', [1, 16], I8);
    const sm = g.tensor('sm', [1, 16], I8);
    g.op(OP.DEPTHWISE_CONV_2D, [x, dw, -1], [y]);
    const pool = {
      type: 5,
      name: 'Pool2DOptions',
      fields: { filterWidth: 2, filterHeight: 2, strideW: 2, strideH: 2 },
    };
    g.op(OP.MAX_POOL_2D, [y], [p], pool);
    g.op(OP.ADD, [p, p], [s]);
    g.op(OP.RESHAPE, [s], [m]);
    g.op(OP.SOFTMAX, [m], [sm]);
    const model = g.model([x], [sm]);
    const ops = model.subgraphs[0]!.operators;
    expect(ops.map((op) => opMacs(model, op))).toEqual([4 * 4 * 4 * 9, 2 * 2 * 4 * 4, 16, 0, 16]);
  });

  it('attributes a constant-only DEQUANTIZE to its first consumer and marks it not mappable', () => {
    const a = analyzeModel(dequantizeFeedingConv());
    expect(a.operatorCount).toBe(4);
    expect(a.n).toBe(3);
    expect(a.ops.map((o) => o.index)).toEqual([0, 2, 3]);
    expect(a.ops[1]!.attached).toEqual([1]);
    expect(a.ops[2]!.attached).toEqual([]);
    // The fp16 buffer (162 B) is owned by its first reader; each conv owns its bias.
    expect(a.ops.map((o) => o.weightBytes)).toEqual([0, 162 + 12, 12]);
    expect(a.totals.weightBytes).toBe(186);
    expect(a.ops[0]!.edgetpu).toEqual({
      mappable: false,
      reason: 'tensor 0 "input" is FLOAT32, not int8/uint8-quantized',
    });
    expect(a.ops[1]!.edgetpu.reason).toBe('tensor 1 "relu" is FLOAT32, not int8/uint8-quantized');
    expect(a.ops[2]!.edgetpu.reason).toBe('tensor 6 "c" is FLOAT32, not int8/uint8-quantized');
    expect(a.edgetpuPrefix).toMatchObject({ length: 0, firstUnmappableOp: 0 });
  });

  it('does not map an int8 op whose parameters come from a constant-only op', () => {
    const g = new TinyGraph();
    const x = g.tensor('x', [1, 4, 4, 2], I8);
    const flat = g.tensor('flat', [6, 2], { ...I8, data: new Uint8Array(12) });
    const shape = g.tensor('shape', [4], { type: TensorType.INT32, data: new Uint8Array(16) });
    const w = g.tensor('w', [3, 1, 2, 2], I8);
    const y = g.tensor('y', [1, 4, 4, 3], I8);
    g.op(OP.RESHAPE, [flat, shape], [w]);
    g.op(OP.CONV_2D, [x, w, -1], [y]);
    const a = analyzeModel(g.model([x], [y]));
    expect(a.ops).toHaveLength(1);
    expect(a.ops[0]!.edgetpu.reason).toBe(
      'its parameters come from constant-only op 0 (RESHAPE), which the Edge TPU does not support',
    );
    const f = new TinyGraph();
    const fx = f.tensor('x', [1, 4, 4, 2], I8);
    const fw = f.constant('wf', [3, 1, 1, 2], TensorType.FLOAT32, 24);
    const fy = f.tensor('y', [1, 4, 4, 3], I8);
    f.op(OP.CONV_2D, [fx, fw, -1], [fy]);
    expect(analyzeModel(f.model([fx], [fy])).ops[0]!.edgetpu.reason).toBe(
      'parameter tensor 1 "wf" is FLOAT32, not quantized',
    );
  });

  it('finds the first op that cannot map and the reason (op type, dynamic shape, rank, fused activation)', () => {
    const g = new TinyGraph();
    const x = g.tensor('x', [1, 4, 4, 8], I8);
    const y = g.tensor('y', [1, 4, 4, 8], I8);
    const z = g.tensor('z', [1, 4, 4, 8], I8);
    g.op(OP.RELU, [x], [y]);
    g.op(OP.HARD_SWISH, [y], [z]);
    const a = analyzeModel(g.model([x], [z]));
    expect(a.edgetpuPrefix).toEqual({
      length: 1,
      firstUnmappableOp: 1,
      reason: "HARD_SWISH is not in the Edge TPU's supported operations",
    });

    const h = new TinyGraph();
    const dyn = h.tensor('dyn', [1, 4, 4, 8], { ...I8, shapeSignature: [-1, 4, 4, 8] });
    const big = h.tensor('big', [2, 4, 4, 8], I8);
    const p = h.tensor('p', [1, 2, 2, 8], I8);
    h.op(OP.RELU, [dyn], [big]);
    h.op(OP.AVERAGE_POOL_2D, [big], [p], {
      type: 5,
      name: 'Pool2DOptions',
      fields: { filterWidth: 2, filterHeight: 2, fusedActivationFunction: 1 },
    });
    const b = analyzeModel(h.model([dyn], [p]));
    expect(b.ops[0]!.edgetpu.reason).toBe('tensor 0 "dyn" has a dynamic shape');
    expect(b.ops[1]!.edgetpu.reason).toMatch(/only the 3 innermost dimensions may exceed 1/);
    const relaxed = analyzeModel(h.model([dyn], [p]), { edgetpuLimits: false });
    expect(relaxed.ops[1]!.edgetpu).toEqual({ mappable: true });
  });

  it('lists every op of DAGs in original order', () => {
    expect(analyzeModel(residual()).ops.map((o) => o.type)).toEqual(['CONV_2D', 'CONV_2D', 'ADD']);
    expect(analyzeModel(branches()).ops.map((o) => o.macs)).toEqual([16 * 3 * 2, 16 * 5 * 2, 0]);
  });
});
