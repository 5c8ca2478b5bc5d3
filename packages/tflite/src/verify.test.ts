import { ErrorCodes, InvalidModelError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { cutPoints } from './cuts.js';
import { branches, dequantizeFeedingConv, earlyOutput, linearInt8, residual } from './fixtures.test-util.js';
import type { SparsityParameters } from './model.js';
import { TensorType, type TfliteModel } from './model.js';
import { readModel } from './reader.js';
import { splitModel } from './split.js';
import { coralModels, hostileModels, loadRealModel, mediapipeModels } from './testing/real-models.js';
import type { VerifyRule } from './verify.js';
import { verifyModel } from './verify.js';
import { checkSparsity } from './verify-sparsity.js';
import { writeModel } from './writer.js';

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Expects the verifier to refuse `model` under `rule`, with a house-style message matching `message`. */
function expectRefused(model: TfliteModel, rule: VerifyRule, message?: RegExp): InvalidModelError {
  const e = thrown(() => verifyModel(model));
  expect(e).toBeInstanceOf(InvalidModelError);
  const err = e as InvalidModelError;
  expect(err.code).toBe(ErrorCodes.INVALID_MODEL);
  expect(err.details.rule).toBe(rule);
  expect(err.message).toMatch(/^Expected .+ for .+ but received .+/);
  if (message) expect(err.message).toMatch(message);
  return err;
}

const coral = (name: string) => {
  const m = coralModels().find((c) => c.name === `coral/${name}`);
  if (m === undefined) throw new Error(`no Coral fixture ${name}`);
  return readModel(loadRealModel(m));
};
const face = () =>
  readModel(loadRealModel(mediapipeModels().find((m) => m.name === 'mediapipe/face_detection_short_range')!));

describe('the verifier accepts every real model', () => {
  const real = [...coralModels(), ...mediapipeModels()];
  it('finds the real models', () => {
    expect(coralModels().length).toBeGreaterThanOrEqual(6);
    expect(mediapipeModels().length).toBeGreaterThanOrEqual(7);
  });
  for (const m of real) {
    it(`reads ${m.name}`, () => {
      expect(() => readModel(loadRealModel(m))).not.toThrow();
    });
  }

  // The generated int8 nets (@swapless/int8-builder) are checked by that package's format.test.ts.
  it('reads the hand-made test graphs', () => {
    for (const model of [linearInt8(), residual(), branches(), earlyOutput(), dequantizeFeedingConv()]) {
      expect(() => readModel(writeModel(model))).not.toThrow();
    }
  });

  it('reads both parts of every cut of a uint8, an int8 and a float model', () => {
    for (const model of [coral('mobilenet_v1_0.25_128_quant'), coral('keras_lstm_mnist_ptq'), face()]) {
      for (const { k } of cutPoints(model)) {
        const { head, tail } = splitModel(model, k);
        for (const part of [head, tail]) if (part !== null) readModel(writeModel(part));
      }
    }
  });
});

describe('the verifier rejects the damaged models that crashed TFLite', () => {
  const expectations: Record<string, [VerifyRule | 'structure', RegExp]> = {
    'coral_keras_lstm_mnist_ptq-s1034-crash-SIGABRT': ['op-shape', /op 0 \(QUANTIZE\) output 0/],
    'coral_keras_lstm_mnist_ptq-s1347-crash-SIGSEGV': [
      'graph-dataflow',
      /UNIDIRECTIONAL_SEQUENCE_LSTM\) input 3/,
    ],
    'coral_keras_lstm_mnist_ptq-s2295-crash-SIGSEGV': [
      'graph-dataflow',
      /UNIDIRECTIONAL_SEQUENCE_LSTM\) input 7/,
    ],
    'coral_keras_lstm_mnist_ptq-s4573-crash-SIGABRT': ['op-type', /output 0 .* but received INT64/],
    'coral_mobilenet_v1_0.25_128_quant-s1425-crash-SIGABRT': ['structure', /outputs\[0\] but received -1/],
  };
  it('has one expectation per hostile fixture', () => {
    expect(
      hostileModels()
        .map((m) => m.name.slice('hostile/'.length))
        .sort(),
    ).toEqual(Object.keys(expectations).sort());
  });
  for (const m of hostileModels()) {
    it(`rejects ${m.name} with a typed error`, () => {
      const [rule, message] = expectations[m.name.slice('hostile/'.length)]!;
      const e = thrown(() => readModel(loadRealModel(m))) as InvalidModelError;
      expect(e).toBeInstanceOf(InvalidModelError);
      expect(e.details.rule).toBe(rule === 'structure' ? undefined : rule);
      expect(e.message).toMatch(message);
    });
  }
});

