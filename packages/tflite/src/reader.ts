/**
 * `readModel`: bytes of an untrusted .tflite file → a verified {@link TfliteModel}.
 *
 * Structure is verified by {@link FlatBufferReader}; this module adds the schema's semantics: the "TFL3"
 * identifier, schema version 3, index ranges (operator → opcode, tensor → buffer, operator/subgraph → tensor,
 * metadata → buffer, signature → subgraph/tensor), enum ranges that decide how bytes are interpreted (tensor
 * type, union type ids), shape sanity, and constant-buffer sizes (`product(shape) × sizeof(type)`, the check
 * TFLite itself makes when it maps a constant tensor). Anything the file holds that the in-memory model cannot
 * represent faithfully is *marked* (`unsupported` on the owning object) rather than dropped or refused, so the
 * model can still be inspected; `writeModel` refuses marked models. Field ids: docs/tflite-format.md.
 */
import { expected, InvalidArgumentError, InvalidModelError, UnsupportedModelError } from '@swapless/core';
import { FlatBufferReader, type Table, type Tracer } from './flatbuffer-read.js';
import type {
  BuiltinOptions,
  DimensionMetadata,
  Metadata,
  ModelBuffer,
  Operator,
  OperatorCode,
  Quantization,
  SignatureDef,
  SparseIndexType,
  SparseIndexVector,
  SparsityParameters,
  SubGraph,
  Tensor,
  TensorMap,
  TfliteModel,
  VariantSubType,
} from './model.js';
import { getOptionsSpec, type OptionsTableSpec } from './options.js';
import { type VerifyOptions, verifyModel } from './verify.js';

/** Options of {@link readModel}. Defaults suit any real model; lower them to bound work on hostile input. */
export interface ReadModelOptions extends VerifyOptions {
  /**
   * Run the semantic verifier ({@link verifyModel}: what TFLite's kernels trust — op arities, optional inputs,
   * dataflow, ranks, types, shapes, option ranges). Default `true`; `false` only to inspect a file that is
   * well-formed but semantically broken, never before handing it to TFLite.
   */
  verifySemantics?: boolean;
  /**
   * Accept a file whose bytes 4–7 are not the identifier "TFL3". Default `false`: TFLite's own verifier
   * requires it, and without it almost any byte string starts like a flatbuffer.
   */
  allowMissingIdentifier?: boolean;
  /** Maximum tables in the file (tensors, operators, buffers, …). Default 1,000,000. */
  maxTables?: number;
  /** Maximum decoded vector elements and string bytes. Default 8 × file size + 1,000,000. */
  maxElements?: number;
  /** Maximum tensor rank. Default 64. */
  maxRank?: number;
}

/** The schema version TFLite 2.9 accepts (it refuses any other). */
export const TFLITE_SCHEMA_VERSION = 3;
/** The file identifier at bytes 4–7. */
export const TFLITE_FILE_IDENTIFIER = 'TFL3';

/** Bytes per element of each fixed-size TensorType; variable-size types (STRING, RESOURCE, VARIANT, INT4) absent. */
const TYPE_SIZE: Readonly<Record<number, number>> = {
  0: 4, // FLOAT32
  1: 2, // FLOAT16
  2: 4, // INT32
  3: 1, // UINT8
  4: 8, // INT64
  6: 1, // BOOL
  7: 2, // INT16
  8: 8, // COMPLEX64
  9: 1, // INT8
  10: 8, // FLOAT64
  11: 16, // COMPLEX128
  12: 8, // UINT64
  15: 4, // UINT32
  16: 2, // UINT16
};
const MAX_TENSOR_TYPE = 17;
const MAX_FLATBUFFER_SIZE = 0x7fffffff;

/** Known field counts per table; present fields beyond them come from a newer schema and are marked. */
const KNOWN_FIELDS = {
  Model: 8,
  OperatorCode: 4,
  SubGraph: 5,
  Tensor: 10,
  QuantizationParameters: 7,
  Operator: 9,
  Buffer: 3,
  Metadata: 2,
  SignatureDef: 5,
  TensorMap: 2,
  CustomQuantization: 1,
  SparsityParameters: 3,
  DimensionMetadata: 6,
  SparseIndexVector: 1,
  VariantSubType: 3,
} as const;

