/**
 * A bounds-checked flatbuffer reader for untrusted bytes. Every access is verified before it happens — the
 * same rules as the flatbuffers C++ Verifier that TFLite runs (offsets in bounds, non-zero and below 2^31,
 * vtables and tables in bounds and aligned, vectors' `length × elementSize` within the remaining bytes before
 * anything is allocated, strings NUL-terminated) plus a few stricter ones (a field must lie inside its table's
 * declared inline size). Violations throw {@link InvalidModelError} saying what was expected, where (a path such
 * as `subgraphs[0].tensors[12].shape`) and at which byte offset.
 *
 * Why no loop can run away: uoffsets are unsigned and non-zero, so following them always moves strictly forward
 * through the file and no chain of references can cycle; vtables (reached by a signed offset) are only read,
 * never followed. The schema is not recursive, so the nesting depth is fixed by the reader's code; `maxDepth`
 * is a second guard. Sharing (many offsets pointing at one table or vector) could still amplify work, which
 * `maxTables` and `maxElements` bound.
 */
import { expected, InvalidModelError } from '@swapless/core';

/** Work limits of one read; exceeding one is an {@link InvalidModelError}. */
export interface FlatBufferLimits {
  /** Tables visited in total (the flatbuffers Verifier's `max_tables` plays the same role). */
  readonly maxTables: number;
  /** Vector elements and string bytes decoded into JS values in total (zero-copy byte views are free). */
  readonly maxElements: number;
  /** Maximum nesting depth of tables. */
  readonly maxDepth: number;
}

/** What a byte position holds, reported to a {@link Tracer} (used by the test mutator to aim corruptions). */
export type TraceKind = 'uoffset' | 'soffset' | 'vtableSize' | 'vtableEntry' | 'vectorLength' | 'index';

/** Observer of the structural positions a read touches. */
export type Tracer = (kind: TraceKind, position: number) => void;

const MAX_UOFFSET = 0x7fffffff;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The verified reader over one file. Tables are read through {@link Table}. */
export class FlatBufferReader {
  /** The file. */
  readonly bytes: Uint8Array;
  /** Its length in bytes. */
  readonly length: number;
  private readonly view: DataView;
  private tables = 0;
  private elements = 0;

