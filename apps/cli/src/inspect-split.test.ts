// `swapless inspect` and `swapless split` on every class of real model: compiled, float, quantized with an empty
// Edge TPU prefix, unresolved custom ops, sparse weights, signature defs, state, and cuts that cannot be made.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuiltinOperator, readModel, splitBytes, TensorType, writeModel } from '@swapless/tflite';
import { describe, expect, it } from 'vitest';
import { verifySplit } from './split-verify.js';
import { cli } from './test-util.js';

const require = createRequire(import.meta.url);
const coral = (file: string) =>
  fileURLToPath(new URL(`../../../fixtures/models/coral/${file}`, import.meta.url));
const COMPILED = coral('mobilenet_v1_0.25_128_quant_edgetpu.tflite');
const MOVENET = coral('movenet_single_pose_lightning_ptq.tflite');
const LSTM = coral('keras_lstm_mnist_ptq.tflite');
const SPARSE = require.resolve('@mediapipe/face_detection/face_detection_full_range_sparse.tflite');
const SELFIE = require.resolve('@mediapipe/selfie_segmentation/selfie_segmentation.tflite');

/**
 * The LSTM with one more op after it that reads its state tensor (QUANTIZE to a second, uint8 output): the state
 * is then used at op 1 and op 6, so cuts 2–6 would split it.
 */
async function lstmWithStateOutput(): Promise<string> {
  const model = readModel(new Uint8Array(await readFile(LSTM)));
  const g = model.subgraphs[0]!;
  const state = g.tensors.findIndex((t) => t.isVariable);
  const quantize = model.operatorCodes.findIndex((c) => c.builtinCode === BuiltinOperator.QUANTIZE);
  g.tensors.push({
    shape: [1, 20],
    type: TensorType.UINT8,
    buffer: 0,
    name: 'state_out',
    quantization: {
      scale: [...g.tensors[state]!.quantization!.scale!],
      zeroPoint: [128],
      quantizedDimension: 0,
    },
    isVariable: false,
    hasRank: true,
  });
  g.operators.push({
    opcodeIndex: quantize,
    inputs: [state],
    outputs: [g.tensors.length - 1],
    customOptionsFormat: 0,
  });
  g.outputs.push(g.tensors.length - 1);
  const path = join(await mkdtemp(join(tmpdir(), 'swapless-state-')), 'lstm_state.tflite');
  await writeFile(path, writeModel(model));
  return path;
}

async function inspectJson(path: string) {
  const r = await cli('inspect', path, '--json');
  expect(r.status, r.err).toBe(0);
  return JSON.parse(r.out);
}

