// The CPU path of createInterpreter on real models: verification before TFLite, the int8 rewrite of uint8 models,
// and the reference-kernel fallback when XNNPACK cannot prepare a model.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, InvalidModelError, UnsupportedModelError } from '@swapless/core';
import { describe, expect, inject, it } from 'vitest';
import { condenseReports, cpuPlan, fallbackNote } from './cpu-path.js';
import { createInterpreter, type Interpreter } from './index.js';

const fixture = (path: string): string =>
  fileURLToPath(new URL(`../../../fixtures/models/${path}`, import.meta.url));
const V2 = fixture('coral/mobilenet_v2_1.0_224_quant.tflite');
const V1 = fixture('coral/mobilenet_v1_0.25_128_quant.tflite');
const COMPILED = fixture('coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite');
const MOVENET = fixture('coral/movenet_single_pose_lightning_ptq.tflite');
const SELFIE = createRequire(import.meta.url).resolve(
  '@mediapipe/selfie_segmentation/selfie_segmentation.tflite',
);

/** Top-1 class of a model's first output on a seeded uint8 input. */
function top1(interpreter: Interpreter, seed: number): number {
  const input = new Uint8Array(interpreter.inputs[0]!.byteSize);
  let s = seed;
  for (let i = 0; i < input.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    input[i] = s >>> 24;
  }
  interpreter.setInput(0, input);
  interpreter.invoke();
  const out = interpreter.getOutput(0) as Uint8Array;
  return out.indexOf(Math.max(...out));
}

describe("uint8 models (Coral's classic MobileNets)", () => {
  it('run on XNNPACK as int8 by default, with the rewrite in the backend and one note', () => {
    const i = createInterpreter(V2);
    expect(i.backend).toMatchObject({ kernels: 'xnnpack', xnnpack: true, uint8: 'int8', verified: true });
    expect(i.backend.int8).toMatchObject({
      opsRewritten: 64,
      conversions: 4,
      keptUint8: 2,
      weightTensors: 53,
    });
    expect(i.backend.int8!.maxWeightErrorLsb).toBeGreaterThan(0);
    expect(i.backend.int8!.maxWeightErrorLsb).toBeLessThanOrEqual(1);
    expect(i.backend.note).toMatch(
      /^uint8 ops run as int8 on XNNPACK: 64 ops rewritten, 63 of 18057 weight channels/,
    );
    // The interface is the uint8 model's.
    expect(i.inputs[0]).toMatchObject({ type: 'UINT8', shape: [1, 224, 224, 3] });
    expect(i.outputs[0]).toMatchObject({ type: 'UINT8', quantization: { scale: 1 / 256, zeroPoint: 0 } });
    i.dispose();
  });

  it("fall back to TFLite's reference kernels with uint8: 'as-is', saying why in one sentence", () => {
    const i = createInterpreter(V1, { uint8: 'as-is' });
    expect(i.backend).toMatchObject({ kernels: 'reference', xnnpack: false, delegates: [], uint8: 'as-is' });
    expect(i.backend.int8).toBeUndefined();
    expect(i.backend.note).toBe(
      "XNNPACK could not prepare the model (failed to delegate CONV_2D nodes #0, #28), so TFLite's reference kernels " +
        "run it; uint8: 'int8' (the default) would rewrite its uint8 ops for XNNPACK",
    );
    i.dispose();
  });

  it('agree with the uint8 original on reference kernels (top-1, 3 seeded inputs)', () => {
    const fast = createInterpreter(V1);
    const reference = createInterpreter(V1, { xnnpack: false });
    expect(reference.backend.note).toBeUndefined(); // asked for, not a fallback
    for (const seed of [1, 2, 3]) expect(top1(fast, seed)).toBe(top1(reference, seed));
    fast.dispose();
    reference.dispose();
  });

  it('run as int8 on XNNPACK next to the Edge TPU delegate (the mock claims no op)', () => {
    const library = inject('mockEdgeTpuLibrary');
    const i = createInterpreter(V1, { delegate: 'edgetpu', edgetpu: { library } });
    expect(i.backend).toMatchObject({
      delegates: ['edgetpu', 'xnnpack'],
      kernels: 'xnnpack',
      int8: { opsRewritten: 29 },
    });
    i.dispose();
  });

  it('are rewritten even unverified, once XNNPACK refused them', () => {
    const i = createInterpreter(V1, { verify: false });
    expect(i.backend).toMatchObject({ kernels: 'xnnpack', verified: false, int8: { opsRewritten: 29 } });
    i.dispose();
  });
});