/** SparseIndexVector union members by type id: element type and element size. */
const SPARSE_INDEX_TYPES: Readonly<Record<number, readonly [SparseIndexType, number]>> = {
  1: ['int32', 4],
  2: ['uint16', 2],
  3: ['uint8', 1],
};

/**
 * Reads and completely verifies a .tflite model.
 *
 * Buffer data (`ModelBuffer.data`) and custom options are zero-copy views into `bytes`: keep `bytes` unchanged
 * while the model is in use.
 *
 * @throws InvalidArgumentError when `bytes` is not a Uint8Array.
 * @throws InvalidModelError when the bytes are not a well-formed .tflite file; `details` has `path` and `offset`.
 * @throws UnsupportedModelError for a well-formed file SwapLess cannot represent at all (schema version ≠ 3,
 *   > 2 GB, 64-bit zero points beyond ±2^53).
 */
export function readModel(bytes: Uint8Array, options: ReadModelOptions = {}): TfliteModel {
  return read(bytes, options, undefined);
}

/**
 * Reads like {@link readModel} while reporting every structural position touched. Internal: the fuzz mutator
 * uses it to aim corruptions at offsets, vtables, vector lengths and indices.
 */
export function traceModel(bytes: Uint8Array, tracer: Tracer): TfliteModel {
  return read(bytes, {}, tracer);
}

function read(bytes: Uint8Array, options: ReadModelOptions, tracer: Tracer | undefined): TfliteModel {
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError(expected('a Uint8Array', 'the model bytes', bytes));
  }
  if (bytes.length > MAX_FLATBUFFER_SIZE) {
    throw new UnsupportedModelError(
      expected('a model below 2 GB', 'the model bytes', `${bytes.length} bytes`),
      {
        details: { size: bytes.length },
      },
    );
  }
  if (bytes.length < 8) {
    throw new InvalidModelError(expected('at least 8 bytes', 'a .tflite file', `${bytes.length} bytes`), {
      details: { path: 'file', offset: 0 },
    });
  }
  const ident = String.fromCharCode(bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!);
  if (!options.allowMissingIdentifier && ident !== TFLITE_FILE_IDENTIFIER) {
    throw new InvalidModelError(expected('the file identifier "TFL3"', 'bytes 4–7', ident), {
      details: { path: 'file identifier', offset: 4 },
    });
  }
  const r = new FlatBufferReader(
    bytes,
    {
      maxTables: options.maxTables ?? 1_000_000,
      maxElements: options.maxElements ?? 8 * bytes.length + 1_000_000,
      maxDepth: 16,
    },
    tracer,
  );
  const model = new ModelReader(r, options.maxRank ?? 64).read();
  if (tracer === undefined && options.verifySemantics !== false) verifyModel(model, options);
  return model;
}

/** Records a reason the writer must refuse `obj`, creating the list on first use. */
function mark(obj: { unsupported?: string[] }, reason: string): void {
  if (obj.unsupported === undefined) obj.unsupported = [];
  obj.unsupported.push(reason);
}

class ModelReader {
  constructor(
    private readonly r: FlatBufferReader,
    private readonly maxRank: number,
  ) {}

  private invalid(what: string, path: string, received: unknown, offset: number): never {
    return this.r.fail(what, path, received, offset);
  }

  /** Records the table's fields of a newer schema in `into` (creating it), so the writer can refuse. */
  private markUnknown(t: Table, known: number, into: { unsupported?: string[] }, path = t.path): void {
    const ids = t.unknownFields(known);
    if (ids.length > 0) mark(into, `${path}: unknown field id(s) ${ids.join(', ')}`);
  }