describe('swapless inspect on every class of model', () => {
  it('says a compiled model is compiled for the Edge TPU and what is inside, never that its op is unsupported', async () => {
    const j = await inspectJson(COMPILED);
    expect(j.modelClass).toBe('compiled');
    expect(j.runnable).toMatchObject({
      cpu: false,
      reason: expect.stringMatching(/^cannot run here: compiled for the Edge TPU/),
    });
    expect(j.edgetpuPrefix.summary).toMatch(
      /^compiled for the Edge TPU by edgetpu_compiler: 1 edgetpu-custom-op/,
    );
    expect(j.compiled.payloadBytes).toBe(778_324);
    expect(j.compiled.cpuOps).toEqual([]);
    const op = j.compiled.edgetpuOps[0];
    expect(op.inputs).toEqual([{ index: 0, name: 'input', type: 'UINT8', shape: [1, 128, 128, 3] }]);
    expect(op.outputs[0].name).toBe('MobilenetV1/Predictions/Reshape_1');
    expect(op.payload.executables.map((e: { type: string }) => e.type)).toEqual([
      'EXECUTION_ONLY',
      'PARAMETER_CACHING',
    ]);
    expect(j.compiled.parameterBytes).toEqual({ cached: 566_912, other: 0 });
    const text = await cli('inspect', COMPILED, '--ops');
    expect(text.status).toBe(0);
    expect(text.out).toMatch(/class: {4}compiled/);
    expect(text.out).toMatch(/parameters: 553\.6 KiB cached on the Edge TPU/);
    expect(`${text.out}${JSON.stringify(j)}`).not.toMatch(/not supported by the Edge TPU/);
  });

  it('says nothing of movenet maps to the Edge TPU (op 0 is CAST), and lists its signature', async () => {
    const j = await inspectJson(MOVENET);
    expect(j.modelClass).toBe('quantized');
    expect(j.edgetpuPrefix.cpuOnly).toBe(true);
    expect(j.edgetpuPrefix.summary).toMatch(
      /^nothing of this model maps to the Edge TPU \(op 0 is CAST\); it would be a CPU-only tenant \(k = 0\)$/,
    );
    expect(j.signatureDefs).toEqual([
      {
        key: 'serving_default',
        subgraph: 0,
        inputs: [{ name: 'input', tensor: 0 }],
        outputs: [{ name: 'output_0', tensor: 332 }],
      },
    ]);
    expect(j.cuts.every((c: { usable: boolean; reason: null }) => c.usable && c.reason === null)).toBe(true);
  });

  it('says a float model maps nowhere and a model with an unresolved custom op cannot run here', async () => {
    const j = await inspectJson(SELFIE);
    expect(j.modelClass).toBe('float');
    expect(j.runnable).toEqual({
      cpu: false,
      reason: 'cannot run here: custom op Convolution2DTransposeBias',
      unresolvedCustomOps: ['Convolution2DTransposeBias'],
    });
    expect(j.edgetpuPrefix.summary).toMatch(
      /^float model: nothing maps to the Edge TPU; it would be a CPU-only tenant \(k = 0\)$/,
    );
    const text = await cli('inspect', SELFIE);
    expect(text.out).toMatch(/runs: {5}cannot run here: custom op Convolution2DTransposeBias/);
  });

  it('marks cuts a variable tensor would cross unusable, in JSON and in the text, and never ranks them', async () => {
    const path = await lstmWithStateOutput();
    const j = await inspectJson(path);
    expect(j.cuts.map((c: { usable: boolean }) => c.usable)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
    expect(j.cuts[3].reason).toMatch(/^variable tensor 17 "tfl\.pseudo_qconst" keeps state between runs/);
    expect(j.cheapestCuts).toEqual([1]);
    const text = await cli('inspect', path);
    expect(text.out).toMatch(
      /Unusable cut points \(5 of 8; split refuses them\):\n {2}k = 2–6: variable tensor 17/,
    );
  });
});

describe('swapless split on sparse, signatured, stateful and unsplittable cuts', () => {
  it('refuses an unusable cut with exit 2, the reason and the usable cuts', async () => {
    const path = await lstmWithStateOutput();
    const dir = await mkdtemp(join(tmpdir(), 'swapless-split-'));
    const r = await cli('split', path, '--at', '3', '--out', dir, '--json');
    expect(r.status).toBe(2);
    const e = JSON.parse(r.out).error;
    expect(e.code).toBe('SWAPLESS_INVALID_CUT');
    expect(e.message).toMatch(
      /^Expected a usable cut point for a model of 7 ops but received 3: variable tensor 17/,
    );
    expect(e.message).toMatch(/\(usable cuts: 0–1, 7\)$/);
    expect(r.err).not.toMatch(/Cannot write|deprecated_tag|SparsityParameters/);
  });

  it('splits the sparse face detector, movenet and the LSTM; the parts keep their signature', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swapless-split-'));
    for (const [path, k] of [
      [SPARSE, 19],
      [MOVENET, 40],
      [LSTM, 2],
    ] as const) {
      const r = await cli('split', path, '--at', String(k), '--out', dir, '--json');
      expect(r.status, r.err).toBe(0);
      const j = JSON.parse(r.out);
      const tail = readModel(new Uint8Array(await readFile(j.tail.path)));
      expect(tail.subgraphs[0]!.operators.length).toBeGreaterThan(0);
      if (path !== SPARSE) expect(tail.signatureDefs?.[0]?.signatureKey).toBe('serving_default');
    }
  });

  it('--verify: head then tail are bit-identical to the whole model on seeded random inputs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swapless-split-'));
    const r = await cli(
      'split',
      SPARSE,
      '--at',
      '19',
      '--out',
      dir,
      '--verify',
      '--samples',
      '3',
      '--seed',
      '7',
      '--json',
    );
    expect(r.status, r.err).toBe(0);
    const v = JSON.parse(r.out).verify;
    expect(v).toMatchObject({ identical: true, samples: 3, seed: 7, referenceKernels: null });
    expect(v.outputs).toEqual([
      { name: 'Identity', identical: true, maxAbsDiff: 0, differingSamples: 0 },
      { name: 'Identity_1', identical: true, maxAbsDiff: 0, differingSamples: 0 },
    ]);
    const text = await cli('split', LSTM, '--at', '2', '--out', dir, '--verify');
    expect(text.status).toBe(0);
    expect(text.out).toMatch(
      /verify: {3}bit-identical to the whole model on 5 seeded random input sets \(seed 1/,
    );
  });

  it('--verify reports a difference with its size (a tail with one weight changed)', async () => {
    const bytes = new Uint8Array(await readFile(SPARSE));
    const model = readModel(bytes);
    const { head, tail, boundary } = splitBytes(bytes, 19);
    const t = readModel(tail!);
    // A dense fp16 weight of the tail (behind a DEQUANTIZE): flip one bit of its first value's exponent.
    const g = t.subgraphs[0]!;
    const w = g.tensors.find(
      (x) => x.buffer !== 0 && x.type === TensorType.FLOAT16 && x.sparsity === undefined,
    )!;
    const data = t.buffers[w.buffer]!.data!.slice();
    data[1]! ^= 0x04;
    t.buffers[w.buffer] = { data };
    const v = verifySplit(model, bytes, { head, tail: writeModel(t) }, boundary, 2, 1);
    expect(v.identical).toBe(false);
    expect(v.outputs.some((o) => !o.identical && o.maxAbsDiff > 0 && Number.isFinite(o.maxAbsDiff))).toBe(
      true,
    );
    expect(v.referenceKernels?.identical).toBe(false);
  });

  it('--verify on a model the CPU cannot run: the parts are written, then exit 1 with the reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swapless-split-'));
    const r = await cli('split', SELFIE, '--at', '10', '--out', dir, '--verify');
    expect(r.status).toBe(1);
    expect(r.err).toMatch(
      /The parts were written, but --verify cannot run the model: cannot run here: custom op Convolution2DTransposeBias/,
    );
    expect((await readFile(join(dir, 'selfie_segmentation.k10.tail.tflite'))).length).toBeGreaterThan(0);
    expect((await cli('split', LSTM, '--at', '2', '--out', dir, '--samples', '3')).status).toBe(2);
    // Without --verify the split succeeds, but says which part cannot run here (the custom op sits in the tail).
    const plain = await cli('split', SELFIE, '--at', '10', '--out', dir, '--json');
    expect(plain.status).toBe(0);
    expect(plain.err).toMatch(/warning: the tail cannot run here: custom op Convolution2DTransposeBias/);
    const j = JSON.parse(plain.out);
    expect(j.head.runnable).toEqual({ cpu: true, reason: null });
    expect(j.tail.runnable).toEqual({
      cpu: false,
      reason: 'cannot run here: custom op Convolution2DTransposeBias',
    });
  });
});