  constructor(
    bytes: Uint8Array,
    private readonly limits: FlatBufferLimits,
    /** Optional observer; `undefined` in normal reads so the hot path stays a single branch. */
    readonly tracer?: Tracer,
  ) {
    this.bytes = bytes;
    this.length = bytes.length;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws the house-style error "Expected X for PATH but received Z (at byte offset N)". */
  fail(what: string, path: string, received: unknown, offset: number): never {
    throw new InvalidModelError(`${expected(what, path, received)} (at byte offset ${offset})`, {
      details: { path, offset },
    });
  }

  /** Checks that `[pos, pos + size)` lies inside the file. */
  need(pos: number, size: number, path: string): void {
    if (pos < 0 || pos + size > this.length) {
      this.fail(`${size} bytes inside the ${this.length}-byte file`, path, `position ${pos}`, pos);
    }
  }

  /** Counts decoded elements against `maxElements`. */
  charge(count: number, path: string, offset: number): void {
    this.elements += count;
    if (this.elements > this.limits.maxElements) {
      this.fail(`at most ${this.limits.maxElements} decoded elements in total`, path, this.elements, offset);
    }
  }

  /** Unchecked reads at an absolute position: callers verify bounds first (via {@link need} or a table). */
  u8(pos: number): number {
    return this.view.getUint8(pos);
  }
  i8(pos: number): number {
    return this.view.getInt8(pos);
  }
  u16(pos: number): number {
    return this.view.getUint16(pos, true);
  }
  i32(pos: number): number {
    return this.view.getInt32(pos, true);
  }
  u32(pos: number): number {
    return this.view.getUint32(pos, true);
  }
  f32(pos: number): number {
    return this.view.getFloat32(pos, true);
  }
  /** A 64-bit integer as a number, or `undefined` when it is outside ±2^53 (callers decide what that means). */
  i64(pos: number): number | undefined {
    const lo = this.view.getUint32(pos, true);
    const hi = this.view.getInt32(pos + 4, true);
    const value = hi * 0x1_0000_0000 + lo;
    return Number.isSafeInteger(value) ? value : undefined;
  }
  /** An unsigned 64-bit integer as a number, or `undefined` above 2^53. */
  u64(pos: number): number | undefined {
    const lo = this.view.getUint32(pos, true);
    const hi = this.view.getUint32(pos + 4, true);
    const value = hi * 0x1_0000_0000 + lo;
    return Number.isSafeInteger(value) ? value : undefined;
  }

  /** Follows the uoffset stored at `at` (which must itself be verified) and returns the absolute target. */
  deref(at: number, path: string): number {
    this.tracer?.('uoffset', at);
    const offset = this.u32(at);
    // Zero would point at itself; ≥ 2^31 would wrap in the C++ runtime (its soffset_t is signed).
    if (offset === 0 || offset > MAX_UOFFSET) {
      this.fail('a non-zero offset below 2^31', path, offset, at);
    }
    const target = at + offset;
    if (target >= this.length) {
      this.fail(`an offset inside the ${this.length}-byte file`, path, `target ${target}`, at);
    }
    return target;
  }

  /** Verifies the table at `pos` (its soffset, vtable and inline size) and returns a view of it. */
  table(pos: number, path: string, depth: number): Table {
    if (depth > this.limits.maxDepth) this.fail(`nesting depth ≤ ${this.limits.maxDepth}`, path, depth, pos);
    this.tables += 1;
    if (this.tables > this.limits.maxTables) {
      this.fail(`at most ${this.limits.maxTables} tables in total`, path, this.tables, pos);
    }
    if (pos % 4 !== 0) this.fail('a 4-byte aligned table', path, `position ${pos}`, pos);
    this.need(pos, 4, path);
    this.tracer?.('soffset', pos);
    const vt = pos - this.i32(pos);
    if (vt < 0 || vt % 2 !== 0 || vt + 4 > this.length) {
      this.fail('a 2-byte aligned vtable inside the file', path, `vtable position ${vt}`, pos);
    }
    this.tracer?.('vtableSize', vt);
    const vtSize = this.u16(vt);
    if (vtSize < 4 || vtSize % 2 !== 0 || vt + vtSize > this.length) {
      this.fail('an even vtable size ≥ 4 that fits the file', path, vtSize, vt);
    }
    const tableSize = this.u16(vt + 2);
    if (tableSize < 4 || pos + tableSize > this.length) {
      this.fail('a table inline size ≥ 4 that fits the file', path, tableSize, vt + 2);
    }
    return new Table(this, pos, vt, vtSize, tableSize, path, depth);
  }

  /**
   * Verifies a vector header at `pos` and that `length × elementSize` bytes follow it — before any caller
   * allocates for it — and returns the element count.
   */
  vectorLength(pos: number, elementSize: number, path: string): number {
    if (pos % 4 !== 0) this.fail('a 4-byte aligned vector', path, `position ${pos}`, pos);
    this.need(pos, 4, path);
    this.tracer?.('vectorLength', pos);
    const n = this.u32(pos);
    const room = this.length - pos - 4;
    if (n > room / elementSize) {
      this.fail(`a vector length that fits the ${room} bytes left`, path, `${n} × ${elementSize} bytes`, pos);
    }
    return n;
  }

  /** Decodes the string at `pos`: a vector of bytes followed by a NUL, valid UTF-8. */
  string(pos: number, path: string): string {
    const n = this.vectorLength(pos, 1, path);
    const start = pos + 4;
    this.need(start + n, 1, path);
    if (this.u8(start + n) !== 0) this.fail('a NUL-terminated string', path, this.u8(start + n), start + n);
    this.charge(n, path, pos);
    try {
      return utf8.decode(this.bytes.subarray(start, start + n));
    } catch {
      return this.fail('a valid UTF-8 string', path, `${n} bytes of invalid UTF-8`, start);
    }
  }
}

/** A verified table. Field getters verify the field's placement on first touch and return schema defaults. */
export class Table {
  constructor(
    private readonly r: FlatBufferReader,
    /** Absolute position of the table (of its soffset). */
    readonly pos: number,
    private readonly vt: number,
    private readonly vtSize: number,
    private readonly tableSize: number,
    /** Where this table sits in the model, for messages. */
    readonly path: string,
    private readonly depth: number,
  ) {}

