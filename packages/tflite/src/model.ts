/**
 * The in-memory graph of a .tflite model: a faithful, typed mirror of the flatbuffer schema's tables
 * (field ids in docs/tflite-format.md). Reader, writer, analysis and splitter all work on these types.
 *
 * Conventions: names are camelCase versions of the schema's snake_case; absent optional fields are
 * `undefined`; tensor/operator indices are plain numbers; `-1` in an operator's inputs means "absent".
 */

import { DATATYPES, type NumericDatatype } from '@swapless/contracts';

/** TensorType enum values of the schema. */
export const TensorType = {
  FLOAT32: 0,
  FLOAT16: 1,
  INT32: 2,
  UINT8: 3,
  INT64: 4,
  STRING: 5,
  BOOL: 6,
  INT16: 7,
  COMPLEX64: 8,
  INT8: 9,
  FLOAT64: 10,
  COMPLEX128: 11,
  UINT64: 12,
  RESOURCE: 13,
  VARIANT: 14,
  UINT32: 15,
  UINT16: 16,
  INT4: 17,
} as const;

const TENSOR_TYPE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(TensorType).map(([name, id]) => [id, name]),
);

/** The schema name of a TensorType value (`INT8`, `FLOAT32`…), or `type N` for values it does not know. */
export function tensorTypeName(type: number): string {
  return TENSOR_TYPE_NAMES[type] ?? `type ${type}`;
}

/** The TFLite tensor type name of a numeric protocol datatype: the same name, with `FLOATnn` for `FPnn`. */
type TfliteTypeName<D extends NumericDatatype> = D extends `FP${infer Bits}` ? `FLOAT${Bits}` : D;

/**
 * The Open Inference Protocol (KServe v2 / Triton) datatype (`NumericDatatype` of `@swapless/contracts`) of each
 * TFLite tensor type that travels as plain numbers (BOOL as bytes, FLOAT16 as raw 16-bit words), by schema type
 * name. Derived from the protocol's one list, `DATATYPES`; strings, complex numbers, resources and INT4 have none.
 */
export const INFERENCE_DATATYPES = Object.freeze(
  Object.fromEntries(
    DATATYPES.filter((d): d is NumericDatatype => d !== 'BYTES').map((d) => [d.replace(/^FP/, 'FLOAT'), d]),
  ),
) as { readonly [D in NumericDatatype as TfliteTypeName<D>]: D };

/** @deprecated `NumericDatatype` of `@swapless/contracts` (an inference-protocol datatype name: `FP32`, `INT8`, …). */
export type InferenceDatatype = NumericDatatype;

/** The inference-protocol datatype of a TFLite tensor type name (`FLOAT32` → `FP32`), or undefined when none. */
export function inferenceDatatype(typeName: string): NumericDatatype | undefined {
  return Object.hasOwn(INFERENCE_DATATYPES, typeName)
    ? INFERENCE_DATATYPES[typeName as keyof typeof INFERENCE_DATATYPES]
    : undefined;
}

/** A TensorType enum value. */
export type TensorTypeId = number;

/** Per-tensor or per-axis affine quantization (schema table QuantizationParameters). */
export interface Quantization {
  min?: number[];
  max?: number[];
  scale?: number[];
  /** Schema type is [long]; values outside ±2^53 are refused by the reader. */
  zeroPoint?: number[];
  /**
   * The `details` union (schema QuantizationDetails): its only member, CustomQuantization, is opaque bytes
   * that a custom kernel interprets; kept verbatim so a model using it round-trips.
   */
  details?: CustomQuantization;
  quantizedDimension: number;
}

/** Schema table CustomQuantization (QuantizationDetails type 1): bytes only a custom kernel understands. */
export interface CustomQuantization {
  /** The bytes, verbatim (a view into the source file when read). */
  custom?: Uint8Array;
}

/** Element type of a sparse index vector (schema union SparseIndexVector: Int32Vector 1, Uint16Vector 2, Uint8Vector 3). */
export type SparseIndexType = 'int32' | 'uint16' | 'uint8';

/** One index vector of a sparse dimension: its element type is part of the format and kept exactly. */
export interface SparseIndexVector {
  type: SparseIndexType;
  /** The indices; absent when the file has no `values` vector (kept apart from an empty one). */
  values?: number[];
}

/** Schema table DimensionMetadata: how one dimension of a sparse tensor is stored. */
export interface DimensionMetadata {
  /** DimensionType: 0 = DENSE, 1 = SPARSE_CSR. */
  format: number;
  /** Size of a DENSE dimension. */
  denseSize: number;
  /** SPARSE_CSR segments (absent for DENSE). */
  arraySegments?: SparseIndexVector;
  /** SPARSE_CSR indices (absent for DENSE). */
  arrayIndices?: SparseIndexVector;
}

/**
 * Schema table SparsityParameters: a constant tensor stored compressed (its buffer holds only the non-zero
 * values); a DENSIFY op, or a kernel that reads sparse weights, expands it. Field semantics: TFLite's schema.
 */
