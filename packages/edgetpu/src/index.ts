/**
 * @swapless/edgetpu: typed facade over the SwapLess TFLite binding. Interpreters run on the CPU (XNNPACK)
 * or with the Edge TPU delegate (libedgetpu); the native pieces are found by one loader (see loader.ts).
 */
import type { Interpreter } from './interpreter.js';
import {
  type EdgeTpuDevice,
  getRuntime,
  type InterpreterOptions,
  type PreparedModel,
  type RuntimeInfo,
} from './runtime.js';

export {
  type BackendInfo,
  type DelegateChoice,
  type DelegateName,
  type Int8Summary,
  Interpreter,
  type KernelsName,
  type TensorInfo,
  TYPED_ARRAYS,
  type Uint8Policy,
} from './interpreter.js';
/** The typed arrays tensors travel in, from `@swapless/contracts` (one definition, re-exported here). */
export type { TensorArray } from '@swapless/contracts';
export { seededInput, seededInputs, zeroInput } from './inputs.js';
export { EDGETPU_LIB_ENV, type LoaderOptions, TFLITE_LIB_ENV } from './loader.js';
export {
  type EdgeTpuDevice,
  type EdgeTpuOptions,
  type InterpreterOptions,
  loadRuntime,
  MAX_THREADS,
  type PreparedModel,
  type PrepareOptions,
  prepareModel,
  type RuntimeInfo,
  TfLiteRuntime,
} from './runtime.js';
export {
  DEFAULT_VET_MEMORY_LIMIT_BYTES,
  DEFAULT_VET_TIMEOUT_MS,
  defaultVetter,
  VET_CACHE_SUBDIR,
  type VetOptions,
  type VetResult,
  type VetTensor,
  Vetter,
  type VetterOptions,
  type VetterStats,
  vetModel,
} from './vet.js';

/**
 * Creates an interpreter on the default runtime for a model (bytes, a .tflite path, or a model made once by
 * `prepareModel` for many interpreters). Defaults: 1 thread, XNNPACK on, delegate `'cpu'`, the model verified
 * before TFLite sees it, uint8 compute rewritten to int8 for XNNPACK; when XNNPACK cannot prepare a model, TFLite's
 * reference kernels run it (`backend.note` says why). Throws `NativeLoadError` when the runtime cannot be loaded,
 * `InvalidArgumentError` for bad options, `InvalidModelError` / `TfLiteRuntimeError` for a bad model,
 * `UnsupportedModelError` for a model the runtime here cannot run ("cannot run here: custom op X"), and
 * `DelegateUnavailableError` when `delegate: 'edgetpu'` cannot be honoured.
 */
export function createInterpreter(
  model: Uint8Array | string | PreparedModel,
  options?: InterpreterOptions,
): Interpreter {
  return getRuntime().createInterpreter(model, options);
}

/** Edge TPUs attached to this machine; empty when libedgetpu is not installed. */
export function listEdgeTpus(options?: { library?: string }): EdgeTpuDevice[] {
  return getRuntime().listEdgeTpus(options);
}

/** The TFLite version and the paths of the loaded addon and TFLite library. */
export function runtimeInfo(): RuntimeInfo {
  return getRuntime().info();
}