  read(): TfliteModel {
    const root = this.r.table(this.r.deref(0, 'root offset'), 'model', 0);
    const model: TfliteModel = { version: 0, operatorCodes: [], subgraphs: [], buffers: [] };

    model.version = root.uint32(0, 'version', 0);
    if (model.version !== 3) {
      throw new UnsupportedModelError(expected('schema version 3', 'model.version', model.version), {
        details: { path: 'model.version', offset: root.pos },
      });
    }
    model.operatorCodes = (root.tables(1, 'operator_codes') ?? []).map((t) => this.operatorCode(t, model));
    model.buffers = (root.tables(4, 'buffers') ?? []).map((t) => this.buffer(t, model));

    const subgraphTables = root.tables(2, 'subgraphs') ?? [];
    if (subgraphTables.length === 0) this.invalid('at least one subgraph', 'model.subgraphs', 0, root.pos);
    model.subgraphs = subgraphTables.map((t) => this.subgraph(t, model));

    const description = root.string(3, 'description');
    if (description !== undefined) model.description = description;

    const metadataBuffer = root.int32s(5, 'metadata_buffer', true);
    if (metadataBuffer !== undefined) {
      metadataBuffer.forEach((b, i) => {
        this.checkIndex(b, model.buffers.length, `model.metadata_buffer[${i}]`, 'a buffer index', root.pos);
      });
      model.metadataBuffer = metadataBuffer;
    }
    const metadata = root.tables(6, 'metadata');
    if (metadata !== undefined) model.metadata = metadata.map((t) => this.metadata(t, model));
    const signatures = root.tables(7, 'signature_defs');
    if (signatures !== undefined) model.signatureDefs = signatures.map((t) => this.signatureDef(t, model));

    this.markUnknown(root, KNOWN_FIELDS.Model, model);
    return model;
  }

  private checkIndex(value: number, count: number, path: string, what: string, offset: number): void {
    if (!(value >= 0 && value < count)) {
      this.invalid(`${what} in [0, ${count})`, path, value, offset);
    }
  }

  private operatorCode(t: Table, model: TfliteModel): OperatorCode {
    const deprecated = t.int8(0, 'deprecated_builtin_code', 0);
    const builtin = t.int32(3, 'builtin_code', 0);
    // TFLite reads the larger of the two (schema_utils.cc, GetBuiltinCode): old files only set the byte, new
    // files set both.
    const builtinCode = Math.max(deprecated, builtin);
    if (builtinCode < 0) this.invalid('a builtin code ≥ 0', t.path, builtinCode, t.pos);
    const code: OperatorCode = { builtinCode, version: t.int32(2, 'version', 1) };
    const custom = t.string(1, 'custom_code');
    if (custom !== undefined) code.customCode = custom;
    this.markUnknown(t, KNOWN_FIELDS.OperatorCode, model);
    return code;
  }

  private buffer(t: Table, model: TfliteModel): ModelBuffer {
    const b: ModelBuffer = {};
    const data = t.bytes(0, 'data');
    if (data !== undefined) b.data = data;
    const offset = t.uint64(1, 'offset', 0);
    const size = t.uint64(2, 'size', 0);
    if (offset === undefined || size === undefined) {
      this.invalid('a buffer offset and size below 2^53', t.path, `${offset} / ${size}`, t.pos);
    }
    // The schema: offset is "only valid if > 1"; then the bytes live after the flatbuffer in the same file.
    if (offset > 1 && offset + size > this.r.length) {
      this.invalid(
        `external buffer bytes inside the ${this.r.length}-byte file`,
        t.path,
        `${offset}+${size}`,
        t.pos,
      );
    }
    if (offset !== 0) b.offset = offset;
    if (size !== 0) b.size = size;
    this.markUnknown(t, KNOWN_FIELDS.Buffer, model);
    return b;
  }

