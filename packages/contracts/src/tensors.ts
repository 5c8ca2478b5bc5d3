/**
 * Tensors as SwapLess exchanges them, and models as the inference protocol (KServe v2 / Open Inference Protocol)
 * describes them: the datatype names, the typed arrays that carry the data, tensor and model metadata, and the
 * pattern every model and tenant name matches.
 */

/** Every datatype the Open Inference Protocol names. */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

/** A datatype of the Open Inference Protocol (`FP32`, `INT8`, …, `BYTES`). */
export type Datatype = (typeof DATATYPES)[number];

/**
 * The datatypes that travel as plain numbers — every one but `BYTES` (BOOL as one byte per element, FP16 as raw
 * IEEE half bits in a Uint16Array). These are the ones SwapLess can exchange.
 */
export type NumericDatatype = Exclude<Datatype, 'BYTES'>;

/** Any typed array a tensor travels in (float16 as raw bits in a Uint16Array, BOOL as bytes). */
export type TensorArray =
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

/** One input or output tensor of a model as the protocol describes it. */
export interface TensorMeta {
  readonly name: string;
  readonly datatype: Datatype;
  /** Dimensions; `-1` marks a dimension of any size (the request's shape decides it). */
  readonly shape: readonly number[];
}

/** A model's metadata, as `GET /v2/models/{name}` returns it. */
export interface ModelMetadata {
  readonly name: string;
  /** Versions served; the first is the one reported in inference responses (SwapLess serves `['1']`). */
  readonly versions: readonly string[];
  /** The model format, e.g. `tflite`. */
  readonly platform: string;
  readonly inputs: readonly TensorMeta[];
  readonly outputs: readonly TensorMeta[];
}

/**
 * What every model name and tenant name matches: 1–64 characters, letters, digits, `.`, `_` and `-`, not starting
 * with a punctuation character. Names appear in URLs, file names and metric labels, so nothing else is allowed.
 */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
