// Test-only: the real TFLite 2.9 runtime through the raw binding (@swapless/tflite-addon), so this package's tests
// run exactly the bytes they build — no verification, no int8 rewrite, no fallback — and the package graph has no
// cycle (@swapless/edgetpu, the facade, depends on this package). Throws when the addon or the library is missing:
// these tests fail, they never skip.

import { createRequire } from 'node:module';
import type { TensorArray } from '@swapless/contracts';
import {
  addonPath,
  defaultTfLiteLibraryPath,
  type RawBinding,
  type RawInterpreter,
  type RawTensorInfo,
  type RawTfLiteLibrary,
} from '@swapless/tflite-addon';

/** Any typed array a tensor travels in. */
export type { TensorArray };

let loaded: { binding: RawBinding; library: RawTfLiteLibrary } | undefined;

function runtime(): { binding: RawBinding; library: RawTfLiteLibrary } {
  if (loaded === undefined) {
    const path = defaultTfLiteLibraryPath();
    if (path === null) throw new Error('no bundled TFLite C library for this platform (tfjs-tflite-node)');
    const binding = createRequire(import.meta.url)(addonPath) as RawBinding;
    loaded = { binding, library: new binding.TfLiteLibrary(path) };
  }
  return loaded;
}

/** A raw interpreter with its tensor metadata read once. */
export interface TestInterpreter {
  readonly inputs: readonly RawTensorInfo[];
  readonly outputs: readonly RawTensorInfo[];
  /** True when the XNNPACK delegate was applied. */
  readonly xnnpack: boolean;
  setInput(index: number, data: TensorArray): void;
  getOutput(index: number): TensorArray;
  invoke(): void;
  dispose(): void;
}

/**
 * Creates an interpreter for `bytes` on the CPU (XNNPACK as asked, default off: TFLite's reference kernels).
 * A delegate that cannot prepare the model throws (the raw binding's `TFLITE_ADDON_RUNTIME` with TFLite's reports).
 */
export function openInterpreter(
  bytes: Uint8Array,
  options: { threads?: number; xnnpack?: boolean } = {},
): TestInterpreter {
  const { binding, library } = runtime();
  const raw: RawInterpreter = new binding.Interpreter(library, bytes, {
    threads: options.threads ?? 1,
    xnnpack: options.xnnpack ?? false,
    edgetpu: null,
  });
  const inputs = Array.from({ length: raw.inputCount() }, (_, i) => raw.inputInfo(i));
  const outputs = Array.from({ length: raw.outputCount() }, (_, i) => raw.outputInfo(i));
  return {
    inputs,
    outputs,
    xnnpack: raw.delegates.includes('xnnpack'),
    setInput: (index, data) => raw.setInput(index, data),
    getOutput: (index) => raw.getOutput(index),
    invoke: () => raw.invoke(),
    dispose: () => raw.dispose(),
  };
}

/** Runs `fn` with a fresh interpreter and disposes it afterwards. */
export function withInterpreter<T>(
  bytes: Uint8Array,
  options: { threads?: number; xnnpack?: boolean },
  fn: (it: TestInterpreter) => T,
): T {
  const it = openInterpreter(bytes, options);
  try {
    return fn(it);
  } finally {
    it.dispose();
  }
}