  private subgraph(t: Table, model: TfliteModel): SubGraph {
    const tensors = (t.tables(0, 'tensors') ?? []).map((tt) => this.tensor(tt, model));
    const n = tensors.length;
    const inputs = t.int32s(1, 'inputs', true) ?? [];
    const outputs = t.int32s(2, 'outputs', true) ?? [];
    inputs.forEach((v, i) => {
      this.checkIndex(v, n, `${t.path}.inputs[${i}]`, 'a tensor index', t.pos);
    });
    outputs.forEach((v, i) => {
      this.checkIndex(v, n, `${t.path}.outputs[${i}]`, 'a tensor index', t.pos);
    });
    const operators = (t.tables(3, 'operators') ?? []).map((ot) => this.operator(ot, model, n));
    const sg: SubGraph = { tensors, inputs, outputs, operators };
    const name = t.string(4, 'name');
    if (name !== undefined) sg.name = name;
    this.markUnknown(t, KNOWN_FIELDS.SubGraph, sg);
    return sg;
  }

  private tensor(t: Table, model: TfliteModel): Tensor {
    const shape = t.int32s(0, 'shape') ?? [];
    this.checkShape(shape, t, 'shape', 0);
    const type = t.int8(1, 'type', 0);
    if (type < 0 || type > MAX_TENSOR_TYPE)
      this.invalid(`a TensorType in [0, ${MAX_TENSOR_TYPE}]`, `${t.path}.type`, type, t.pos);
    t.traceIndex(2, 4, 'buffer');
    const buffer = t.uint32(2, 'buffer', 0);
    this.checkIndex(buffer, model.buffers.length, `${t.path}.buffer`, 'a buffer index', t.pos);
    const tensor: Tensor = {
      shape,
      type,
      buffer,
      name: t.string(3, 'name') ?? '',
      isVariable: t.bool(5, 'is_variable', false),
      hasRank: t.bool(8, 'has_rank', false),
    };
    const q = t.child(4, 'quantization');
    if (q !== undefined) tensor.quantization = this.quantization(q, tensor);
    const sparsity = t.child(6, 'sparsity');
    if (sparsity !== undefined) tensor.sparsity = this.sparsity(sparsity, tensor);
    const signature = t.int32s(7, 'shape_signature');
    if (signature !== undefined) {
      this.checkShape(signature, t, 'shape_signature', -1);
      tensor.shapeSignature = signature;
    }
    const variants = t.tables(9, 'variant_tensors');
    if (variants !== undefined) tensor.variantTensors = variants.map((v) => this.variantSubType(v, tensor));
    this.markUnknown(t, KNOWN_FIELDS.Tensor, tensor);
    this.checkConstantSize(tensor, model, t, sparsity !== undefined);
    return tensor;
  }

  private checkShape(dims: number[], t: Table, name: string, min: number): void {
    if (dims.length > this.maxRank)
      this.invalid(`rank ≤ ${this.maxRank}`, `${t.path}.${name}`, dims.length, t.pos);
    for (let i = 0; i < dims.length; i++) {
      if (dims[i]! < min) this.invalid(`a dimension ≥ ${min}`, `${t.path}.${name}[${i}]`, dims[i], t.pos);
    }
  }

  /** TFLite refuses a constant tensor whose buffer size differs from its shape × element size; so do we. */
  private checkConstantSize(tensor: Tensor, model: TfliteModel, t: Table, sparse: boolean): void {
    if (tensor.buffer === 0 || sparse) return;
    const buf = model.buffers[tensor.buffer]!;
    const bytes = buf.data?.length ?? 0;
    if (bytes === 0) return; // no data: TFLite treats the tensor as non-constant
    const size = TYPE_SIZE[tensor.type];
    if (size === undefined) return;
    let count = 1;
    for (const d of tensor.shape) count *= d;
    if (count * size !== bytes) {
      this.invalid(
        `buffer ${tensor.buffer} of ${count * size} bytes (shape [${tensor.shape.join(',')}], ${size} bytes per element)`,
        `${t.path}`,
        `${bytes} bytes`,
        t.pos,
      );
    }
  }

