/**
 * `writeModel`: a {@link TfliteModel} → the bytes of a valid .tflite file.
 *
 * Guarantees: file identifier "TFL3"; every `Buffer.data` starts 16-byte aligned (TFLite maps constant data in
 * place and XNNPACK wants it aligned); both operator-code fields set (`deprecated_builtin_code = min(code, 127)`,
 * `builtin_code = code`, since TFLite 2.9 reads the larger); builtin options written from the same spec table the
 * reader uses, defaults omitted; deterministic output (same model → same bytes). It refuses — never drops —
 * anything it cannot write faithfully: objects the reader marked `unsupported`, options without a spec or with
 * fields the spec does not know, external (offset/size) buffers. Layout: flatbuffer-write.ts.
 */
import { expected, InvalidArgumentError, InvalidModelError, UnsupportedModelError } from '@swapless/core';
import { FlatBufferBuilder, TableBuilder } from './flatbuffer-write.js';
import type {
  BuiltinOptions,
  Operator,
  OperatorCode,
  Quantization,
  SparseIndexVector,
  SparsityParameters,
  SubGraph,
  Tensor,
  TfliteModel,
  VariantSubType,
} from './model.js';
import { builtinOperatorName } from './ops.js';
import { getOptionsSpec, type OptionFieldKind, type OptionsTableSpec } from './options.js';
import { TFLITE_FILE_IDENTIFIER } from './reader.js';

/** Alignment of constant data, in bytes. */
export const BUFFER_DATA_ALIGNMENT = 16;

/** SparseIndexVector union ids and element kinds (schema: Int32Vector 1, Uint16Vector 2, Uint8Vector 3). */
const SPARSE_INDEX = {
  int32: { id: 1, kind: 'int32' },
  uint16: { id: 2, kind: 'uint16' },
  uint8: { id: 3, kind: 'uint8' },
} as const;

const INT_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  uint16: [0, 0xffff],
  int32: [-0x8000_0000, 0x7fff_ffff],
  uint32: [0, 0xffff_ffff],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/**
 * Serialises a model to .tflite bytes.
 *
 * @throws UnsupportedModelError naming the object (e.g. operator index, op type and options table) when the
 *   model holds something that cannot be written without losing data.
 * @throws InvalidModelError when the in-memory model is inconsistent (an index out of range, a value that does
 *   not fit its schema type), with `details.path`.
 */
export function writeModel(model: TfliteModel): Uint8Array {
  if (typeof model !== 'object' || model === null) {
    throw new InvalidArgumentError(expected('a TfliteModel object', 'writeModel(model)', model));
  }
  new ModelChecker(model).check();
  return new ModelWriter(model).write();
}

/**
 * Why {@link writeModel} would refuse this model (the message of its `UnsupportedModelError`), or undefined when it
 * can write it. Cheap: runs the writer's checks without serialising. Lets callers such as the cut finder say up
 * front that no part of a model can be written, instead of failing later.
 */
export function unwritableReason(model: TfliteModel): string | undefined {
  try {
    new ModelChecker(model).check();
    return undefined;
  } catch (err) {
    if (err instanceof UnsupportedModelError || err instanceof InvalidModelError) return err.message;
    throw err;
  }
}

function invalid(what: string, path: string, received: unknown): never {
  throw new InvalidModelError(expected(what, path, received), { details: { path } });
}

function isInt(value: unknown, kind: keyof typeof INT_RANGE): value is number {
  const [lo, hi] = INT_RANGE[kind]!;
  return typeof value === 'number' && Number.isInteger(value) && value >= lo && value <= hi;
}

function checkInt(value: unknown, kind: keyof typeof INT_RANGE, path: string): void {
  if (!isInt(value, kind)) invalid(`an ${kind} integer`, path, value);
}

function checkInts(values: unknown, kind: keyof typeof INT_RANGE, path: string): void {
  if (!Array.isArray(values)) invalid(`an array of ${kind} integers`, path, values);
  for (let i = 0; i < values.length; i++)
    if (!isInt(values[i], kind)) checkInt(values[i], kind, `${path}[${i}]`);
}

function checkNumbers(values: unknown, path: string): void {
  if (!Array.isArray(values)) invalid('an array of numbers', path, values);
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== 'number') invalid('a number', `${path}[${i}]`, values[i]);
  }
}

/** Validates everything the writer will encode, before a single byte is written. */
class ModelChecker {
  constructor(private readonly m: TfliteModel) {}

