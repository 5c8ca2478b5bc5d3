import { SeededRandom } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { analyzeModel, emptyPrefixSentence, modelClass } from './analysis.js';
import { compiledModelSummary } from './compiled.js';
import type { TfliteModel } from './model.js';
import { readModel } from './reader.js';
import { loadRealModel, REAL_MODELS, realModel } from './testing/real-models.js';

const COMPILED = 'coral/mobilenet_v1_0.25_128_quant_edgetpu';

function compiled(): TfliteModel {
  return readModel(loadRealModel(realModel(COMPILED)));
}

describe('compiledModelSummary', () => {
  it('lists the edgetpu-custom-op, its tensors, its payload and the executables inside', () => {
    const summary = compiledModelSummary(compiled())!;
    expect(summary.payloadBytes).toBe(778_324);
    expect(summary.cpuOps).toEqual([]);
    expect(summary.edgetpuOps).toHaveLength(1);
    const op = summary.edgetpuOps[0]!;
    expect(op).toMatchObject({ index: 0, inputs: [0], outputs: [1], payloadBytes: 778_324 });
    expect(op.payloadError).toBeUndefined();
    expect(op.payload).toMatchObject({ version: 0, packageBytes: 778_240, minRuntimeVersion: 12 });
    expect(op.payload!.executables.map((e) => [e.type, e.parameterBytes, e.chip])).toEqual([
      ['EXECUTION_ONLY', 0, 'beagle'],
      ['PARAMETER_CACHING', 566_912, 'beagle'],
    ]);
    // Both executables share one caching token; the execution one names the model's input and output.
    const [run, cache] = op.payload!.executables;
    expect(run!.cachingToken).toMatch(/^[0-9a-f]{16}$/);
    expect(cache!.cachingToken).toBe(run!.cachingToken);
    expect(run!.inputLayers).toEqual(['input']);
    expect(run!.outputLayers).toEqual(['MobilenetV1/Predictions/Reshape_1']);
    expect(summary.parameterBytes).toEqual({ cached: 566_912, other: 0 });
  });

  it('is undefined for models without an edgetpu-custom-op', () => {
    for (const real of REAL_MODELS.filter((r) => r.name !== COMPILED)) {
      expect(compiledModelSummary(readModel(loadRealModel(real))), real.name).toBeUndefined();
    }
  });

  it('reports a damaged payload instead of throwing, and never reads outside it', () => {
    const model = compiled();
    const op = model.subgraphs[0]!.operators[0]!;
    const original = op.customOptions!;
    const damaged: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['truncated', original.slice(0, 1000)],
      ['tail cut', original.slice(0, original.length - 1)],
      ['zeroed package', original.slice().fill(0, 8, 4000)],
      ['bad root width', Uint8Array.from([...original.subarray(0, original.length - 1), 3])],
    ];
    for (const [what, bytes] of damaged) {
      op.customOptions = bytes;
      const summary = compiledModelSummary(model)!;
      expect(summary.edgetpuOps[0]!.payload, what).toBeUndefined();
      expect(summary.edgetpuOps[0]!.payloadError, what).toMatch(/./);
      expect(summary.parameterBytes).toBeUndefined();
    }
    // Random byte overwrites in the structural parts (the FlexBuffer tail, the package's tables) never throw.
    const rng = new SeededRandom(11);
    for (let i = 0; i < 300; i++) {
      const bytes = original.slice();
      const at = rng.nextFloat() < 0.5 ? original.length - 1 - rng.int(0, 63) : rng.int(0, 8192);
      bytes[at] = rng.int(0, 255);
      op.customOptions = bytes;
      expect(() => compiledModelSummary(model)).not.toThrow();
    }
    // Every single-byte truncation point is handled (a cheap sweep of the structural tail).
    for (let cut = original.length - 64; cut < original.length; cut++) {
      op.customOptions = original.subarray(0, cut);
      expect(() => compiledModelSummary(model)).not.toThrow();
    }
  });
});

describe('model classes and the Edge TPU verdict', () => {
  it('classifies compiled, float and quantized models', () => {
    const classes = Object.fromEntries(
      REAL_MODELS.map((r) => [r.name, modelClass(readModel(loadRealModel(r)))]),
    );
    expect(classes).toEqual({
      'coral/mobilenet_v1_0.25_128_quant': 'quantized',
      'coral/mobilenet_v2_1.0_224_quant': 'quantized',
      'coral/tf2_mobilenet_v2_1.0_224_ptq': 'quantized',
      'coral/movenet_single_pose_lightning_ptq': 'quantized',
      'coral/keras_lstm_mnist_ptq': 'quantized',
      [COMPILED]: 'compiled',
      'mediapipe/face_detection_short_range': 'float',
      'mediapipe/face_detection_full_range': 'float',
      'mediapipe/face_detection_full_range_sparse': 'float',
      'mediapipe/hand_landmark_lite': 'float',
      'mediapipe/hand_landmark_full': 'float',
      'mediapipe/selfie_segmentation': 'float',
      'mediapipe/selfie_segmentation_landscape': 'float',
    });
  });

  it('never calls the compiled op "not supported by the Edge TPU"', () => {
    const analysis = analyzeModel(compiled());
    expect(analysis.ops[0]!.edgetpu.reason).toBe('edgetpu-custom-op is already compiled for the Edge TPU');
  });

  it('names the first op of a model of which nothing maps', () => {
    const movenet = readModel(loadRealModel(realModel('coral/movenet_single_pose_lightning_ptq')));
    expect(emptyPrefixSentence(movenet)).toBe('nothing of this model maps to the Edge TPU (op 0 is CAST)');
    const mobilenet = readModel(loadRealModel(realModel('coral/mobilenet_v2_1.0_224_quant')));
    expect(emptyPrefixSentence(mobilenet, analyzeModel(mobilenet))).toBeUndefined();
    const face = readModel(loadRealModel(realModel('mediapipe/face_detection_short_range')));
    expect(emptyPrefixSentence(face)).toBe('float model: nothing maps to the Edge TPU');
  });
});