  private quantization(q: Table, tensor: Tensor): Quantization {
    const out: Quantization = { quantizedDimension: q.int32(6, 'quantized_dimension', 0) };
    const min = q.float32s(0, 'min');
    const max = q.float32s(1, 'max');
    const scale = q.float32s(2, 'scale');
    const zeroPoint = q.int64s(3, 'zero_point', (i, offset) => {
      throw new UnsupportedModelError(
        expected('a zero point within ±2^53', `${q.path}.zero_point[${i}]`, 'a larger 64-bit value'),
        { details: { path: `${q.path}.zero_point[${i}]`, offset } },
      );
    });
    if (min !== undefined) out.min = min;
    if (max !== undefined) out.max = max;
    if (scale !== undefined) out.scale = scale;
    if (zeroPoint !== undefined) out.zeroPoint = zeroPoint;
    if (scale !== undefined && scale.length > 1) {
      // Per-axis: TFLite requires one zero point per scale and the axis to exist with that many entries.
      const rank = tensor.shape.length;
      const qd = out.quantizedDimension;
      if (qd < 0 || qd >= rank) this.invalid(`a quantized_dimension in [0, ${rank})`, q.path, qd, q.pos);
      if (tensor.shape[qd] !== scale.length) {
        this.invalid(
          `${tensor.shape[qd]} per-axis scales (dimension ${qd})`,
          `${q.path}.scale`,
          scale.length,
          q.pos,
        );
      }
      if (zeroPoint !== undefined && zeroPoint.length !== scale.length) {
        this.invalid(`${scale.length} zero points`, `${q.path}.zero_point`, zeroPoint.length, q.pos);
      }
    }
    const detailsType = q.uint8(4, 'details_type', 0);
    const details = q.child(5, 'details');
    if (detailsType !== 0) {
      if (detailsType !== 1)
        this.invalid('a QuantizationDetails type in [0, 1]', `${q.path}.details_type`, detailsType, q.pos);
      // CustomQuantization { custom:[ubyte] }: opaque to everyone but its custom kernel, so kept verbatim. A type
      // without a table carries nothing to keep.
      if (details !== undefined) {
        const custom = details.bytes(0, 'custom');
        out.details = custom === undefined ? {} : { custom };
        this.markUnknown(details, KNOWN_FIELDS.CustomQuantization, tensor);
      }
    }
    this.markUnknown(q, KNOWN_FIELDS.QuantizationParameters, tensor);
    return out;
  }

  /** Decodes a SparsityParameters table exactly (index vectors keep their element type). */
  private sparsity(s: Table, tensor: Tensor): SparsityParameters {
    const out: SparsityParameters = {};
    const traversalOrder = s.int32s(0, 'traversal_order');
    if (traversalOrder !== undefined) out.traversalOrder = traversalOrder;
    const blockMap = s.int32s(1, 'block_map');
    if (blockMap !== undefined) out.blockMap = blockMap;
    const dims = s.tables(2, 'dim_metadata');
    if (dims !== undefined) {
      out.dimMetadata = dims.map((dm) => {
        const d: DimensionMetadata = {
          format: dm.int8(0, 'format', 0),
          denseSize: dm.int32(1, 'dense_size', 0),
        };
        const segments = this.sparseIndexVector(dm, 2, 'array_segments', tensor);
        if (segments !== undefined) d.arraySegments = segments;
        const indices = this.sparseIndexVector(dm, 4, 'array_indices', tensor);
        if (indices !== undefined) d.arrayIndices = indices;
        this.markUnknown(dm, KNOWN_FIELDS.DimensionMetadata, tensor);
        return d;
      });
    }
    this.markUnknown(s, KNOWN_FIELDS.SparsityParameters, tensor);
    return out;
  }

  /** One SparseIndexVector union (type id at `typeId`, table at `typeId + 1`); undefined when NONE or absent. */
  private sparseIndexVector(
    dm: Table,
    typeId: number,
    name: string,
    tensor: Tensor,
  ): SparseIndexVector | undefined {
    const type = dm.uint8(typeId, `${name}_type`, 0);
    if (type > 3) this.invalid('a SparseIndexVector type in [0, 3]', `${dm.path}.${name}_type`, type, dm.pos);
    const v = dm.child(typeId + 1, name);
    if (v === undefined || type === 0) return undefined;
    const [kind, size] = SPARSE_INDEX_TYPES[type]!;
    this.markUnknown(v, KNOWN_FIELDS.SparseIndexVector, tensor);
    if (kind === 'int32') {
      const values = v.int32s(0, 'values');
      return values === undefined ? { type: kind } : { type: kind, values };
    }
    // Uint16Vector / Uint8Vector { values:[ushort] / [ubyte] }: length verified before anything is decoded.
    const at = v.target(0, 'values');
    if (at === 0) return { type: kind };
    const path = `${v.path}.values`;
    const n = this.r.vectorLength(at, size, path);
    this.r.charge(n, path, at);
    const values = new Array<number>(n);
    for (let i = 0; i < n; i++) values[i] = size === 2 ? this.r.u16(at + 4 + 2 * i) : this.r.u8(at + 4 + i);
    return { type: kind, values };
  }