  private refuse(message: string, path: string, extra: Record<string, unknown> = {}): never {
    throw new UnsupportedModelError(message, { details: { path, ...extra } });
  }

  private refuseMarked(obj: { unsupported?: string[] }, path: string): void {
    const reasons = obj.unsupported;
    if (reasons !== undefined && reasons.length > 0) {
      this.refuse(`Cannot write ${path} without losing data: ${reasons.join('; ')}`, path, { reasons });
    }
  }

  check(): void {
    const m = this.m;
    this.refuseMarked(m, 'model');
    checkInt(m.version, 'uint32', 'model.version');
    if (!Array.isArray(m.operatorCodes)) invalid('an array', 'model.operatorCodes', m.operatorCodes);
    if (!Array.isArray(m.subgraphs)) invalid('an array', 'model.subgraphs', m.subgraphs);
    if (!Array.isArray(m.buffers)) invalid('an array', 'model.buffers', m.buffers);
    m.operatorCodes.forEach((c, i) => {
      this.opcode(c, `model.operatorCodes[${i}]`);
    });
    m.buffers.forEach((b, i) => {
      const path = `model.buffers[${i}]`;
      if (b.offset !== undefined || b.size !== undefined) {
        this.refuse(`Cannot write ${path}: its data lives outside the flatbuffer (offset/size)`, path);
      }
      if (b.data !== undefined && !(b.data instanceof Uint8Array))
        invalid('a Uint8Array', `${path}.data`, b.data);
    });
    m.subgraphs.forEach((sg, i) => {
      this.subgraph(sg, `model.subgraphs[${i}]`);
    });
    m.metadataBuffer?.forEach((b, i) => {
      this.index(b, m.buffers.length, `model.metadataBuffer[${i}]`);
    });
    m.metadata?.forEach((md, i) => {
      this.index(md.buffer, m.buffers.length, `model.metadata[${i}].buffer`);
    });
    m.signatureDefs?.forEach((s, i) => {
      const path = `model.signatureDefs[${i}]`;
      this.index(s.subgraphIndex, m.subgraphs.length, `${path}.subgraphIndex`);
      if (s.deprecatedTag !== undefined && typeof s.deprecatedTag !== 'string')
        invalid('a string', `${path}.deprecatedTag`, s.deprecatedTag);
      const n = m.subgraphs[s.subgraphIndex]!.tensors.length;
      for (const [list, key] of [
        [s.inputs, 'inputs'],
        [s.outputs, 'outputs'],
      ] as const) {
        list.forEach((tm, j) => {
          this.index(tm.tensorIndex, n, `${path}.${key}[${j}].tensorIndex`);
        });
      }
    });
  }

  private index(value: unknown, count: number, path: string): void {
    if (!(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < count)) {
      invalid(`an index in [0, ${count})`, path, value);
    }
  }

  private opcode(c: OperatorCode, path: string): void {
    checkInt(c.builtinCode, 'int32', `${path}.builtinCode`);
    if (c.builtinCode < 0) invalid('a builtin code ≥ 0', `${path}.builtinCode`, c.builtinCode);
    checkInt(c.version, 'int32', `${path}.version`);
  }

  private subgraph(sg: SubGraph, path: string): void {
    this.refuseMarked(sg, path);
    const n = sg.tensors.length;
    sg.tensors.forEach((t, i) => {
      this.tensor(t, `${path}.tensors[${i}]`);
    });
    sg.inputs.forEach((v, i) => {
      this.index(v, n, `${path}.inputs[${i}]`);
    });
    sg.outputs.forEach((v, i) => {
      this.index(v, n, `${path}.outputs[${i}]`);
    });
    sg.operators.forEach((op, i) => {
      this.operator(op, i, n, path);
    });
  }

  private tensor(t: Tensor, path: string): void {
    this.refuseMarked(t, path);
    checkInts(t.shape, 'int32', `${path}.shape`);
    if (t.shapeSignature !== undefined) checkInts(t.shapeSignature, 'int32', `${path}.shapeSignature`);
    checkInt(t.type, 'int8', `${path}.type`);
    this.index(t.buffer, this.m.buffers.length, `${path}.buffer`);
    if (typeof t.name !== 'string') invalid('a string', `${path}.name`, t.name);
    if (t.quantization !== undefined) this.quantization(t.quantization, `${path}.quantization`);
    if (t.sparsity !== undefined) this.sparsity(t.sparsity, `${path}.sparsity`);
    t.variantTensors?.forEach((v, i) => {
      const vp = `${path}.variantTensors[${i}]`;
      checkInt(v.type, 'int8', `${vp}.type`);
      if (v.shape !== undefined) checkInts(v.shape, 'int32', `${vp}.shape`);
    });
  }

