/**
 * @swapless/tflite-addon: paths to the native binding and the bundled TFLite C library, and the types of
 * the raw binding. Nothing is loaded by importing this module; use @swapless/edgetpu for a typed facade.
 */

/** Absolute path of the compiled addon (build/Release/swapless_tflite.node). */
export declare const addonPath: string;

/** The prebuilt TFLite 2.9 C libraries inside tfjs-tflite-node, by `${process.platform}-${process.arch}`. */
export declare const tfliteLibraryLayouts: Readonly<Record<string, string>>;

/** Path of the TFLite C library bundled for a platform, or null when there is none. Existence is not checked. */
export declare function defaultTfLiteLibraryPath(platform?: string, arch?: string): string | null;

/** The system loader name of the Edge TPU runtime (`libedgetpu.so.1` on Linux). */
export declare const defaultEdgeTpuLibrary: string;

/** The `code` of errors the binding throws that are neither TypeError (wrong type) nor RangeError (bad value). */
export type RawErrorCode =
  | 'TFLITE_ADDON_LOAD'
  | 'TFLITE_ADDON_DELEGATE'
  | 'TFLITE_ADDON_RUNTIME'
  | 'TFLITE_ADDON_BUSY'
  | 'TFLITE_ADDON_DISPOSED';

/** An Error thrown by the binding with a code; `reports` carries TFLite's error-reporter messages. */
export interface RawError extends Error {
  code: RawErrorCode;
  reports: string[];
}

/** Metadata of one input or output tensor. */
export interface RawTensorInfo {
  name: string;
  /** TFLite type name, e.g. "FLOAT32", "INT8". */
  type: string;
  /** The TfLiteType enum value. */
  typeCode: number;
  shape: number[];
  byteSize: number;
  /** The JS typed array that carries the tensor's data, or null for types that cannot be exchanged. */
  arrayType: TypedArrayName | null;
  /** Per-tensor quantization (0 and 0 for float tensors). */
  scale: number;
  zeroPoint: number;
}

/** Names of the typed arrays the binding exchanges. */
export type TypedArrayName =
  | 'Float32Array'
  | 'Float64Array'
  | 'Int32Array'
  | 'Uint32Array'
  | 'Int16Array'
  | 'Uint16Array'
  | 'Int8Array'
  | 'Uint8Array'
  | 'BigInt64Array'
  | 'BigUint64Array';

/** Any typed array the binding accepts. */
export type RawTypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | BigInt64Array
  | BigUint64Array;

/** A dlopen'ed TFLite C library with every symbol resolved. Loading the same path twice shares one handle. */
export interface RawTfLiteLibrary {
  readonly path: string;
  version(): string;
}

/** Options of the raw interpreter constructor. */
export interface RawInterpreterOptions {
  /** Threads for builtin kernels and XNNPACK, 1..256 (default 1). */
  threads?: number;
  /** Apply the XNNPACK delegate with QS8|QU8 (default true). */
  xnnpack?: boolean;
  /** Apply an Edge TPU (external plugin) delegate, added before XNNPACK. */
  edgetpu?: { library: string; options?: Record<string, string> } | null;
}

/** A TFLite interpreter. Calls during an invokeAsync() throw TFLITE_ADDON_BUSY; after dispose() TFLITE_ADDON_DISPOSED. */
export interface RawInterpreter {
  inputCount(): number;
  outputCount(): number;
  inputInfo(index: number): RawTensorInfo;
  outputInfo(index: number): RawTensorInfo;
  setInput(index: number, data: RawTypedArray): void;
  getOutput(index: number): RawTypedArray;
  getOutput<T extends RawTypedArray>(index: number, target: T): T;
  resizeInput(index: number, shape: readonly number[]): void;
  allocateTensors(): void;
  invoke(): void;
  invokeAsync(): Promise<void>;
  /** Times `n` invokes from C++ alone; nanoseconds per invoke. */
  benchmarkInvoke(n: number): Float64Array;
  /** Frees now, or when the in-flight invokeAsync() completes. Idempotent. */
  dispose(): void;
  /** Delegates applied, in the order added: "edgetpu", "xnnpack". */
  readonly delegates: string[];
  readonly busy: boolean;
  readonly disposed: boolean;
}

/** What listEdgeTpus returns: the devices, or an empty list and why. */
export interface RawEdgeTpuListing {
  /** type: 0 = PCIe (EDGETPU_APEX_PCI), 1 = USB (EDGETPU_APEX_USB). */
  devices: { type: number; path: string }[];
  error: string | null;
}

/** The module the addon exports. */
export interface RawBinding {
  TfLiteLibrary: new (path: string) => RawTfLiteLibrary;
  Interpreter: new (
    library: RawTfLiteLibrary,
    model: Uint8Array | ArrayBuffer,
    options?: RawInterpreterOptions,
  ) => RawInterpreter;
  listEdgeTpus(library: string): RawEdgeTpuListing;
  readonly XNNPACK_FLAG_QS8: number;
  readonly XNNPACK_FLAG_QU8: number;
}