describe('a model XNNPACK cannot prepare', () => {
  it("runs on TFLite's reference kernels instead of failing (movenet)", () => {
    const i = createInterpreter(MOVENET);
    expect(i.backend).toMatchObject({ kernels: 'reference', xnnpack: false });
    expect(i.backend.note).toMatch(
      /^XNNPACK could not prepare the model \(failed to create XNNPACK runtime; .*\), so TFLite's reference kernels run it$/,
    );
    i.setInput(0, new Uint8Array(i.inputs[0]!.byteSize));
    i.invoke();
    i.dispose();
  });
});

describe('verification before TFLite sees the model', () => {
  it('refuses an unresolved custom op with the runnability sentence', () => {
    let caught: unknown;
    try {
      createInterpreter(SELFIE);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UnsupportedModelError);
    expect(caught).toMatchObject({
      code: ErrorCodes.UNSUPPORTED_MODEL,
      message: 'cannot run here: custom op Convolution2DTransposeBias',
      details: { customOps: ['Convolution2DTransposeBias'] },
    });
  });

  it('leaves the custom op to TFLite when verification is off (trusted files)', () => {
    expect(() => createInterpreter(SELFIE, { verify: false })).toThrow(
      /unresolved custom op: Convolution2DTransposeBias/,
    );
  });

  it('refuses a damaged model that crashed TFLite (SIGABRT) before TFLite sees it', () => {
    const hostile = fixture('hostile/coral_mobilenet_v1_0.25_128_quant-s1425-crash-SIGABRT.tflite');
    expect(() => createInterpreter(hostile)).toThrow(InvalidModelError);
    expect(() => createInterpreter(new Uint8Array(readFileSync(hostile)))).toThrow(/tensor index/);
  });

  it('refuses an Edge TPU compiled model on the CPU', () => {
    expect(() => createInterpreter(COMPILED)).toThrow(
      /^cannot run here: compiled for the Edge TPU \(1 edgetpu-custom-op\); it needs a real Edge TPU and libedgetpu$/,
    );
  });

  it("refuses it with 'auto' when no Edge TPU delegate could be applied, with the reason", () => {
    const library = inject('mockEdgeTpuLibrary');
    expect(() =>
      createInterpreter(COMPILED, { delegate: 'auto', edgetpu: { library, device: 'pci:0' } }),
    ).toThrow(
      /^cannot run here: compiled for the Edge TPU .* \(no Edge TPU: .*Could not find Edge TPU device pci:0\)$/,
    );
  });
});

describe('notes', () => {
  it('condense TFLite delegate messages into one clause', () => {
    expect(
      condenseReports([
        'failed to delegate CONV_2D node #0',
        'failed to delegate CONV_2D node #63',
        'failed to delegate ADD node #5',
        'Node number 66 (TfLiteXNNPackDelegate) failed to prepare.',
        'Restored original execution plan after delegate application failure.',
      ]),
    ).toBe('failed to delegate CONV_2D nodes #0, #63; failed to delegate ADD node #5');
    expect(
      condenseReports([
        'failed to create XNNPACK runtime',
        'Node number 3 (TfLiteXNNPackDelegate) failed to prepare.',
      ]),
    ).toBe('failed to create XNNPACK runtime; Node number 3 (TfLiteXNNPackDelegate) failed to prepare');
    expect(condenseReports([])).toBe('no reason given');
  });

  it('say when even the int8 rewrite did not help, or why it could not be made', () => {
    const plan = cpuPlan(new Uint8Array(8), undefined, { xnnpack: true, uint8: 'int8' });
    const rewritten = { bytes: new Uint8Array(8), int8: { opsRewritten: 1 } as never };
    expect(fallbackNote(['failed to delegate MUL node #2'], rewritten, plan)).toBe(
      'XNNPACK could not prepare the model even with its uint8 ops rewritten as int8 (failed to delegate MUL node #2), ' +
        "so TFLite's reference kernels run the original",
    );
  });
});