  /** Decodes one VariantSubType (the element type of a VARIANT tensor). */
  private variantSubType(t: Table, tensor: Tensor): VariantSubType {
    const type = t.int8(1, 'type', 0);
    if (type < 0 || type > MAX_TENSOR_TYPE)
      this.invalid(`a TensorType in [0, ${MAX_TENSOR_TYPE}]`, `${t.path}.type`, type, t.pos);
    const v: VariantSubType = { type, hasRank: t.bool(2, 'has_rank', false) };
    const shape = t.int32s(0, 'shape');
    if (shape !== undefined) {
      this.checkShape(shape, t, 'shape', -1);
      v.shape = shape;
    }
    this.markUnknown(t, KNOWN_FIELDS.VariantSubType, tensor);
    return v;
  }

  private operator(t: Table, model: TfliteModel, tensorCount: number): Operator {
    t.traceIndex(0, 4, 'opcode_index');
    const opcodeIndex = t.uint32(0, 'opcode_index', 0);
    this.checkIndex(
      opcodeIndex,
      model.operatorCodes.length,
      `${t.path}.opcode_index`,
      'an opcode index',
      t.pos,
    );
    const inputs = t.int32s(1, 'inputs', true) ?? [];
    const outputs = t.int32s(2, 'outputs', true) ?? [];
    inputs.forEach((v, i) => {
      if (v !== -1)
        this.checkIndex(v, tensorCount, `${t.path}.inputs[${i}]`, 'a tensor index (or -1)', t.pos);
    });
    outputs.forEach((v, i) => {
      this.checkIndex(v, tensorCount, `${t.path}.outputs[${i}]`, 'a tensor index', t.pos);
    });
    const op: Operator = {
      opcodeIndex,
      inputs,
      outputs,
      customOptionsFormat: t.int8(6, 'custom_options_format', 0),
    };

    const optionsType = t.uint8(3, 'builtin_options_type', 0);
    const optionsTable = t.child(4, 'builtin_options');
    if (optionsType !== 0) op.builtinOptions = this.options(optionsType, optionsTable);

    const custom = t.bytes(5, 'custom_options');
    if (custom !== undefined) op.customOptions = custom;
    const mutating = t.bools(7, 'mutating_variable_inputs');
    if (mutating !== undefined) op.mutatingVariableInputs = mutating;
    const intermediates = t.int32s(8, 'intermediates', true);
    if (intermediates !== undefined) {
      intermediates.forEach((v, i) => {
        this.checkIndex(v, tensorCount, `${t.path}.intermediates[${i}]`, 'a tensor index', t.pos);
      });
      op.intermediates = intermediates;
    }
    this.markUnknown(t, KNOWN_FIELDS.Operator, op);
    return op;
  }

  private options(type: number, table: Table | undefined): BuiltinOptions {
    const spec = getOptionsSpec(type);
    if (spec === undefined) return { type, name: 'unknown', fields: {}, unsupported: true };
    const out: BuiltinOptions = { type, name: spec.name, fields: {} };
    // Absent table or absent fields read as schema defaults, so equal options always read equal.
    readOptionFields(spec, table, out.fields, (what, path, received, offset) =>
      this.invalid(what, path, received, offset),
    );
    if (table !== undefined && table.unknownFields(spec.fields.length).length > 0) out.unsupported = true;
    return out;
  }

