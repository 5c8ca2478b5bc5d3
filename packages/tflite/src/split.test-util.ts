// Test-only: runs whole models and split parts on the real TFLite runtime. Not exported by the package.
import type { SplitBytesResult } from './split.js';
import { openInterpreter, type TensorArray } from './testing/native.test-util.js';

/** Runtime settings shared by the whole model and its parts in one comparison. */
export interface RunSettings {
  xnnpack: boolean;
  threads?: number;
}

type ArrayCtor = new (length: number) => TensorArray;

function filled(arrayType: string | null, byteSize: number, seed: number): TensorArray {
  const ctor = (globalThis as unknown as Record<string, ArrayCtor | undefined>)[arrayType ?? ''];
  if (ctor === undefined) throw new Error(`cannot build an input of array type ${String(arrayType)}`);
  const probe = new ctor(1) as unknown as { BYTES_PER_ELEMENT: number };
  const array = new ctor(byteSize / probe.BYTES_PER_ELEMENT) as unknown as {
    [i: number]: number;
    length: number;
  };
  // Deterministic pseudo-random data in a range every type can hold (floats in [-1, 1), ints in [-100, 100)).
  let state = (seed * 2654435761 + 1) >>> 0;
  const float = arrayType === 'Float32Array' || arrayType === 'Float64Array';
  for (let i = 0; i < array.length; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    array[i] = float ? state / 2 ** 31 - 1 : (state % 200) - 100;
  }
  return array as unknown as TensorArray;
}

/** Deterministic inputs for a model, one per input in input order, keyed by tensor name too. */
export function makeInputs(model: Uint8Array, seed = 1): Map<string, TensorArray> {
  const interpreter = openInterpreter(model, { threads: 1, xnnpack: false });
  try {
    const inputs = new Map<string, TensorArray>();
    interpreter.inputs.forEach((info, i) => {
      inputs.set(info.name, filled(info.arrayType, info.byteSize, seed + i));
    });
    return inputs;
  } finally {
    interpreter.dispose();
  }
}

/** Runs one model with inputs matched by tensor name; returns outputs in output order with their names. */
export function runByName(
  model: Uint8Array,
  values: ReadonlyMap<string, TensorArray>,
  settings: RunSettings,
): { name: string; data: TensorArray }[] {
  const interpreter = openInterpreter(model, { threads: settings.threads ?? 1, xnnpack: settings.xnnpack });
  try {
    if (interpreter.xnnpack !== settings.xnnpack) throw new Error('XNNPACK setting not honoured');
    interpreter.inputs.forEach((info, i) => {
      const value = values.get(info.name);
      if (value === undefined) throw new Error(`no value for input "${info.name}"`);
      interpreter.setInput(i, value);
    });
    interpreter.invoke();
    return interpreter.outputs.map((info, i) => ({ name: info.name, data: interpreter.getOutput(i) }));
  } finally {
    interpreter.dispose();
  }
}

/**
 * Runs head then tail, matching tensors by name: the tail's inputs come from the head's outputs or from the
 * original inputs. Returns the final outputs in the original model's output order.
 */
export function runChained(
  split: SplitBytesResult,
  inputs: ReadonlyMap<string, TensorArray>,
  settings: RunSettings,
): TensorArray[] {
  const values = new Map(inputs);
  const headOutputs = split.head === null ? [] : runByName(split.head, inputs, settings);
  const names = new Set<string>();
  for (const { name, data } of headOutputs) {
    if (names.has(name)) throw new Error(`head output name "${name}" is not unique`);
    names.add(name);
    values.set(name, data);
  }
  const tailOutputs = split.tail === null ? [] : runByName(split.tail, values, settings);
  return split.boundary.outputs.map((o) => {
    if (o.part === 'head') return headOutputs[o.index]!.data;
    if (o.part === 'tail') return tailOutputs[o.index]!.data;
    return inputs.get(o.name)!;
  });
}

/** Bytes of a typed array's data (for bit-exact comparison, NaN payloads and -0 included). */
export function rawBytes(array: TensorArray): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}
