// A hand-encoded one-op .tflite model (y = x + c, float32 [1, n]) for tests and the native benchmark.
// Why hand-encoded: the bench needs a model whose invoke costs almost nothing so the N-API round trip is
// what gets measured, and the leak test needs thousands of cheap create/invoke/dispose cycles. No npm
// package ships such a model, and @swapless/tflite's writer is a separate package (the bench can switch
// to it through its model hook). The encoder writes the flatbuffer front to back: every table is followed
// by its children, so every uoffset points forward as the format requires.

const TFLITE_FLOAT32 = 0;
const OP_ADD = 0;
const BUILTIN_OPTIONS_ADD = 11;

class Writer {
  constructor() {
    this.buf = new Uint8Array(256);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
  }
  ensure(n) {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf);
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  // Pads so that (pos + extra) is a multiple of `to` (extra: bytes that precede the aligned payload).
  align(to, extra = 0) {
    while ((this.pos + extra) % to !== 0) this.u8(0);
  }
  u8(v) {
    this.ensure(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
  }
  u16(v) {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  i32(v) {
    this.ensure(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }
  f32(v) {
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }
  patchUOffset(at, target) {
    this.view.setUint32(at, target - at, true);
  }
  bytes() {
    return this.buf.slice(0, this.pos);
  }
}

// Field kinds: ['u8'|'i32'|'u32'|'f32', value] scalars, ['ref', writeChild] for anything behind an offset.
function writeTable(w, fields) {
  w.align(2);
  const vtable = w.pos;
  const present = fields.map((f) => f !== undefined);
  w.u16(4 + 2 * fields.length);
  const sizeAt = w.pos;
  w.u16(0);
  const slotAt = w.pos;
  for (let i = 0; i < fields.length; i += 1) w.u16(0);
  w.align(4);
  const table = w.pos;
  w.i32(table - vtable);
  const refs = [];
  fields.forEach((f, i) => {
    if (!present[i]) return;
    const [kind, value] = f;
    if (kind === 'u8') {
      w.view.setUint16(slotAt + 2 * i, w.pos - table, true);
      w.u8(value);
      return;
    }
    w.align(4);
    w.view.setUint16(slotAt + 2 * i, w.pos - table, true);
    if (kind === 'ref') {
      refs.push([w.pos, value]);
      w.i32(0);
    } else if (kind === 'f32') w.f32(value);
    else w.i32(value);
  });
  w.view.setUint16(sizeAt, w.pos - table, true);
  for (const [at, child] of refs) w.patchUOffset(at, child(w));
  return table;
}

const intVector = (values) => (w) => {
  w.align(4);
  const at = w.pos;
  w.i32(values.length);
  for (const v of values) w.i32(v);
  return at;
};

const byteVector = (bytes) => (w) => {
  w.align(16, 4); // TFLite wants buffer data 16-byte aligned; the length prefix sits just before it
  const at = w.pos;
  w.i32(bytes.length);
  for (const b of bytes) w.u8(b);
  return at;
};

const string = (s) => (w) => {
  w.align(4);
  const at = w.pos;
  const bytes = new TextEncoder().encode(s);
  w.i32(bytes.length);
  for (const b of bytes) w.u8(b);
  w.u8(0);
  return at;
};

const tableVector = (tables) => (w) => {
  w.align(4);
  const at = w.pos;
  w.i32(tables.length);
  const slots = tables.map(() => {
    const s = w.pos;
    w.i32(0);
    return s;
  });
  tables.forEach((fields, i) => {
    w.patchUOffset(slots[i], writeTable(w, fields));
  });
  return at;
};

const table = (fields) => (w) => writeTable(w, fields);

/**
 * Encodes `y = x + c` with x, y float32 [1, n] and c the constant 1, 2, 3, … n.
 * @param {number} [n=4]
 * @returns {Uint8Array}
 */
export function tinyAddModel(n = 4) {
  const constant = new Uint8Array(new Float32Array(Array.from({ length: n }, (_, i) => i + 1)).buffer);
  const tensor = (name, buffer) => [
    ['ref', intVector([1, n])],
    ['u8', TFLITE_FLOAT32],
    ['i32', buffer],
    ['ref', string(name)],
  ];
  const operator = [
    ['i32', 0],
    ['ref', intVector([0, 1])],
    ['ref', intVector([2])],
    ['u8', BUILTIN_OPTIONS_ADD],
    ['ref', table([])],
  ];
  const subgraph = [
    ['ref', tableVector([tensor('x', 0), tensor('c', 1), tensor('y', 0)])],
    ['ref', intVector([0])],
    ['ref', intVector([2])],
    ['ref', tableVector([operator])],
    ['ref', string('main')],
  ];
  const model = [
    ['i32', 3],
    ['ref', tableVector([[['u8', OP_ADD], undefined, ['i32', 1], ['i32', OP_ADD]]])],
    ['ref', tableVector([subgraph])],
    ['ref', string('swapless tiny add')],
    ['ref', tableVector([[], [['ref', byteVector(constant)]]])],
  ];
  const w = new Writer();
  w.i32(0); // root offset, patched below
  for (const c of 'TFL3') w.u8(c.charCodeAt(0));
  w.patchUOffset(0, writeTable(w, model));
  return w.bytes();
}
