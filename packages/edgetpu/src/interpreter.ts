/**
 * The typed interpreter: a thin wrapper over the raw binding that caches tensor metadata and turns binding
 * errors into SwapLess errors. Hot-path methods add no allocation beyond what the binding does.
 */
import type { TensorArray } from '@swapless/contracts';
import type { RawInterpreter, RawTensorInfo, TypedArrayName } from '@swapless/tflite-addon';
import { fromNative } from './native-errors.js';

/** The typed array classes tensors travel in, by name ({@link TensorInfo.arrayType}). */
export const TYPED_ARRAYS = {
  Float32Array,
  Float64Array,
  Int8Array,
  Uint8Array,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
} as const satisfies Record<TypedArrayName, unknown>;

/** Which delegates an interpreter may use: see {@link InterpreterOptions.delegate}. */
export type DelegateChoice = 'auto' | 'edgetpu' | 'cpu';

/** The delegates that can be active on an interpreter, in the order TFLite applied them. */
export type DelegateName = 'edgetpu' | 'xnnpack';

/** Metadata of an input or output tensor. */
export interface TensorInfo {
  /** Tensor name from the model. */
  readonly name: string;
  /** TFLite type name, e.g. `FLOAT32`, `INT8`, `UINT8`. */
  readonly type: string;
  /** Current shape (changes after {@link Interpreter.resizeInput}). */
  readonly shape: readonly number[];
  /** Size of the tensor's data in bytes. */
  readonly byteSize: number;
  /** The typed array class that carries the data, or null for types that cannot be exchanged (strings…). */
  readonly arrayType: TypedArrayName | null;
  /** Per-tensor affine quantization (`real = scale · (q − zeroPoint)`), or null for unquantized tensors. */
  readonly quantization: { readonly scale: number; readonly zeroPoint: number } | null;
}

/** What `createInterpreter` does with uint8-quantized compute when XNNPACK is on: see `InterpreterOptions.uint8`. */
export type Uint8Policy = 'int8' | 'as-is';

/** Which kernels run the CPU ops: XNNPACK (with TFLite's kernels for the ops it leaves), or TFLite's own only. */
export type KernelsName = 'xnnpack' | 'reference';

/** What the int8 rewrite of a uint8 model did (`rewriteToInt8`'s report, in short). */
export interface Int8Summary {
  /** uint8 ops now computed as int8. */
  readonly opsRewritten: number;
  /** QUANTIZE ops inserted between uint8 and int8 tensors (exact conversions). */
  readonly conversions: number;
  /** uint8 ops left uint8 (XNNPACK leaves them to TFLite anyway). */
  readonly keptUint8: number;
  /** Weight tensors made symmetric int8, and how many of them have requantized channels. */
  readonly weightTensors: number;
  readonly requantizedWeightTensors: number;
  /** Weight channels converted, and how many of them were requantized instead of shifted (lossless). */
  readonly channels: number;
  readonly requantizedChannels: number;
  /** Largest change of a weight, in units of its original scale (LSBs). */
  readonly maxWeightErrorLsb: number;
}

/** What actually runs an interpreter. */
export interface BackendInfo {
  /** The delegate choice that was asked for. */
  readonly requested: DelegateChoice;
  /** Delegates applied, in order (the Edge TPU one is always added before XNNPACK). */
  readonly delegates: readonly DelegateName[];
  /** True when the Edge TPU delegate is applied. */
  readonly edgetpu: boolean;
  /** True when the XNNPACK delegate is applied. */
  readonly xnnpack: boolean;
  /** Threads given to TFLite's builtin kernels and to XNNPACK. */
  readonly threads: number;
  /** The Edge TPU library that was used or tried; absent for `'cpu'`. */
  readonly edgetpuLibrary?: string;
  /** With `'auto'`: why the Edge TPU delegate was not used and the interpreter fell back to the CPU. */
  readonly fallbackReason?: string;
  /**
   * The CPU kernels: `'xnnpack'` when the XNNPACK delegate is applied, `'reference'` when TFLite's builtin
   * kernels run every CPU op (XNNPACK off, or it could not prepare the model: see {@link note}).
   */
  readonly kernels: KernelsName;
  /** The uint8 policy asked for. */
  readonly uint8: Uint8Policy;
  /** Present when the interpreter runs the int8 rewrite of a uint8 model on XNNPACK. */
  readonly int8?: Int8Summary;
  /** One sentence when something differs from what was asked: the reference-kernel fallback and why, or the int8 rewrite. */
  readonly note?: string;
  /** True when the model was verified before TFLite saw it (`verify`, default true). */
  readonly verified: boolean;
}