describe('graph rules', () => {
  it('refuses −1 where an input is not optional, and accepts it where it is', () => {
    const m = linearInt8();
    m.subgraphs[0]!.operators[0]!.inputs[0] = -1;
    expectRefused(m, 'op-optional-input', /op 0 \(CONV_2D\) input 0 but received -1/);
    const floatNoBias = residual();
    expect(floatNoBias.subgraphs[0]!.operators[0]!.inputs[2]).toBe(-1);
    expect(() => verifyModel(floatNoBias)).not.toThrow();
    // Quantized convolutions add their bias unconditionally: absent (−1) or left out, it is refused.
    const noBias = linearInt8();
    noBias.subgraphs[0]!.operators[0]!.inputs[2] = -1;
    expectRefused(
      noBias,
      'op-optional-input',
      /a bias tensor .* for op 0 \(CONV_2D\) input 2 but received -1/,
    );
    noBias.subgraphs[0]!.operators[0]!.inputs.pop();
    expectRefused(noBias, 'op-optional-input', /but received no input 2/);
  });

  it('refuses an input that is never written or written only by a later op', () => {
    const never = readModel(loadRealModel(coralModels().find((c) => c.name.includes('keras_lstm'))!));
    never.subgraphs[0]!.tensors[9]!.buffer = 0;
    expectRefused(
      never,
      'graph-dataflow',
      /input 2 \(tensor 9 "std.constant9"\) but received a tensor that is never written/,
    );
    const later = linearInt8();
    const ops = later.subgraphs[0]!.operators;
    [ops[1], ops[2]] = [ops[2]!, ops[1]!];
    expectRefused(later, 'graph-dataflow', /written by a later op/);
  });

  it('refuses an op that writes a constant, a model input, or what another op writes', () => {
    const constant = linearInt8();
    constant.subgraphs[0]!.operators[1]!.outputs[0] = 1;
    expectRefused(constant, 'graph-dataflow', /but received a constant tensor/);
    const input = linearInt8();
    input.subgraphs[0]!.operators[1]!.outputs[0] = 0;
    expectRefused(input, 'graph-dataflow', /but received a model input/);
    const twice = linearInt8();
    twice.subgraphs[0]!.operators[1]!.outputs[0] = 3;
    expectRefused(twice, 'graph-dataflow', /already writes/);
  });

  it('refuses a dead op: one whose result nothing reads (XNNPACK crashes planning it)', () => {
    const m = face();
    // The residual ADD after op 127 reads the block input twice, so op 127's output is left unread.
    m.subgraphs[0]!.operators[128]!.inputs[1] = 133;
    expectRefused(m, 'graph-dataflow', /op 127 \(CONV_2D\) output 0 .* but received a tensor nothing reads/);
  });

  it('refuses a tensor too large for the runtime, and honours maxTensorBytes', () => {
    const m = linearInt8();
    m.subgraphs[0]!.tensors[9]!.shape = [65536, 65536];
    expectRefused(m, 'tensor-size', /at most 2147483647 bytes/);
    expect(() => verifyModel(linearInt8(), { maxTensorBytes: 100 })).toThrow(/at most 100 bytes/);
  });

  it('refuses quantization with fewer zero points than scales', () => {
    const m = linearInt8();
    m.subgraphs[0]!.tensors[0]!.quantization!.zeroPoint = [];
    expectRefused(m, 'tensor-quantization', /1 zero points \(one per scale\)/);
  });

  it('refuses a custom_code on a builtin operator code, and a CUSTOM code without one', () => {
    const compiled = coral('mobilenet_v1_0.25_128_quant_edgetpu');
    compiled.operatorCodes[0]!.builtinCode = 80; // FAKE_QUANT: TFLite would run its float kernel on uint8 data
    expectRefused(
      compiled,
      'operator-code',
      /no custom_code .* for operator code 0 \(FAKE_QUANT\) but received "edgetpu-custom-op"/,
    );
    const unnamed = coral('mobilenet_v1_0.25_128_quant_edgetpu');
    delete unnamed.operatorCodes[0]!.customCode;
    expectRefused(unnamed, 'operator-code', /a custom_code naming the custom op/);
  });

  it('leaves ops outside the table, and custom ops, to the generic checks', () => {
    const m = earlyOutput(); // TANH is in the table, RELU and LOGISTIC too; make one an unknown op.
    m.operatorCodes.push({ builtinCode: 161, version: 1 });
    m.subgraphs[0]!.operators[2]!.opcodeIndex = m.operatorCodes.length - 1;
    m.subgraphs[0]!.operators[2]!.inputs = [0, -1, 0];
    expect(() => verifyModel(m)).not.toThrow();
    expect(() =>
      readModel(loadRealModel(coralModels().find((c) => c.name.endsWith('_edgetpu'))!)),
    ).not.toThrow();
  });
});