export interface SparsityParameters {
  traversalOrder?: number[];
  blockMap?: number[];
  dimMetadata?: DimensionMetadata[];
}

/** Schema table VariantSubType: the type of a value held by a VARIANT tensor (e.g. a tensor list's elements). */
export interface VariantSubType {
  shape?: number[];
  type: TensorTypeId;
  hasRank: boolean;
}

/** One tensor of a subgraph (schema table Tensor). */
export interface Tensor {
  shape: number[];
  type: TensorTypeId;
  /** Index into {@link TfliteModel.buffers}; 0 (the empty sentinel) for non-constant tensors. */
  buffer: number;
  name: string;
  quantization?: Quantization;
  isVariable: boolean;
  /** Set for a sparse constant: its buffer holds the compressed values this describes. */
  sparsity?: SparsityParameters;
  shapeSignature?: number[];
  hasRank: boolean;
  /** Element types of a VARIANT tensor. */
  variantTensors?: VariantSubType[];
  /**
   * Set by the reader when the file holds something here that SwapLess cannot represent faithfully (fields
   * newer than the schema SwapLess knows): one reason per entry.
   * The model can still be inspected; `writeModel` refuses to write it rather than drop data.
   */
  unsupported?: string[];
}

/** Decoded builtin options of one operator. `fields` keys are the schema's field names in camelCase. */
export interface BuiltinOptions {
  /** BuiltinOptions union type id (e.g. 1 = Conv2DOptions). */
  type: number;
  /** Schema name of the options table, e.g. "Conv2DOptions"; "unknown" when SwapLess has no spec for it. */
  name: string;
  /** Field values; vectors as number arrays. Empty for "unknown". */
  fields: Record<string, number | boolean | number[]>;
  /** True when the reader met an options table it cannot represent: such an op can be analysed but never written. */
  unsupported?: boolean;
}

/** One operator (schema table Operator). */
export interface Operator {
  opcodeIndex: number;
  inputs: number[];
  outputs: number[];
  builtinOptions?: BuiltinOptions;
  /** Raw custom options bytes (e.g. an edgetpu-custom-op's payload), kept verbatim. */
  customOptions?: Uint8Array;
  customOptionsFormat: number;
  mutatingVariableInputs?: boolean[];
  intermediates?: number[];
  /**
   * Set by the reader when the file holds something here that SwapLess cannot represent faithfully (fields
   * newer than the schema SwapLess knows): one reason per entry.
   * The model can still be inspected; `writeModel` refuses to write it rather than drop data.
   */
  unsupported?: string[];
}

/** An entry of the model's operator code table (schema table OperatorCode). */
export interface OperatorCode {
  /** The effective builtin code: max(deprecated_builtin_code, builtin_code), as TFLite reads it. */
  builtinCode: number;
  customCode?: string;
  version: number;
}

/** One subgraph (schema table SubGraph). SwapLess analyses and splits subgraph 0, the main graph. */
export interface SubGraph {
  tensors: Tensor[];
  inputs: number[];
  outputs: number[];
  operators: Operator[];
  name?: string;
  /**
   * Set by the reader when the file holds something here that SwapLess cannot represent faithfully (fields
   * newer than the schema SwapLess knows): one reason per entry.
   * The model can still be inspected; `writeModel` refuses to write it rather than drop data.
   */
  unsupported?: string[];
}

/** A constant data buffer (schema table Buffer). */
export interface ModelBuffer {
  /** The bytes; a view into the source file when read, so treat as read-only. */
  data?: Uint8Array;
  /** For models > 2 GB whose data lives after the flatbuffer: offset and size in the file. */
  offset?: number;
  size?: number;
}

/** A metadata entry (schema table Metadata): a name and a buffer index. */
export interface Metadata {
  name?: string;
  buffer: number;
}

/** A tensor mapping of a signature (schema table TensorMap). */
export interface TensorMap {
  name?: string;
  tensorIndex: number;
}

/** A signature (schema table SignatureDef). */
export interface SignatureDef {
  inputs: TensorMap[];
  outputs: TensorMap[];
  signatureKey?: string;
  /**
   * The schema's deprecated `deprecated_tag` string (once the TF SavedModel tag). TFLite ignores it, but
   * converters still write it (Coral's movenet and LSTM): kept so such models round-trip.
   */
  deprecatedTag?: string;
  subgraphIndex: number;
}

/** A whole model (schema root table Model). */
export interface TfliteModel {
  version: number;
  operatorCodes: OperatorCode[];
  subgraphs: SubGraph[];
  description?: string;
  buffers: ModelBuffer[];
  metadataBuffer?: number[];
  metadata?: Metadata[];
  signatureDefs?: SignatureDef[];
  /**
   * Set by the reader when the file holds something here that SwapLess cannot represent faithfully (fields
   * newer than the schema SwapLess knows): one reason per entry.
   * The model can still be inspected; `writeModel` refuses to write it rather than drop data.
   */
  unsupported?: string[];
}