  private quantization(q: Quantization, path: string): void {
    checkInt(q.quantizedDimension, 'int32', `${path}.quantizedDimension`);
    if (q.min !== undefined) checkNumbers(q.min, `${path}.min`);
    if (q.max !== undefined) checkNumbers(q.max, `${path}.max`);
    if (q.scale !== undefined) checkNumbers(q.scale, `${path}.scale`);
    if (q.zeroPoint !== undefined) checkInts(q.zeroPoint, 'int64', `${path}.zeroPoint`);
    const custom = q.details?.custom;
    if (custom !== undefined && !(custom instanceof Uint8Array))
      invalid('a Uint8Array', `${path}.details.custom`, custom);
  }

  private sparsity(s: SparsityParameters, path: string): void {
    if (s.traversalOrder !== undefined) checkInts(s.traversalOrder, 'int32', `${path}.traversalOrder`);
    if (s.blockMap !== undefined) checkInts(s.blockMap, 'int32', `${path}.blockMap`);
    s.dimMetadata?.forEach((d, i) => {
      const dp = `${path}.dimMetadata[${i}]`;
      checkInt(d.format, 'int8', `${dp}.format`);
      checkInt(d.denseSize, 'int32', `${dp}.denseSize`);
      for (const [v, key] of [
        [d.arraySegments, 'arraySegments'],
        [d.arrayIndices, 'arrayIndices'],
      ] as const) {
        if (v === undefined) continue;
        const spec = Object.hasOwn(SPARSE_INDEX, v.type) ? SPARSE_INDEX[v.type] : undefined;
        if (spec === undefined) invalid("'int32', 'uint16' or 'uint8'", `${dp}.${key}.type`, v.type);
        if (v.values !== undefined) checkInts(v.values, spec.kind, `${dp}.${key}.values`);
      }
    });
  }

  private operator(op: Operator, index: number, tensorCount: number, sgPath: string): void {
    const path = `${sgPath}.operators[${index}]`;
    this.refuseMarked(op, path);
    this.index(op.opcodeIndex, this.m.operatorCodes.length, `${path}.opcodeIndex`);
    op.inputs.forEach((v, i) => {
      if (v !== -1) this.index(v, tensorCount, `${path}.inputs[${i}]`);
    });
    op.outputs.forEach((v, i) => {
      this.index(v, tensorCount, `${path}.outputs[${i}]`);
    });
    op.intermediates?.forEach((v, i) => {
      this.index(v, tensorCount, `${path}.intermediates[${i}]`);
    });
    checkInt(op.customOptionsFormat, 'int8', `${path}.customOptionsFormat`);
    if (op.customOptions !== undefined && !(op.customOptions instanceof Uint8Array)) {
      invalid('a Uint8Array', `${path}.customOptions`, op.customOptions);
    }
    if (op.builtinOptions !== undefined) this.options(op.builtinOptions, op, index, path);
  }

  private options(o: BuiltinOptions, op: Operator, index: number, path: string): void {
    const opName = builtinOperatorName(this.m.operatorCodes[op.opcodeIndex]!.builtinCode);
    const spec = getOptionsSpec(o.type);
    const where = `operator ${index} (${opName}) at ${path}`;
    if (o.unsupported || spec === undefined || spec.name !== o.name) {
      this.refuse(
        `Cannot write ${where}: its builtin options table ${o.name} (union type ${o.type}) ${
          spec === undefined ? 'has no SwapLess spec' : 'holds fields SwapLess does not know'
        }, so writing it would drop data`,
        `${path}.builtinOptions`,
        { operatorIndex: index, operator: opName, optionsType: o.type, optionsTable: o.name },
      );
    }
    const known = new Set(spec.fields.map((f) => f.name));
    for (const key of Object.keys(o.fields)) {
      if (!known.has(key)) {
        this.refuse(
          `Cannot write ${where}: ${spec.name} has no field "${key}"`,
          `${path}.builtinOptions.fields`,
          {
            operatorIndex: index,
            operator: opName,
            optionsTable: spec.name,
            field: key,
          },
        );
      }
    }
    for (const f of spec.fields) {
      const v = o.fields[f.name];
      if (v === undefined) continue;
      const fp = `${path}.builtinOptions.fields.${f.name}`;
      checkOptionValue(f.kind, v, fp);
    }
  }
}

