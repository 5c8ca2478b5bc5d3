/**
 * A minimal flatbuffer builder that writes front to back.
 *
 * Why front to back (the flatbuffers libraries build back to front): absolute positions are known while
 * writing, so alignment — including the 16-byte alignment TFLite wants for `Buffer.data` and flatc ignores —
 * is a plain `pad`. The price is that a parent is written before its children and its offset slots are
 * patched once each child's position is known; uoffsets are unsigned, so children must come *after* their
 * parent, which a depth-first, parent-first traversal guarantees. Each vtable is written right before its
 * table (a positive soffset). The byte buffer grows by doubling, so building is linear in the output size.
 */

/** Scalar kinds a table field or vector element can have. */
export type ScalarKind =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'float32'
  | 'int64'
  | 'uint64';

const SIZE: Readonly<Record<ScalarKind | 'offset', number>> = {
  bool: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  float32: 4,
  int64: 8,
  uint64: 8,
  offset: 4,
};

interface PendingField {
  id: number;
  kind: ScalarKind | 'offset';
  value: number;
}

/** Fields of one table being assembled; written by {@link FlatBufferBuilder.endTable}. */
export class TableBuilder {
  /** @internal */ readonly fields: PendingField[] = [];

  /** Adds a scalar unless it equals the schema default (flatc's default behaviour, so files stay small). */
  scalar(id: number, kind: ScalarKind, value: number | boolean, def: number | boolean): this {
    if (!Object.is(value, def))
      this.fields.push({ id, kind, value: typeof value === 'boolean' ? +value : value });
    return this;
  }

  /** Reserves a uoffset slot for field `id`, patched later with {@link FlatBufferBuilder.patch}. */
  offset(id: number): this {
    this.fields.push({ id, kind: 'offset', value: 0 });
    return this;
  }
}

/** Positions of a written table: the table itself and its offset slots by field id. */
export interface WrittenTable {
  readonly pos: number;
  /** Absolute position of the offset slot of field `id` (throws if the field was not reserved). */
  slot(id: number): number;
}

/** A growable little-endian byte buffer with flatbuffer-shaped writers. */
export class FlatBufferBuilder {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;
  private readonly encoder = new TextEncoder();

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(Math.max(64, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far (= the position of the next byte). */
  get offset(): number {
    return this.len;
  }

  private ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.max(need, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Zero-pads so that `(offset + prefix) % align === 0`: the next `prefix` bytes end on an aligned position. */
  pad(align: number, prefix = 0): void {
    const n = (align - ((this.len + prefix) % align)) % align;
    this.ensure(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
  }

  private put(kind: ScalarKind | 'offset', pos: number, value: number): void {
    const v = this.view;
    switch (kind) {
      case 'bool':
      case 'uint8':
        v.setUint8(pos, value);
        break;
      case 'int8':
        v.setInt8(pos, value);
        break;
      case 'int16':
        v.setInt16(pos, value, true);
        break;
      case 'uint16':
        v.setUint16(pos, value, true);
        break;
      case 'int32':
        v.setInt32(pos, value, true);
        break;
      case 'uint32':
      case 'offset':
        v.setUint32(pos, value, true);
        break;
      case 'float32':
        v.setFloat32(pos, value, true);
        break;
      case 'int64':
      case 'uint64': {
        // Exact for safe integers: the low 32 bits by modulo, the high part by floor division (two's complement).
        const lo = ((value % 0x1_0000_0000) + 0x1_0000_0000) % 0x1_0000_0000;
        const hi = Math.floor(value / 0x1_0000_0000);
        v.setUint32(pos, lo, true);
        v.setInt32(pos + 4, hi, true);
        break;
      }
    }
  }

  /** Appends raw bytes. */
  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
  }

  /** Appends a uint32 and returns its position. */
  uint32(value: number): number {
    this.pad(4);
    this.ensure(4);
    const at = this.len;
    this.put('uint32', at, value);
    this.len += 4;
    return at;
  }

  /** Writes `target - at` into the uoffset slot at `at`. Targets must lie after their slot (uoffsets are unsigned). */
  patch(at: number, target: number): void {
    if (!(target > at)) throw new Error(`internal: uoffset at ${at} would point backwards to ${target}`);
    this.view.setUint32(at, target - at, true);
  }

  /** Writes a table's vtable and then the table, fields laid out largest first (aligned, compact). */
  endTable(t: TableBuilder): WrittenTable {
    const fields = [...t.fields].sort((a, b) => SIZE[b.kind] - SIZE[a.kind] || a.id - b.id);
    const slots = fields.reduce((m, f) => Math.max(m, f.id + 1), 0);
    const vtSize = 4 + 2 * slots;
    this.pad(2);
    const vt = this.len;
    // Table position: after the vtable, 4-aligned; fields are aligned absolutely below.
    let pos = vt + vtSize;
    pos += (4 - (pos % 4)) % 4;
    let cur = pos + 4;
    const at = new Map<number, number>();
    for (const f of fields) {
      const size = SIZE[f.kind];
      cur += (size - (cur % size)) % size;
      at.set(f.id, cur);
      cur += size;
    }
    const tableSize = cur - pos;
    if (vtSize > 0xffff || tableSize > 0xffff) throw new Error('internal: table too large for a vtable');
    this.ensure(cur - this.len);
    this.buf.fill(0, this.len, cur);
    this.put('uint16', vt, vtSize);
    this.put('uint16', vt + 2, tableSize);
    for (const f of fields) this.put('uint16', vt + 4 + 2 * f.id, at.get(f.id)! - pos);
    this.put('int32', pos, pos - vt);
    for (const f of fields) if (f.kind !== 'offset') this.put(f.kind, at.get(f.id)!, f.value);
    this.len = cur;
    return {
      pos,
      slot(id: number): number {
        const p = at.get(id);
        if (p === undefined) throw new Error(`internal: field ${id} has no slot`);
        return p;
      },
    };
  }

  /** Writes a vector of scalars and returns the position of its length prefix. */
  vector(kind: ScalarKind, values: ArrayLike<number | boolean>): number {
    const size = SIZE[kind];
    this.pad(4);
    if (size > 4) this.pad(size, 4); // 8-byte elements must start 8-aligned after the 4-byte length
    const n = values.length;
    this.ensure(4 + n * size);
    const at = this.len;
    this.put('uint32', at, n);
    let p = at + 4;
    for (let i = 0; i < n; i++, p += size) {
      const v = values[i]!;
      this.put(kind, p, typeof v === 'boolean' ? +v : v);
    }
    this.len = p;
    return at;
  }

  /** Writes a [ubyte] vector whose data starts on an `align`-byte boundary; returns the length prefix position. */
  byteVector(data: Uint8Array, align = 1): number {
    this.pad(4);
    if (align > 4) this.pad(align, 4);
    const at = this.uint32(data.length);
    this.bytes(data);
    return at;
  }

  /** Writes a vector of `n` uoffset slots (to patch) and returns its length prefix position. */
  offsetVector(n: number): number {
    const at = this.uint32(n);
    this.ensure(4 * n);
    this.buf.fill(0, this.len, this.len + 4 * n);
    this.len += 4 * n;
    return at;
  }

  /** Writes a NUL-terminated UTF-8 string and returns its length prefix position. */
  string(s: string): number {
    const encoded = this.encoder.encode(s);
    const at = this.uint32(encoded.length);
    this.bytes(encoded);
    this.ensure(1);
    this.buf[this.len++] = 0;
    return at;
  }

  /** The finished bytes, copied into a buffer of exactly the written length. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
