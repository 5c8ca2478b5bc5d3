// prepareModel: a model parsed, verified (or trusted) and rewritten once, then given to any number of interpreters,
// here or in another thread (it is plain data).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, InvalidArgumentError, InvalidModelError, UnsupportedModelError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import {
  createInterpreter,
  type Interpreter,
  type PreparedModel,
  prepareModel,
  seededInputs,
} from './index.js';
import { tinyAddModel } from './test-support.js';

const fixture = (path: string): string =>
  fileURLToPath(new URL(`../../../fixtures/models/${path}`, import.meta.url));
const V1 = fixture('coral/mobilenet_v1_0.25_128_quant.tflite');
const COMPILED = fixture('coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite');
const HOSTILE = fixture('hostile/coral_mobilenet_v1_0.25_128_quant-s1425-crash-SIGABRT.tflite');
const SELFIE = createRequire(import.meta.url).resolve(
  '@mediapipe/selfie_segmentation/selfie_segmentation.tflite',
);

/** The first output on the seeded inputs of seed 3; disposes the interpreter. */
function outputOf(it: Interpreter): Uint8Array {
  try {
    seededInputs(it.inputs, 3).forEach((a, i) => {
      it.setInput(i, a!);
    });
    it.invoke();
    return it.getOutput(0) as Uint8Array;
  } finally {
    it.dispose();
  }
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('prepareModel', () => {
  it('rewrites a uint8 model once; its interpreters run it exactly as createInterpreter on the file does', () => {
    const prepared = prepareModel(V1);
    expect(prepared).toMatchObject({
      kind: 'swapless.prepared-model',
      verified: true,
      compiled: null,
      uint8Compute: true,
      rewriteError: null,
      int8: { summary: { opsRewritten: 29 } },
    });
    expect(Object.isFrozen(prepared)).toBe(true);
    const direct = createInterpreter(V1);
    const fromPrepared = createInterpreter(prepared, { threads: 2 });
    expect(fromPrepared.backend).toEqual({ ...direct.backend, threads: 2 });
    expect(outputOf(fromPrepared)).toEqual(outputOf(direct));
  });

  it('survives a structured clone (a message to a worker thread), and its rewrite is what runs', () => {
    const prepared = prepareModel(V1);
    const clone = structuredClone(prepared) as PreparedModel;
    const a = createInterpreter(clone);
    expect(a.backend.int8?.opsRewritten).toBe(29);
    expect(outputOf(a)).toEqual(outputOf(createInterpreter(prepared)));
    // Proof that the prepared rewrite is used as it is, not computed again: swap in other bytes.
    const swapped = { ...clone, int8: { bytes: tinyAddModel(4), summary: clone.int8!.summary } };
    const b = createInterpreter(swapped);
    const tiny = createInterpreter(tinyAddModel(4));
    expect(b.inputs).toEqual(tiny.inputs);
    expect(b.inputs).not.toEqual(a.inputs);
    b.dispose();
    tiny.dispose();
  });

  it('follows the interpreter options: uint8 as-is and XNNPACK off run the original bytes', () => {
    const prepared = prepareModel(V1);
    const asIs = createInterpreter(prepared, { uint8: 'as-is' });
    expect(asIs.backend).toMatchObject({ kernels: 'reference', uint8: 'as-is' });
    expect(asIs.backend.note).toMatch(
      /uint8: 'int8' \(the default\) would rewrite its uint8 ops for XNNPACK$/,
    );
    asIs.dispose();
    const off = createInterpreter(prepared, { xnnpack: false });
    expect(off.backend).toMatchObject({ kernels: 'reference', xnnpack: false });
    expect(off.backend.int8).toBeUndefined();
    expect(off.backend.note).toBeUndefined();
    off.dispose();
  });

  it('copies the bytes: the caller may reuse its array', () => {
    const bytes = new Uint8Array(readFileSync(V1));
    const prepared = prepareModel(bytes);
    const expected = outputOf(createInterpreter(prepared));
    bytes.fill(0);
    expect(outputOf(createInterpreter(prepared))).toEqual(expected);
  });

  it('verifies by default, and trusted bytes (verify: false) are only parsed', () => {
    expect(caught(() => prepareModel(HOSTILE))).toBeInstanceOf(InvalidModelError);
    const trusted = prepareModel(readFileSync(V1), { verify: false });
    expect(trusted).toMatchObject({ verified: false, int8: { summary: { opsRewritten: 29 } } });
    const it = createInterpreter(trusted);
    expect(it.backend).toMatchObject({ verified: false, kernels: 'xnnpack' });
    it.dispose();
  });

  it('refuses a custom op TFLite cannot resolve, verified or not (the model is parsed anyway)', () => {
    for (const verify of [true, false]) {
      const error = caught(() => prepareModel(SELFIE, { verify }));
      expect(error).toBeInstanceOf(UnsupportedModelError);
      expect(error).toMatchObject({ message: 'cannot run here: custom op Convolution2DTransposeBias' });
    }
  });

  it('keeps the refusal of a compiled model for an interpreter without the Edge TPU delegate', () => {
    const prepared = prepareModel(COMPILED);
    expect(prepared.compiled).toMatch(/^cannot run here: compiled for the Edge TPU/);
    expect(() => createInterpreter(prepared)).toThrow(prepared.compiled!);
  });

  it('rejects bad options and broken prepared models with InvalidArgumentError', () => {
    const prepared = prepareModel(tinyAddModel(4));
    const cases: [() => unknown, RegExp][] = [
      [() => prepareModel(tinyAddModel(4), { verify: 'no' as never }), /for options\.verify but received/],
      [() => prepareModel(tinyAddModel(4), { threads: 1 } as never), /for the option names but received/],
      [() => prepareModel(42 as never), /^Expected a Uint8Array or a \.tflite file path for the model/],
      [
        () => createInterpreter(prepared, { verify: true }),
        /^Expected no verify option with a prepared model/,
      ],
      [
        () => createInterpreter({ ...prepared, bytes: 'x' } as never),
        /^Expected a model made by prepareModel/,
      ],
      [() => createInterpreter({ ...prepared, int8: { bytes: 1 } } as never), /^Expected a model made by/],
    ];
    for (const [fn, message] of cases) {
      const error = caught(fn);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({
        code: ErrorCodes.INVALID_ARGUMENT,
        message: expect.stringMatching(message),
      });
    }
  });
});