function checkOptionValue(kind: OptionFieldKind, v: unknown, path: string): void {
  switch (kind) {
    case 'bool':
      if (typeof v !== 'boolean') invalid('a boolean', path, v);
      return;
    case 'float32':
      if (typeof v !== 'number') invalid('a number', path, v);
      return;
    case 'int32[]':
      checkInts(v, 'int32', path);
      return;
    case 'int64[]':
      checkInts(v, 'int64', path);
      return;
    case 'float32[]':
      checkNumbers(v, path);
      return;
    default:
      checkInt(v, kind, path);
      return;
  }
}

/** Serialises a checked model depth-first, parent before children (see flatbuffer-write.ts for why). */
class ModelWriter {
  private readonly b: FlatBufferBuilder;

  constructor(private readonly m: TfliteModel) {
    // Pre-size for the constant data plus generous room for the graph, so large models rarely regrow.
    let dataBytes = 0;
    for (const buf of m.buffers) dataBytes += (buf.data?.length ?? 0) + BUFFER_DATA_ALIGNMENT + 32;
    let tensors = 0;
    for (const sg of m.subgraphs) tensors += sg.tensors.length + sg.operators.length;
    this.b = new FlatBufferBuilder(dataBytes + tensors * 160 + 4096);
  }

  write(): Uint8Array {
    const { b, m } = this;
    const root = b.uint32(0);
    b.bytes(new TextEncoder().encode(TFLITE_FILE_IDENTIFIER));

    const t = new TableBuilder().scalar(0, 'uint32', m.version, 0).offset(1).offset(2).offset(4);
    if (m.description !== undefined) t.offset(3);
    if (m.metadataBuffer !== undefined) t.offset(5);
    if (m.metadata !== undefined) t.offset(6);
    if (m.signatureDefs !== undefined) t.offset(7);
    const table = b.endTable(t);
    b.patch(root, table.pos);

    this.tableVector(table.slot(1), m.operatorCodes, (c) => this.opcode(c));
    this.tableVector(table.slot(2), m.subgraphs, (sg) => this.subgraph(sg));
    if (m.description !== undefined) b.patch(table.slot(3), b.string(m.description));
    if (m.metadataBuffer !== undefined) b.patch(table.slot(5), b.vector('int32', m.metadataBuffer));
    if (m.metadata !== undefined) {
      this.tableVector(table.slot(6), m.metadata, (md) => {
        const w = b.endTable(
          this.optionalOffset(new TableBuilder(), 0, md.name).scalar(1, 'uint32', md.buffer, 0),
        );
        if (md.name !== undefined) b.patch(w.slot(0), b.string(md.name));
        return w.pos;
      });
    }
    if (m.signatureDefs !== undefined) {
      this.tableVector(table.slot(7), m.signatureDefs, (s) => {
        const st = new TableBuilder().offset(0).offset(1).scalar(4, 'uint32', s.subgraphIndex, 0);
        this.optionalOffset(st, 3, s.deprecatedTag);
        const w = b.endTable(this.optionalOffset(st, 2, s.signatureKey));
        const maps = (slot: number, list: typeof s.inputs) =>
          this.tableVector(slot, list, (tm) => {
            const mt = this.optionalOffset(new TableBuilder(), 0, tm.name).scalar(
              1,
              'uint32',
              tm.tensorIndex,
              0,
            );
            const mw = b.endTable(mt);
            if (tm.name !== undefined) b.patch(mw.slot(0), b.string(tm.name));
            return mw.pos;
          });
        maps(w.slot(0), s.inputs);
        maps(w.slot(1), s.outputs);
        if (s.signatureKey !== undefined) b.patch(w.slot(2), b.string(s.signatureKey));
        if (s.deprecatedTag !== undefined) b.patch(w.slot(3), b.string(s.deprecatedTag));
        return w.pos;
      });
    }
    // Constant data last: the graph stays compact at the front of the file.
    this.tableVector(table.slot(4), m.buffers, (buf) => {
      const bt = new TableBuilder();
      if (buf.data !== undefined) bt.offset(0);
      const w = b.endTable(bt);
      if (buf.data !== undefined) b.patch(w.slot(0), b.byteVector(buf.data, BUFFER_DATA_ALIGNMENT));
      return w.pos;
    });
    if (b.offset > 0x7fffffff) {
      throw new UnsupportedModelError(
        expected('a model below 2 GB', 'writeModel output', `${b.offset} bytes`),
        {
          details: { size: b.offset },
        },
      );
    }
    return b.finish();
  }