  private metadata(t: Table, model: TfliteModel): Metadata {
    t.traceIndex(1, 4, 'buffer');
    const buffer = t.uint32(1, 'buffer', 0);
    this.checkIndex(buffer, model.buffers.length, `${t.path}.buffer`, 'a buffer index', t.pos);
    const m: Metadata = { buffer };
    const name = t.string(0, 'name');
    if (name !== undefined) m.name = name;
    this.markUnknown(t, KNOWN_FIELDS.Metadata, model);
    return m;
  }

  private signatureDef(t: Table, model: TfliteModel): SignatureDef {
    const subgraphIndex = t.uint32(4, 'subgraph_index', 0);
    this.checkIndex(
      subgraphIndex,
      model.subgraphs.length,
      `${t.path}.subgraph_index`,
      'a subgraph index',
      t.pos,
    );
    const tensorCount = model.subgraphs[subgraphIndex]!.tensors.length;
    const maps = (id: number, name: string): TensorMap[] =>
      (t.tables(id, name) ?? []).map((m) => {
        const tensorIndex = m.uint32(1, 'tensor_index', 0);
        this.checkIndex(tensorIndex, tensorCount, `${m.path}.tensor_index`, 'a tensor index', m.pos);
        const tm: TensorMap = { tensorIndex };
        const n = m.string(0, 'name');
        if (n !== undefined) tm.name = n;
        this.markUnknown(m, KNOWN_FIELDS.TensorMap, model);
        return tm;
      });
    const sig: SignatureDef = { inputs: maps(0, 'inputs'), outputs: maps(1, 'outputs'), subgraphIndex };
    const key = t.string(2, 'signature_key');
    if (key !== undefined) sig.signatureKey = key;
    // Field 3 is the deprecated `deprecated_tag` string: TFLite ignores it, converters still write it; kept.
    const tag = t.string(3, 'deprecated_tag');
    if (tag !== undefined) sig.deprecatedTag = tag;
    this.markUnknown(t, KNOWN_FIELDS.SignatureDef, model);
    return sig;
  }
}

/**
 * Decodes the fields of an options table by its spec into `into`. Shared with nothing else but kept separate
 * so the per-kind decoding sits in one place.
 */
function readOptionFields(
  spec: OptionsTableSpec,
  table: Table | undefined,
  into: BuiltinOptions['fields'],
  fail: (what: string, path: string, received: unknown, offset: number) => never,
): void {
  spec.fields.forEach((f, id) => {
    if (table === undefined) {
      if (f.default !== undefined) into[f.name] = f.default;
      return;
    }
    const name = f.schemaName;
    switch (f.kind) {
      case 'bool':
        into[f.name] = table.bool(id, name, f.default as boolean);
        break;
      case 'int8':
        into[f.name] = table.int8(id, name, f.default as number);
        break;
      case 'uint8':
        into[f.name] = table.uint8(id, name, f.default as number);
        break;
      case 'int32':
        into[f.name] = table.int32(id, name, f.default as number);
        break;
      case 'uint32':
        into[f.name] = table.uint32(id, name, f.default as number);
        break;
      case 'float32':
        into[f.name] = table.float32(id, name, f.default as number);
        break;
      case 'int64': {
        const v = table.int64(id, name, f.default as number);
        if (v === undefined) {
          throw new UnsupportedModelError(
            expected('a value within ±2^53', `${table.path}.${name}`, 'a larger value'),
            {
              details: { path: `${table.path}.${name}`, offset: table.pos },
            },
          );
        }
        into[f.name] = v;
        break;
      }
      case 'int32[]': {
        const v = table.int32s(id, name);
        if (v !== undefined) into[f.name] = v;
        break;
      }
      case 'float32[]': {
        const v = table.float32s(id, name);
        if (v !== undefined) into[f.name] = v;
        break;
      }
      case 'int64[]': {
        const v = table.int64s(id, name, (i, offset) =>
          fail('a value within ±2^53', `${table.path}.${name}[${i}]`, 'a larger value', offset),
        );
        if (v !== undefined) into[f.name] = v;
        break;
      }
    }
  });
}
