/** Test helpers: small int8 models and a reference run of the unsplit model. Not exported by the package. */
import type { TensorArray } from '@swapless/contracts';
import { createInterpreter } from '@swapless/edgetpu';
import { buildTestNet } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';

/** The 10-op int8 test network of @swapless/tflite as bytes (input int8 [1,16,16,3] → [1,10]). */
export function testNetBytes(seed = 0): Uint8Array {
  return writeModel(buildTestNet(seed));
}

/** A deterministic int8 input for the test network. */
export function testInput(seed: number): Int8Array {
  const a = new Int8Array(16 * 16 * 3);
  new SeededRandom(seed).fillUniformInt8(a);
  return a;
}

/** Outputs of the whole model on the CPU (XNNPACK, 1 thread): the reference every split must equal. */
export function reference(model: Uint8Array, inputs: readonly TensorArray[]): TensorArray[] {
  const it = createInterpreter(model, { threads: 1 });
  inputs.forEach((a, i) => {
    it.setInput(i, a);
  });
  it.invoke();
  const out = it.outputs.map((_, i) => it.getOutput(i));
  it.dispose();
  return out;
}