  private optionalOffset(t: TableBuilder, id: number, value: unknown): TableBuilder {
    return value === undefined ? t : t.offset(id);
  }

  /** Writes a vector of tables into `slot`: the offset vector first, then each table with its children. */
  private tableVector<T>(slot: number, items: readonly T[], write: (item: T) => number): void {
    const at = this.b.offsetVector(items.length);
    this.b.patch(slot, at);
    items.forEach((item, i) => {
      this.b.patch(at + 4 + 4 * i, write(item));
    });
  }

  private opcode(c: OperatorCode): number {
    const { b } = this;
    const t = new TableBuilder()
      .scalar(0, 'int8', Math.min(c.builtinCode, 127), 0)
      .scalar(2, 'int32', c.version, 1)
      .scalar(3, 'int32', c.builtinCode, 0);
    const w = b.endTable(this.optionalOffset(t, 1, c.customCode));
    if (c.customCode !== undefined) b.patch(w.slot(1), b.string(c.customCode));
    return w.pos;
  }

  private subgraph(sg: SubGraph): number {
    const { b } = this;
    const t = new TableBuilder().offset(0).offset(1).offset(2).offset(3);
    const w = b.endTable(this.optionalOffset(t, 4, sg.name));
    this.tableVector(w.slot(0), sg.tensors, (tensor) => this.tensor(tensor));
    b.patch(w.slot(1), b.vector('int32', sg.inputs));
    b.patch(w.slot(2), b.vector('int32', sg.outputs));
    this.tableVector(w.slot(3), sg.operators, (op) => this.operator(op));
    if (sg.name !== undefined) b.patch(w.slot(4), b.string(sg.name));
    return w.pos;
  }

  private tensor(tensor: Tensor): number {
    const { b } = this;
    const t = new TableBuilder()
      .offset(0)
      .scalar(1, 'int8', tensor.type, 0)
      .scalar(2, 'uint32', tensor.buffer, 0)
      .offset(3)
      .scalar(5, 'bool', tensor.isVariable, false)
      .scalar(8, 'bool', tensor.hasRank, false);
    if (tensor.quantization !== undefined) t.offset(4);
    if (tensor.sparsity !== undefined) t.offset(6);
    if (tensor.shapeSignature !== undefined) t.offset(7);
    if (tensor.variantTensors !== undefined) t.offset(9);
    const w = b.endTable(t);
    b.patch(w.slot(0), b.vector('int32', tensor.shape));
    b.patch(w.slot(3), b.string(tensor.name));
    if (tensor.quantization !== undefined) b.patch(w.slot(4), this.quantization(tensor.quantization));
    if (tensor.sparsity !== undefined) b.patch(w.slot(6), this.sparsity(tensor.sparsity));
    if (tensor.shapeSignature !== undefined) b.patch(w.slot(7), b.vector('int32', tensor.shapeSignature));
    if (tensor.variantTensors !== undefined)
      this.tableVector(w.slot(9), tensor.variantTensors, (v) => this.variantSubType(v));
    return w.pos;
  }

  private quantization(q: Quantization): number {
    const { b } = this;
    const qt = new TableBuilder().scalar(6, 'int32', q.quantizedDimension, 0);
    if (q.min !== undefined) qt.offset(0);
    if (q.max !== undefined) qt.offset(1);
    if (q.scale !== undefined) qt.offset(2);
    if (q.zeroPoint !== undefined) qt.offset(3);
    // QuantizationDetails union: type 1 = CustomQuantization, the only member.
    if (q.details !== undefined) qt.scalar(4, 'uint8', 1, 0).offset(5);
    const qw = b.endTable(qt);
    if (q.min !== undefined) b.patch(qw.slot(0), b.vector('float32', q.min));
    if (q.max !== undefined) b.patch(qw.slot(1), b.vector('float32', q.max));
    if (q.scale !== undefined) b.patch(qw.slot(2), b.vector('float32', q.scale));
    if (q.zeroPoint !== undefined) b.patch(qw.slot(3), b.vector('int64', q.zeroPoint));
    const custom = q.details?.custom;
    if (q.details !== undefined) {
      const dw = b.endTable(custom === undefined ? new TableBuilder() : new TableBuilder().offset(0));
      b.patch(qw.slot(5), dw.pos);
      // The schema asks for `custom:[ubyte] (force_align: 16)`, which flatc ignores: align it here.
      if (custom !== undefined) b.patch(dw.slot(0), b.byteVector(custom, 16));
    }
    return qw.pos;
  }