function toInfo(raw: RawTensorInfo): TensorInfo {
  const quantized = raw.scale !== 0 || raw.zeroPoint !== 0;
  return Object.freeze({
    name: raw.name,
    type: raw.type,
    shape: Object.freeze([...raw.shape]),
    byteSize: raw.byteSize,
    arrayType: raw.arrayType,
    quantization: quantized ? Object.freeze({ scale: raw.scale, zeroPoint: raw.zeroPoint }) : null,
  });
}

/**
 * A TFLite interpreter with its model, created by `createInterpreter`. One call at a time: while an
 * {@link invokeAsync} is in flight every other call throws `InterpreterBusyError`; after {@link dispose}
 * every call throws `InterpreterDisposedError`. Forgetting `dispose()` does not leak — the native memory is
 * freed when the object is garbage-collected — but disposing releases it (and any Edge TPU) deterministically.
 */
export class Interpreter {
  readonly #raw: RawInterpreter;
  #inputs: readonly TensorInfo[];
  #outputs: readonly TensorInfo[];
  /** What runs this interpreter: delegates, threads, and any fallback reason. */
  readonly backend: BackendInfo;

  /** @internal Use `createInterpreter`. */
  constructor(raw: RawInterpreter, backend: BackendInfo) {
    this.#raw = raw;
    this.backend = Object.freeze(backend);
    this.#inputs = [];
    this.#outputs = [];
    this.#refreshMetadata();
  }

  #refreshMetadata(): void {
    try {
      const raw = this.#raw;
      this.#inputs = Object.freeze(
        Array.from({ length: raw.inputCount() }, (_, i) => toInfo(raw.inputInfo(i))),
      );
      this.#outputs = Object.freeze(
        Array.from({ length: raw.outputCount() }, (_, i) => toInfo(raw.outputInfo(i))),
      );
    } catch (error) {
      throw fromNative(error);
    }
  }

  /** Input tensors' metadata (cached; refreshed by {@link resizeInput}). */
  get inputs(): readonly TensorInfo[] {
    return this.#inputs;
  }

  /** Output tensors' metadata (cached; refreshed by {@link resizeInput}). */
  get outputs(): readonly TensorInfo[] {
    return this.#outputs;
  }

  /** True while an {@link invokeAsync} is in flight. */
  get busy(): boolean {
    return this.#raw.busy;
  }

  /** True after {@link dispose}. */
  get disposed(): boolean {
    return this.#raw.disposed;
  }

  /**
   * Copies `data` into input `index`. The array must be of the tensor's {@link TensorInfo.arrayType} and
   * exactly {@link TensorInfo.byteSize} bytes (`InvalidArgumentError` otherwise).
   */
  setInput(index: number, data: TensorArray): void {
    try {
      this.#raw.setInput(index, data);
    } catch (error) {
      throw fromNative(error);
    }
  }

  /**
   * Output `index`: copied into `target` when given (no allocation; same type and byte size as the tensor),
   * otherwise into a new typed array of the tensor's type.
   */
  getOutput(index: number): TensorArray;
  getOutput<T extends TensorArray>(index: number, target: T): T;
  getOutput(index: number, target?: TensorArray): TensorArray {
    try {
      return target === undefined ? this.#raw.getOutput(index) : this.#raw.getOutput(index, target);
    } catch (error) {
      throw fromNative(error);
    }
  }

  /** Runs the model on the calling thread. Prefer {@link invokeAsync} for anything slower than a few ms. */
  invoke(): void {
    try {
      this.#raw.invoke();
    } catch (error) {
      throw fromNative(error);
    }
  }

  /**
   * Runs the model on the libuv thread pool; the event loop stays free. Rejects with
   * `InterpreterBusyError` when another invoke is in flight. If {@link dispose} is called meanwhile the
   * promise still settles by the invoke's own outcome, and the native memory is freed right after.
   */
  invokeAsync(): Promise<void> {
    try {
      return this.#raw.invokeAsync().catch((error: unknown) => Promise.reject(fromNative(error)));
    } catch (error) {
      return Promise.reject(fromNative(error));
    }
  }

  /**
   * Resizes input `index` to `shape` and reallocates every tensor; metadata is refreshed. Input data must be
   * set again afterwards.
   */
  resizeInput(index: number, shape: readonly number[]): void {
    try {
      this.#raw.resizeInput(index, shape);
      this.#raw.allocateTensors();
    } catch (error) {
      throw fromNative(error);
    }
    this.#refreshMetadata();
  }

  /**
   * Diagnostic: times `n` invokes from C++ alone and returns nanoseconds per invoke, so benchmarks can
   * separate the cost of the JS round trip from the cost of inference.
   */
  benchmarkInvoke(n: number): Float64Array {
    try {
      return this.#raw.benchmarkInvoke(n);
    } catch (error) {
      throw fromNative(error);
    }
  }

  /**
   * Frees the interpreter, its delegates and its model copy. Idempotent. Safe while an
   * {@link invokeAsync} is in flight: the free is deferred until it completes.
   */
  dispose(): void {
    this.#raw.dispose();
  }
}
