// Test-only: runs generated models on the real TFLite 2.9 runtime through @swapless/edgetpu, with the facade's
// conveniences switched off so the runtime sees exactly the bytes the builder wrote: no verification (the tests
// check the verifier separately), no uint8 → int8 rewrite, and no silent fallback — an XNNPACK setting the
// runtime did not honour throws. Fails (never skips) when the runtime is missing. Not exported by the package.

import type { TensorArray } from '@swapless/contracts';
import { createInterpreter, type Interpreter, seededInputs } from '@swapless/edgetpu';
import { splitBytes } from '@swapless/tflite';

/** Any typed array a tensor travels in. */
export type { TensorArray };

/** Runtime settings of one comparison: XNNPACK on or off (TFLite's reference kernels), 1 thread by default. */
export interface RunSettings {
  xnnpack: boolean;
  threads?: number;
}

/** Creates an interpreter that runs `bytes` as they are, with XNNPACK exactly as asked. */
export function openInterpreter(bytes: Uint8Array, settings: RunSettings): Interpreter {
  const it = createInterpreter(bytes, {
    threads: settings.threads ?? 1,
    xnnpack: settings.xnnpack,
    verify: false,
    uint8: 'as-is',
  });
  if (it.backend.xnnpack !== settings.xnnpack) {
    const note = it.backend.note ?? 'no note';
    it.dispose();
    throw new Error(`XNNPACK ${settings.xnnpack ? 'on' : 'off'} was asked but not honoured (${note})`);
  }
  return it;
}

/** Runs `fn` with a fresh interpreter for `bytes` and disposes it afterwards. */
export function withInterpreter<T>(bytes: Uint8Array, settings: RunSettings, fn: (it: Interpreter) => T): T {
  const it = openInterpreter(bytes, settings);
  try {
    return fn(it);
  } finally {
    it.dispose();
  }
}

/** Runs a model with inputs matched by tensor name; returns its outputs by name. */
export function runByName(
  bytes: Uint8Array,
  values: ReadonlyMap<string, TensorArray>,
  settings: RunSettings,
): Map<string, TensorArray> {
  return withInterpreter(bytes, settings, (it) => {
    it.inputs.forEach((info, i) => {
      const value = values.get(info.name);
      if (value === undefined) throw new Error(`no value for input "${info.name}"`);
      it.setInput(i, value);
    });
    it.invoke();
    return new Map(it.outputs.map((info, i) => [info.name, it.getOutput(i)]));
  });
}

/** Seeded inputs for every input of a model (edgetpu's `seededInputs`), keyed by tensor name. */
export function inputsByName(bytes: Uint8Array, seed = 1): Map<string, TensorArray> {
  return withInterpreter(bytes, { xnnpack: false }, (it) => {
    const values = seededInputs(it.inputs, seed);
    return new Map(
      it.inputs.map((info, i) => {
        const value = values[i];
        if (value === null || value === undefined) throw new Error(`cannot make an input for "${info.name}"`);
        return [info.name, value];
      }),
    );
  });
}

/**
 * Splits `bytes` at each k, runs head then tail (the tail's inputs by name from the head's outputs and the model's
 * inputs) and lists every output whose bytes differ from the whole model's: empty when every cut is bit-exact.
 */
export function splitMismatches(bytes: Uint8Array, ks: readonly number[], settings: RunSettings): string[] {
  const inputs = inputsByName(bytes);
  const whole = runByName(bytes, inputs, settings);
  const mismatches: string[] = [];
  for (const k of ks) {
    const split = splitBytes(bytes, k);
    const values = new Map(inputs);
    if (split.head !== null)
      for (const [name, data] of runByName(split.head, inputs, settings)) values.set(name, data);
    if (split.tail !== null)
      for (const [name, data] of runByName(split.tail, values, settings)) values.set(name, data);
    for (const [name, data] of whole) {
      const got = values.get(name);
      if (got === undefined || Buffer.compare(rawBytes(got), rawBytes(data)) !== 0)
        mismatches.push(`${name} at k=${k}`);
    }
  }
  return mismatches;
}

/** The bytes of a typed array's data, for bit-exact comparison. */
export function rawBytes(array: TensorArray): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}