  /** Number of field slots the vtable declares. */
  get fieldSlots(): number {
    return (this.vtSize - 4) >> 1;
  }

  /**
   * The absolute position of field `id` of `size` bytes, or 0 when absent. Verifies that the field lies inside
   * the table and is aligned to its size, as the flatbuffers Verifier requires.
   */
  field(id: number, size: number, name: string): number {
    const slot = 4 + 2 * id;
    if (slot >= this.vtSize) return 0;
    this.r.tracer?.('vtableEntry', this.vt + slot);
    const offset = this.r.u16(this.vt + slot);
    if (offset === 0) return 0;
    const pos = this.pos + offset;
    if (offset < 4 || offset + size > this.tableSize) {
      this.r.fail(
        `a field inside the table's ${this.tableSize} bytes`,
        `${this.path}.${name}`,
        offset,
        this.vt + slot,
      );
    }
    if (pos % size !== 0)
      this.r.fail(`a ${size}-byte aligned field`, `${this.path}.${name}`, `position ${pos}`, pos);
    return pos;
  }

  /** Field ids ≥ `known` that are present: fields of a newer schema that this reader would otherwise drop. */
  unknownFields(known: number): number[] {
    const found: number[] = [];
    for (let id = known; id < this.fieldSlots; id++) {
      if (this.r.u16(this.vt + 4 + 2 * id) !== 0) found.push(id);
    }
    return found;
  }

  /** Scalar field getters: the stored value, or `def` (the schema default) when the field is absent. */
  bool(id: number, name: string, def: boolean): boolean {
    const p = this.field(id, 1, name);
    return p === 0 ? def : this.r.u8(p) !== 0;
  }
  int8(id: number, name: string, def: number): number {
    const p = this.field(id, 1, name);
    return p === 0 ? def : this.r.i8(p);
  }
  uint8(id: number, name: string, def: number): number {
    const p = this.field(id, 1, name);
    return p === 0 ? def : this.r.u8(p);
  }
  int32(id: number, name: string, def: number): number {
    const p = this.field(id, 4, name);
    return p === 0 ? def : this.r.i32(p);
  }
  uint32(id: number, name: string, def: number): number {
    const p = this.field(id, 4, name);
    return p === 0 ? def : this.r.u32(p);
  }
  float32(id: number, name: string, def: number): number {
    const p = this.field(id, 4, name);
    return p === 0 ? def : this.r.f32(p);
  }
  /** A long field; `undefined` when stored but outside ±2^53. */
  int64(id: number, name: string, def: number): number | undefined {
    const p = this.field(id, 8, name);
    return p === 0 ? def : this.r.i64(p);
  }
  /** A ulong field; `undefined` when stored but above 2^53. */
  uint64(id: number, name: string, def: number): number | undefined {
    const p = this.field(id, 8, name);
    return p === 0 ? def : this.r.u64(p);
  }

  /** Absolute position of the object an offset field points to, or 0 when the field is absent. */
  target(id: number, name: string): number {
    const p = this.field(id, 4, name);
    return p === 0 ? 0 : this.r.deref(p, `${this.path}.${name}`);
  }