describe('op rules', () => {
  it('counts inputs and outputs', () => {
    const m = linearInt8();
    m.subgraphs[0]!.operators[1]!.inputs.push(3);
    expectRefused(m, 'op-arity', /Expected 1 input for op 1 \(RELU\) but received 2/);
  });

  it('refuses strides, dilations, filters and depth multipliers below 1, or absent options', () => {
    const stride = linearInt8();
    stride.subgraphs[0]!.operators[0]!.builtinOptions!.fields.strideW = 0;
    expectRefused(
      stride,
      'op-options',
      /stride_w in \[1, 65536\] for op 0 \(CONV_2D\) option stride_w but received 0$/,
    );
    const none = linearInt8();
    delete none.subgraphs[0]!.operators[0]!.builtinOptions;
    expectRefused(none, 'op-options', /has no Conv2DOptions, so TFLite uses 0/);
    const mobilenet = coral('mobilenet_v1_0.25_128_quant');
    const dw = mobilenet.subgraphs[0]!.operators.find(
      (o) => o.builtinOptions?.name === 'DepthwiseConv2DOptions',
    )!;
    dw.builtinOptions!.fields.depthMultiplier = 0;
    expectRefused(mobilenet, 'op-options', /depth_multiplier in \[1, 65536\]/);
    const pooled = coral('mobilenet_v1_0.25_128_quant');
    const pool = pooled.subgraphs[0]!.operators.find((o) => o.builtinOptions?.name === 'Pool2DOptions')!;
    pool.builtinOptions!.fields.filterWidth = 0;
    expectRefused(pooled, 'op-options', /filter_width/);
  });

  it('refuses options of another op, enum values outside the schema and axes outside the rank', () => {
    const other = linearInt8();
    other.subgraphs[0]!.operators[0]!.builtinOptions = { type: 17, name: 'ReshapeOptions', fields: {} };
    expectRefused(
      other,
      'op-options',
      /Expected Conv2DOptions \(or none\) for op 0 \(CONV_2D\) options but received ReshapeOptions/,
    );
    const act = linearInt8();
    act.subgraphs[0]!.operators[0]!.builtinOptions!.fields.fusedActivationFunction = 9;
    expectRefused(act, 'op-options', /fused_activation_function one of 0, 1, 2, 3, 4, 5/);
    const net = branches();
    const concat = net.subgraphs[0]!.operators.find(
      (o) => o.builtinOptions?.name === 'ConcatenationOptions',
    )!;
    concat.builtinOptions!.fields.axis = 4;
    expectRefused(net, 'op-options', /an axis in \[-4, 4\)/);
  });

  it('refuses element types a kernel would misread', () => {
    const out = linearInt8();
    out.subgraphs[0]!.tensors[3]!.type = TensorType.INT64;
    expectRefused(out, 'op-type', /op 0 \(CONV_2D\) output 0 .* but received INT64/);
    const bias = linearInt8();
    bias.subgraphs[0]!.tensors[2]!.type = TensorType.FLOAT32;
    expectRefused(bias, 'op-type', /INT32 \(quantized kernels add 32-bit biases\)/);
  });

  it('refuses declared shapes that differ from what the kernel computes', () => {
    const conv = linearInt8();
    conv.subgraphs[0]!.tensors[3]!.shape = [1, 8, 8, 5];
    expectRefused(conv, 'op-shape', /Expected shape \[1,8,8,4\] for op 0 \(CONV_2D\) output 0/);
    const filter = linearInt8();
    filter.subgraphs[0]!.tensors[1]!.shape = [4, 3, 3, 2];
    expectRefused(filter, 'op-shape', /filter input depth that divides the input depth 3/);
    const fc = linearInt8();
    fc.subgraphs[0]!.tensors[7]!.shape = [2560];
    expectRefused(fc, 'op-shape', /rank 2/);
    const reshape = linearInt8();
    reshape.subgraphs[0]!.tensors[6]!.shape = [1, 255];
    expectRefused(reshape, 'op-shape', /256 elements/);
    const bias = coral('mobilenet_v1_0.25_128_quant');
    const conv0 = bias.subgraphs[0]!.operators[0]!;
    bias.subgraphs[0]!.tensors[conv0.inputs[2]!]!.shape = [];
    expectRefused(bias, 'op-shape', /one bias per output channel/);
  });

  it('refuses quantized tensors without usable scales', () => {
    const none = linearInt8();
    delete none.subgraphs[0]!.tensors[4]!.quantization;
    expectRefused(none, 'op-quantization', /quantization parameters \(a scale\)/);
    const zero = linearInt8();
    zero.subgraphs[0]!.tensors[3]!.quantization!.scale = [0];
    expectRefused(zero, 'op-quantization', /positive finite quantization scales .* but received scale 0/);
    // A weight scale of 0 (an all-zero channel) is harmless: the kernel's multiplier is 0.
    const deadChannel = linearInt8();
    deadChannel.subgraphs[0]!.tensors[1]!.quantization!.scale = [0];
    expect(() => verifyModel(deadChannel)).not.toThrow();
    // A quantized ADD whose output scale is ~2^20 times smaller than its inputs' makes TFLite abort.
    const add = coral('mobilenet_v2_1.0_224_quant');
    const sum = add.subgraphs[0]!.operators.find((o) => o.builtinOptions?.name === 'AddOptions')!;
    add.subgraphs[0]!.tensors[sum.outputs[0]!]!.quantization!.scale = [1e-30];
    expectRefused(add, 'op-quantization', /an output scale above 2·max\(input scales\)\/2\^20/);
  });

  it('refuses integer LSTM weights that are not constant', () => {
    const lstm = readModel(loadRealModel(coralModels().find((c) => c.name.includes('keras_lstm'))!));
    // Weights read from the QUANTIZE output: written before the op, but not there while TFLite prepares.
    lstm.subgraphs[0]!.operators[1]!.inputs[3] = 16;
    expectRefused(lstm, 'op-constant', /the integer LSTM kernel reads it while preparing/);
  });

  it('can be skipped to inspect a semantically broken file', () => {
    const m = linearInt8();
    m.subgraphs[0]!.operators[0]!.builtinOptions!.fields.strideH = 0;
    const bytes = writeModel(m);
    expect(() => readModel(bytes)).toThrow(InvalidModelError);
    expect(readModel(bytes, { verifySemantics: false }).subgraphs[0]!.operators).toHaveLength(4);
  });
});