  private sparsity(s: SparsityParameters): number {
    const { b } = this;
    const st = new TableBuilder();
    if (s.traversalOrder !== undefined) st.offset(0);
    if (s.blockMap !== undefined) st.offset(1);
    if (s.dimMetadata !== undefined) st.offset(2);
    const sw = b.endTable(st);
    if (s.traversalOrder !== undefined) b.patch(sw.slot(0), b.vector('int32', s.traversalOrder));
    if (s.blockMap !== undefined) b.patch(sw.slot(1), b.vector('int32', s.blockMap));
    if (s.dimMetadata === undefined) return sw.pos;
    this.tableVector(sw.slot(2), s.dimMetadata, (d) => {
      const dt = new TableBuilder().scalar(0, 'int8', d.format, 0).scalar(1, 'int32', d.denseSize, 0);
      if (d.arraySegments !== undefined)
        dt.scalar(2, 'uint8', SPARSE_INDEX[d.arraySegments.type].id, 0).offset(3);
      if (d.arrayIndices !== undefined)
        dt.scalar(4, 'uint8', SPARSE_INDEX[d.arrayIndices.type].id, 0).offset(5);
      const dw = b.endTable(dt);
      if (d.arraySegments !== undefined) b.patch(dw.slot(3), this.sparseIndexVector(d.arraySegments));
      if (d.arrayIndices !== undefined) b.patch(dw.slot(5), this.sparseIndexVector(d.arrayIndices));
      return dw.pos;
    });
    return sw.pos;
  }

  /** Int32Vector / Uint16Vector / Uint8Vector { values }: vectors start 4-aligned (the schema's force_align: 4). */
  private sparseIndexVector(v: SparseIndexVector): number {
    const { b } = this;
    const w = b.endTable(v.values === undefined ? new TableBuilder() : new TableBuilder().offset(0));
    if (v.values !== undefined) b.patch(w.slot(0), b.vector(SPARSE_INDEX[v.type].kind, v.values));
    return w.pos;
  }

  private variantSubType(v: VariantSubType): number {
    const { b } = this;
    const t = new TableBuilder().scalar(1, 'int8', v.type, 0).scalar(2, 'bool', v.hasRank, false);
    if (v.shape !== undefined) t.offset(0);
    const w = b.endTable(t);
    if (v.shape !== undefined) b.patch(w.slot(0), b.vector('int32', v.shape));
    return w.pos;
  }

  private operator(op: Operator): number {
    const { b } = this;
    const o = op.builtinOptions;
    const t = new TableBuilder()
      .scalar(0, 'uint32', op.opcodeIndex, 0)
      .offset(1)
      .offset(2)
      .scalar(6, 'int8', op.customOptionsFormat, 0);
    if (o !== undefined) t.scalar(3, 'uint8', o.type, 0).offset(4);
    if (op.customOptions !== undefined) t.offset(5);
    if (op.mutatingVariableInputs !== undefined) t.offset(7);
    if (op.intermediates !== undefined) t.offset(8);
    const w = b.endTable(t);
    b.patch(w.slot(1), b.vector('int32', op.inputs));
    b.patch(w.slot(2), b.vector('int32', op.outputs));
    if (o !== undefined) b.patch(w.slot(4), this.options(o, getOptionsSpec(o.type)!));
    if (op.customOptions !== undefined) b.patch(w.slot(5), b.byteVector(op.customOptions));
    if (op.mutatingVariableInputs !== undefined)
      b.patch(w.slot(7), b.vector('bool', op.mutatingVariableInputs));
    if (op.intermediates !== undefined) b.patch(w.slot(8), b.vector('int32', op.intermediates));
    return w.pos;
  }

  private options(o: BuiltinOptions, spec: OptionsTableSpec): number {
    const { b } = this;
    const t = new TableBuilder();
    const vectors: [number, OptionFieldKind, number[]][] = [];
    spec.fields.forEach((f, id) => {
      const v = o.fields[f.name];
      if (v === undefined) return;
      if (Array.isArray(v)) {
        t.offset(id);
        vectors.push([id, f.kind, v]);
      } else {
        t.scalar(id, f.kind as Exclude<OptionFieldKind, `${string}[]`>, v, f.default!);
      }
    });
    const w = b.endTable(t);
    for (const [id, kind, values] of vectors) {
      b.patch(
        w.slot(id),
        b.vector(kind === 'int32[]' ? 'int32' : kind === 'int64[]' ? 'int64' : 'float32', values),
      );
    }
    return w.pos;
  }
}
