/**
 * Where the meaningful fields of a valid .tflite file live (internal testing code: the fuzz mutator uses it).
 *
 * The tracing read ({@link traceModel}) reports the flatbuffer's plumbing — offsets, vtables, vector lengths —
 * which is what a structural verifier must survive. What kills TFLite's kernels is different: a well-formed
 * file whose *values* lie (a tensor index swapped for another valid one, a shape dimension changed, a tensor
 * type changed, an option scalar out of range). This walker lists the byte position, width and meaning of
 * each such value so the mutator can change exactly one of them and say which (e.g.
 * `subgraphs[0].tensors[14].shape[1]: 20 → 0`).
 *
 * It only walks bytes that `readModel` has already accepted, so it does no verification of its own.
 */
import type { TfliteModel } from '../model.js';
import { getOptionsSpec } from '../options.js';

/** What a located value means, which decides the replacement values the mutator tries. */
export type FieldKind =
  | 'tensorIndex'
  | 'bufferIndex'
  | 'opcodeIndex'
  | 'builtinCode'
  | 'shape'
  | 'rank'
  | 'tensorType'
  | 'optionScalar'
  | 'optionsType'
  | 'quantization';

/** How a located value is stored. */
export type FieldStorage = 'int8' | 'uint8' | 'int32' | 'uint32' | 'float32' | 'int64';

/** One value of the file: where it is, how it is stored, what it means. */
export interface LocatedField {
  readonly kind: FieldKind;
  /** Absolute byte position. */
  readonly pos: number;
  readonly storage: FieldStorage;
  /** Where it sits in the model, e.g. `subgraphs[0].operators[3].inputs[1]`. */
  readonly label: string;
  /** For indices: the number of valid targets (tensors of the subgraph, buffers, operator codes). */
  readonly count?: number;
}

const WIDTH: Readonly<Record<FieldStorage, number>> = {
  int8: 1,
  uint8: 1,
  int32: 4,
  uint32: 4,
  float32: 4,
  int64: 8,
};

/** Reads the stored value of a located field (int64 as a number, exact below 2^53). */
export function readField(view: DataView, f: LocatedField): number {
  switch (f.storage) {
    case 'int8':
      return view.getInt8(f.pos);
    case 'uint8':
      return view.getUint8(f.pos);
    case 'int32':
      return view.getInt32(f.pos, true);
    case 'uint32':
      return view.getUint32(f.pos, true);
    case 'float32':
      return view.getFloat32(f.pos, true);
    case 'int64':
      return Number(view.getBigInt64(f.pos, true));
  }
}

/** Writes `value` into a located field, wrapping it to the field's width as a C cast would. */
export function writeField(view: DataView, f: LocatedField, value: number): void {
  switch (f.storage) {
    case 'int8':
    case 'uint8':
      view.setUint8(f.pos, value & 0xff);
      break;
    case 'int32':
    case 'uint32':
      view.setUint32(f.pos, value >>> 0, true);
      break;
    case 'float32':
      view.setFloat32(f.pos, value, true);
      break;
    case 'int64':
      view.setBigInt64(f.pos, BigInt.asIntN(64, BigInt(Math.trunc(value))), true);
      break;
  }
}

/** The storage of each options field kind; vectors are listed element by element as int32/float32/int64. */
const OPTION_STORAGE: Readonly<Record<string, FieldStorage>> = {
  bool: 'uint8',
  int8: 'int8',
  uint8: 'uint8',
  int32: 'int32',
  uint32: 'uint32',
  float32: 'float32',
  int64: 'int64',
  'int32[]': 'int32',
  'float32[]': 'float32',
  'int64[]': 'int64',
};

/**
 * Lists the meaningful values of `bytes`, a file that `readModel` accepted and read as `model` (the model
 * supplies counts and option specs; the bytes supply positions).
 */