  /** A sub-table, verified; `undefined` when absent. */
  child(id: number, name: string): Table | undefined {
    const t = this.target(id, name);
    return t === 0 ? undefined : this.r.table(t, `${this.path}.${name}`, this.depth + 1);
  }

  /** A string field; `undefined` when absent. */
  string(id: number, name: string): string | undefined {
    const t = this.target(id, name);
    return t === 0 ? undefined : this.r.string(t, `${this.path}.${name}`);
  }

  /** A vector of tables, each verified; `undefined` when absent. */
  tables(id: number, name: string): Table[] | undefined {
    const t = this.target(id, name);
    if (t === 0) return undefined;
    const path = `${this.path}.${name}`;
    const n = this.r.vectorLength(t, 4, path);
    const out = new Array<Table>(n);
    for (let i = 0; i < n; i++) {
      const at = t + 4 + 4 * i;
      const itemPath = `${path}[${i}]`;
      out[i] = this.r.table(this.r.deref(at, itemPath), itemPath, this.depth + 1);
    }
    return out;
  }

  /** A [ubyte] field as a zero-copy view into the file; `undefined` when absent. */
  bytes(id: number, name: string): Uint8Array | undefined {
    const t = this.target(id, name);
    if (t === 0) return undefined;
    const n = this.r.vectorLength(t, 1, `${this.path}.${name}`);
    return this.r.bytes.subarray(t + 4, t + 4 + n);
  }

  /** A [bool] field; `undefined` when absent. */
  bools(id: number, name: string): boolean[] | undefined {
    const view = this.bytes(id, name);
    if (view === undefined) return undefined;
    this.r.charge(view.length, `${this.path}.${name}`, view.byteOffset);
    return Array.from(view, (b) => b !== 0);
  }

  /**
   * A [int] field; `undefined` when absent. With `index`, each element's position is reported to the tracer as
   * an index (so the mutator can aim at tensor indices).
   */
  int32s(id: number, name: string, index = false): number[] | undefined {
    const t = this.target(id, name);
    if (t === 0) return undefined;
    const path = `${this.path}.${name}`;
    const n = this.r.vectorLength(t, 4, path);
    this.r.charge(n, path, t);
    const out = new Array<number>(n);
    const tracer = index ? this.r.tracer : undefined;
    for (let i = 0; i < n; i++) {
      tracer?.('index', t + 4 + 4 * i);
      out[i] = this.r.i32(t + 4 + 4 * i);
    }
    return out;
  }

  /** A [float] field; `undefined` when absent. */
  float32s(id: number, name: string): number[] | undefined {
    const t = this.target(id, name);
    if (t === 0) return undefined;
    const path = `${this.path}.${name}`;
    const n = this.r.vectorLength(t, 4, path);
    this.r.charge(n, path, t);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.r.f32(t + 4 + 4 * i);
    return out;
  }

  /**
   * A [long] field; `undefined` when absent. An element outside ±2^53 is reported through `onUnsafe` (and read
   * as NaN), because whether that is an error depends on the field.
   */
  int64s(id: number, name: string, onUnsafe: (index: number, offset: number) => void): number[] | undefined {
    const t = this.target(id, name);
    if (t === 0) return undefined;
    const path = `${this.path}.${name}`;
    const n = this.r.vectorLength(t, 8, path);
    this.r.charge(n, path, t);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const v = this.r.i64(t + 4 + 8 * i);
      if (v === undefined) onUnsafe(i, t + 4 + 8 * i);
      out[i] = v ?? Number.NaN;
    }
    return out;
  }

  /** Reports the position of a scalar index field to the tracer (no-op in normal reads). */
  traceIndex(id: number, size: number, name: string): void {
    if (this.r.tracer === undefined) return;
    const p = this.field(id, size, name);
    if (p !== 0) this.r.tracer('index', p);
  }
}
