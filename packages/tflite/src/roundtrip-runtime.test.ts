/**
 * Runs models rewritten by writeModel on the real TFLite 2.9 runtime (the raw binding) and checks the outputs are
 * bit-identical to the original's. Fails, never skips, when the native runtime is missing.
 */
import { describe, expect, it } from 'vitest';
import { readModel } from './reader.js';
import { type FaceModelName, loadFaceModel } from './testing/fixtures.js';
import { createRng } from './testing/mutate.js';
import { openInterpreter } from './testing/native.test-util.js';
import { writeModel } from './writer.js';

function run(bytes: Uint8Array, xnnpack: boolean, input: Float32Array): Uint8Array[] {
  const interpreter = openInterpreter(bytes, { threads: 1, xnnpack });
  try {
    interpreter.setInput(0, input);
    interpreter.invoke();
    return interpreter.outputs.map((_, i) => {
      const out = interpreter.getOutput(i);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength).slice();
    });
  } finally {
    interpreter.dispose();
  }
}

describe('round-tripped models on the TFLite runtime', () => {
  for (const name of [
    'face_detection_short_range.tflite',
    'face_detection_full_range.tflite',
  ] as FaceModelName[]) {
    for (const xnnpack of [false, true]) {
      it(`${name} gives bit-identical outputs after read → write (xnnpack ${xnnpack})`, () => {
        const original = loadFaceModel(name);
        const rewritten = writeModel(readModel(original));
        const probe = openInterpreter(original, { threads: 1, xnnpack });
        const size = probe.inputs[0]!.byteSize / 4;
        probe.dispose();
        const rng = createRng(7);
        const input = Float32Array.from({ length: size }, () => rng() * 2 - 1);
        const expected = run(original, xnnpack, input);
        const actual = run(rewritten, xnnpack, input);
        expect(actual.length).toBe(expected.length);
        expect(expected.length).toBeGreaterThan(0);
        actual.forEach((bytes, i) => {
          expect(Buffer.from(bytes).equals(Buffer.from(expected[i]!)), `output ${i}`).toBe(true);
        });
      });
    }
  }
});