describe('sparse tensors', () => {
  const bytes = loadRealModel(
    mediapipeModels().find((m) => m.name.endsWith('face_detection_full_range_sparse'))!,
  );
  const model = readModel(bytes);
  const sparse = model.subgraphs.flatMap((sg, s) =>
    sg.tensors.flatMap((t, i) => (t.sparsity === undefined ? [] : [{ s, i, t }])),
  );
  const { s, i, t: tensor } = sparse[0]!;
  const spec = tensor.sparsity!;
  const valuesOf = (t: typeof tensor) => model.buffers[t.buffer]!.data!.length / 2; // FLOAT16
  const values = valuesOf(tensor);
  const edit = (change: (spec: SparsityParameters) => void) => {
    const copy = structuredClone(spec);
    change(copy);
    return checkSparsity(copy, tensor.shape, values);
  };

  it("reads MediaPipe's sparse face detector, and its parameters describe each tensor exactly", () => {
    expect(sparse.length).toBeGreaterThan(40);
    for (const { s: sg, i: t, t: tt } of sparse) {
      expect(checkSparsity(tt.sparsity!, tt.shape, valuesOf(tt)), `${sg}:${t}`).toBeUndefined();
    }
  });

  it('refuses parameters that would send the sparse-to-dense converter out of bounds', () => {
    expect(edit((x) => x.traversalOrder!.push(4))?.[0]).toMatch(/4 traversal dimensions/);
    expect(edit((x) => (x.traversalOrder![0] = 3))?.[0]).toMatch(/permutes the dimensions/);
    expect(edit((x) => (x.dimMetadata![0]!.denseSize = 1 << 30))?.[0]).toMatch(
      /dense size \d+ for traversal level 0/,
    );
    const csr = spec.dimMetadata!.findIndex((d) => d.format === 1);
    expect(edit((x) => (x.dimMetadata![csr]!.arrayIndices!.values![0] = 1000))?.[0]).toMatch(
      /indices in \[0, \d+\)/,
    );
    expect(edit((x) => (x.dimMetadata![csr]!.arraySegments!.values![1] = -1))?.[0]).toMatch(
      /non-decreasing segments/,
    );
    expect(edit((x) => x.dimMetadata![csr]!.arraySegments!.values!.pop())?.[0]).toMatch(/segments from 0 to/);
    // An absent index vector counts as an empty one.
    expect(edit((x) => delete x.dimMetadata![csr]!.arrayIndices)?.[0]).toMatch(/segments from 0 to 0/);
    expect(edit((x) => (x.dimMetadata![csr]!.format = 7))?.[0]).toMatch(/DENSE \(0\) or SPARSE_CSR \(1\)/);
    expect(checkSparsity(spec, tensor.shape, values + 1)?.[0]).toMatch(/stored values/);
  });

  it('reports a bad sparse tensor as tensor-sparsity, naming the tensor, from the model alone', () => {
    const broken = structuredClone(model);
    broken.subgraphs[s]!.tensors[i]!.sparsity!.traversalOrder![1] = 0;
    const e = thrown(() => verifyModel(broken)) as InvalidModelError;
    expect(e).toBeInstanceOf(InvalidModelError);
    expect(e.details).toMatchObject({ rule: 'tensor-sparsity', subgraph: s, tensor: i });
    expect(e.message).toMatch(
      /^Expected a traversal order .* for tensor \d+ ".*" sparsity but received \[0,0,2,3\]$/,
    );
    // The same edit in the file: readModel refuses it.
    expect(() => readModel(writeModel(broken))).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ rule: 'tensor-sparsity' }) }),
    );
  });
});