export function locateFields(bytes: Uint8Array, model: TfliteModel): LocatedField[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: LocatedField[] = [];
  const u32 = (p: number) => view.getUint32(p, true);
  const deref = (p: number) => p + u32(p);
  /** Absolute position of field `id` of the table at `t`, 0 when absent. */
  const field = (t: number, id: number): number => {
    const vt = t - view.getInt32(t, true);
    const slot = 4 + 2 * id;
    if (slot >= view.getUint16(vt, true)) return 0;
    const off = view.getUint16(vt + slot, true);
    return off === 0 ? 0 : t + off;
  };
  /** The vector an offset field points to: position of its length word, or 0 when absent. */
  const vector = (t: number, id: number): number => {
    const p = field(t, id);
    return p === 0 ? 0 : deref(p);
  };
  const push = (kind: FieldKind, pos: number, storage: FieldStorage, label: string, count?: number) => {
    if (pos !== 0 && pos + WIDTH[storage] <= bytes.length)
      out.push(count === undefined ? { kind, pos, storage, label } : { kind, pos, storage, label, count });
  };
  /** Every element of a vector field, as `kind`. */
  const elements = (
    t: number,
    id: number,
    kind: FieldKind,
    storage: FieldStorage,
    label: string,
    count?: number,
  ) => {
    const v = vector(t, id);
    if (v === 0) return;
    const n = u32(v);
    for (let i = 0; i < n; i++) push(kind, v + 4 + WIDTH[storage] * i, storage, `${label}[${i}]`, count);
  };
  const tables = (t: number, id: number): number[] => {
    const v = vector(t, id);
    if (v === 0) return [];
    return Array.from({ length: u32(v) }, (_, i) => deref(v + 4 + 4 * i));
  };

  const root = deref(0);
  tables(root, 1).forEach((c, i) => {
    push('builtinCode', field(c, 0), 'int8', `operator_codes[${i}].deprecated_builtin_code`);
    push('builtinCode', field(c, 3), 'int32', `operator_codes[${i}].builtin_code`);
  });
  const buffers = model.buffers.length;
  const opcodes = model.operatorCodes.length;
  tables(root, 2).forEach((sg, s) => {
    const path = `subgraphs[${s}]`;
    const n = model.subgraphs[s]?.tensors.length ?? 0;
    tables(sg, 0).forEach((t, i) => {
      const tp = `${path}.tensors[${i}]`;
      const shape = vector(t, 0);
      if (shape !== 0) push('rank', shape, 'uint32', `${tp}.shape.length`);
      elements(t, 0, 'shape', 'int32', `${tp}.shape`);
      push('tensorType', field(t, 1), 'int8', `${tp}.type`);
      push('bufferIndex', field(t, 2), 'uint32', `${tp}.buffer`, buffers);
      const q = vector(t, 4);
      if (q !== 0) {
        push('quantization', field(q, 6), 'int32', `${tp}.quantization.quantized_dimension`);
        elements(q, 2, 'quantization', 'float32', `${tp}.quantization.scale`);
        elements(q, 3, 'quantization', 'int64', `${tp}.quantization.zero_point`);
      }
    });
    elements(sg, 1, 'tensorIndex', 'int32', `${path}.inputs`, n);
    elements(sg, 2, 'tensorIndex', 'int32', `${path}.outputs`, n);
    tables(sg, 3).forEach((op, o) => {
      const opPath = `${path}.operators[${o}]`;
      push('opcodeIndex', field(op, 0), 'uint32', `${opPath}.opcode_index`, opcodes);
      elements(op, 1, 'tensorIndex', 'int32', `${opPath}.inputs`, n);
      elements(op, 2, 'tensorIndex', 'int32', `${opPath}.outputs`, n);
      elements(op, 8, 'tensorIndex', 'int32', `${opPath}.intermediates`, n);
      push('optionsType', field(op, 3), 'uint8', `${opPath}.builtin_options_type`);
      const options = model.subgraphs[s]?.operators[o]?.builtinOptions;
      const spec = options === undefined ? undefined : getOptionsSpec(options.type);
      const table = field(op, 4);
      if (spec === undefined || table === 0) return;
      const t = deref(table);
      spec.fields.forEach((f, id) => {
        const storage = OPTION_STORAGE[f.kind]!;
        const label = `${opPath}.builtin_options.${f.schemaName}`;
        if (f.kind.endsWith('[]')) elements(t, id, 'optionScalar', storage, label);
        else push('optionScalar', field(t, id), storage, label);
      });
    });
  });
  return out;
}
