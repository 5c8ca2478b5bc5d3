/**
 * Runs models rewritten by writeModel on the real TFLite 2.9 runtime (through @swapless/edgetpu) and checks the
 * outputs are bit-identical to the original's. Skipped, with the reason printed, when the native runtime cannot
 * be loaded on this machine (e.g. the addon is not built).
 */
import { describe, expect, it } from 'vitest';
import { readModel } from './reader.js';
import { type FaceModelName, loadFaceModel } from './testing/fixtures.js';
import { createRng } from './testing/mutate.js';
import { writeModel } from './writer.js';

type EdgeTpu = typeof import('@swapless/edgetpu');

async function loadRuntime(): Promise<{ edgetpu?: EdgeTpu; reason?: string }> {
  try {
    const edgetpu = await import('@swapless/edgetpu');
    if (typeof edgetpu.createInterpreter !== 'function')
      return { reason: 'createInterpreter is not exported' };
    edgetpu.runtimeInfo(); // loads the addon and the TFLite library, or throws NativeLoadError
    return { edgetpu };
  } catch (e) {
    return { reason: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

const { edgetpu, reason } = await loadRuntime();
if (reason !== undefined) console.warn(`roundtrip-runtime.test.ts skipped: ${reason}`);

function run(api: EdgeTpu, bytes: Uint8Array, xnnpack: boolean, input: Float32Array): Uint8Array[] {
  const interpreter = api.createInterpreter(bytes, { threads: 1, xnnpack });
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

describe.skipIf(edgetpu === undefined)('round-tripped models on the TFLite runtime', () => {
  for (const name of [
    'face_detection_short_range.tflite',
    'face_detection_full_range.tflite',
  ] as FaceModelName[]) {
    for (const xnnpack of [false, true]) {
      it(`${name} gives bit-identical outputs after read → write (xnnpack ${xnnpack})`, () => {
        const api = edgetpu!;
        const original = loadFaceModel(name);
        const rewritten = writeModel(readModel(original));
        const probe = api.createInterpreter(original, { threads: 1, xnnpack });
        const size = probe.inputs[0]!.byteSize / 4;
        probe.dispose();
        const rng = createRng(7);
        const input = Float32Array.from({ length: size }, () => rng() * 2 - 1);
        const expected = run(api, original, xnnpack, input);
        const actual = run(api, rewritten, xnnpack, input);
        expect(actual.length).toBe(expected.length);
        expect(expected.length).toBeGreaterThan(0);
        actual.forEach((bytes, i) => {
          expect(Buffer.from(bytes).equals(Buffer.from(expected[i]!)), `output ${i}`).toBe(true);
        });
      });
    }
  }
});
