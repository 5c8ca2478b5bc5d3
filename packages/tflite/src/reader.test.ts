import { ErrorCodes, InvalidArgumentError, InvalidModelError, UnsupportedModelError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { FlatBufferReader, type Table } from './flatbuffer-read.js';
import { builtinOperatorName } from './ops.js';
import { readModel } from './reader.js';
import { loadFaceModel } from './testing/fixtures.js';
import { createRng } from './testing/mutate.js';
import { smallModel } from './testing/small-model.js';
import { writeModel } from './writer.js';

const shortRange = loadFaceModel('face_detection_short_range.tflite');
/** The small model is structurally rich but semantically odd on purpose: read it without the op verifier. */
const structural = { verifySemantics: false } as const;

/** A verified view of a valid model's root table, for aiming hand-made corruptions at exact fields. */
function root(bytes: Uint8Array): Table {
  const r = new FlatBufferReader(bytes, { maxTables: 1e6, maxElements: 1e8, maxDepth: 16 });
  return r.table(r.deref(0, 'root'), 'model', 0);
}

function corrupt(bytes: Uint8Array, edit: (view: DataView, model: Table) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer), root(copy));
  return copy;
}

function expectInvalid(bytes: Uint8Array, message?: RegExp): InvalidModelError {
  let error: unknown;
  try {
    readModel(bytes);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidModelError);
  const err = error as InvalidModelError;
  expect(err.code).toBe(ErrorCodes.INVALID_MODEL);
  expect(err.message).toMatch(/^Expected /);
  expect(typeof err.details.path).toBe('string');
  expect(typeof err.details.offset).toBe('number');
  if (message) expect(err.message).toMatch(message);
  return err;
}

describe('readModel on the real face detection models', () => {
  it('reads face_detection_short_range: 164 ops, float32 [1,128,128,3] in, [1,896,16] and [1,896,1] out', () => {
    const m = readModel(shortRange);
    expect(m.version).toBe(3);
    expect(m.subgraphs).toHaveLength(1);
    const sg = m.subgraphs[0]!;
    expect(sg.operators).toHaveLength(164);
    expect(sg.inputs.map((i) => sg.tensors[i]!.shape)).toEqual([[1, 128, 128, 3]]);
    expect(sg.inputs.map((i) => sg.tensors[i]!.type)).toEqual([0]);
    expect(sg.outputs.map((i) => sg.tensors[i]!.shape).sort()).toEqual([
      [1, 896, 1],
      [1, 896, 16],
    ]);
    const names = new Set(
      sg.operators.map((op) => builtinOperatorName(m.operatorCodes[op.opcodeIndex]!.builtinCode)),
    );
    expect(names).toContain('DEQUANTIZE');
    expect(names).toContain('CONV_2D');
    // Every op is representable: nothing marked, so the model can be written back.
    expect(sg.operators.filter((op) => op.unsupported || op.builtinOptions?.unsupported)).toEqual([]);
    expect(sg.tensors.filter((t) => t.unsupported)).toEqual([]);
    expect(m.buffers[0]!.data ?? new Uint8Array(0)).toHaveLength(0);
  });

  it('decodes options with schema defaults and camelCase names', () => {
    const m = readModel(shortRange);
    const sg = m.subgraphs[0]!;
    const conv = sg.operators.find((op) => m.operatorCodes[op.opcodeIndex]!.builtinCode === 3)!;
    expect(conv.builtinOptions!.name).toBe('Conv2DOptions');
    expect(Object.keys(conv.builtinOptions!.fields)).toEqual([
      'padding',
      'strideW',
      'strideH',
      'fusedActivationFunction',
      'dilationWFactor',
      'dilationHFactor',
      'quantizedBiasType',
    ]);
    expect(conv.builtinOptions!.fields.dilationWFactor).toBe(1);
    expect([1, 2]).toContain(conv.builtinOptions!.fields.strideW);
  });

  it('returns buffer data as zero-copy views into the input', () => {
    const m = readModel(shortRange);
    const withData = m.buffers.filter((b) => (b.data?.length ?? 0) > 0);
    expect(withData.length).toBeGreaterThan(10);
    for (const b of withData) expect(b.data!.buffer).toBe(shortRange.buffer);
  });

  it('reads from a view at an odd byte offset of a larger ArrayBuffer (e.g. a pooled Node Buffer)', () => {
    const host = new Uint8Array(shortRange.length + 7);
    host.set(shortRange, 3);
    const view = host.subarray(3, 3 + shortRange.length);
    const m = readModel(view);
    expect(m.subgraphs[0]!.operators).toHaveLength(164);
    expect(m.buffers.find((b) => (b.data?.length ?? 0) > 0)!.data!.buffer).toBe(host.buffer);
  });

  it('reads face_detection_full_range', () => {
    const m = readModel(loadFaceModel('face_detection_full_range.tflite'));
    expect(m.subgraphs[0]!.operators.length).toBeGreaterThan(164);
  });

  it("decodes the sparse model's sparsity parameters exactly, with nothing left unrepresented", () => {
    const m = readModel(loadFaceModel('face_detection_full_range_sparse.tflite'));
    const g = m.subgraphs[0]!;
    expect(g.tensors.filter((t) => t.unsupported)).toEqual([]);
    const sparse = g.tensors.filter((t) => t.sparsity !== undefined);
    expect(sparse).toHaveLength(46);
    const first = sparse[0]!;
    expect(first.name).toBe('model_1/model/conv2d_1/Conv2D_dequantize');
    expect(first.shape).toEqual([8, 1, 1, 32]);
    // fp16 values of the 77 non-zeros only: the buffer is not shape × element size.
    expect(m.buffers[first.buffer]!.data).toHaveLength(154);
    const dims = first.sparsity!.dimMetadata!;
    expect(first.sparsity!.traversalOrder).toEqual([0, 1, 2, 3]);
    expect(dims.map((d) => [d.format, d.denseSize])).toEqual([
      [0, 8],
      [0, 1],
      [0, 1],
      [1, 0],
    ]);
    expect(dims[3]!.arraySegments).toEqual({ type: 'uint8', values: [0, 15, 30, 39, 48, 57, 63, 68, 77] });
    expect(dims[3]!.arrayIndices!.values).toHaveLength(77);
    // Wider tensors use 16-bit index vectors: the element type is kept, not widened.
    const types = new Set(sparse.flatMap((t) => t.sparsity!.dimMetadata!.map((d) => d.arrayIndices?.type)));
    expect([...types].sort()).toEqual(['uint16', 'uint8', undefined]);
  });
});

describe('readModel on hand-made corruptions', () => {
  const small = writeModel(smallModel());

  it('rejects a non-Uint8Array argument', () => {
    expect(() => readModel([1, 2, 3] as unknown as Uint8Array)).toThrow(InvalidArgumentError);
  });

  it('rejects truncation at many points', () => {
    for (const at of [0, 3, 4, 7, 8, 12, 16, 64, small.length >> 1, small.length - 1]) {
      expectInvalid(small.subarray(0, at));
    }
    for (const at of [100, 1000, 10_000, shortRange.length - 20]) expectInvalid(shortRange.subarray(0, at));
  });

  it('rejects random bytes, with and without the identifier', () => {
    const rng = createRng(42);
    for (let i = 0; i < 20; i++) {
      const junk = Uint8Array.from({ length: 64 + i * 50 }, () => Math.floor(rng() * 256));
      expectInvalid(junk, /identifier/);
      junk.set([0x54, 0x46, 0x4c, 0x33], 4);
      expectInvalid(junk);
    }
  });

  it('requires the TFL3 identifier unless told otherwise', () => {
    const noIdent = small.slice();
    noIdent.set([0, 0, 0, 0], 4);
    expectInvalid(noIdent, /"TFL3"/);
    expect(readModel(noIdent, { allowMissingIdentifier: true, ...structural })).toEqual(
      readModel(small, structural),
    );
  });

  it('rejects a root offset past the end, zero (self-referencing) and backwards (wrapping) offsets', () => {
    expectInvalid(
      corrupt(small, (v) => v.setUint32(0, small.length + 100, true)),
      /inside the/,
    );
    expectInvalid(
      corrupt(small, (v) => v.setUint32(0, 0, true)),
      /non-zero offset/,
    );
    expectInvalid(
      corrupt(small, (v) => v.setUint32(0, 0xfffffffc, true)),
      /below 2\^31/,
    );
    // A field offset made to point at itself.
    const selfRef = corrupt(small, (v, m) => v.setUint32(m.field(2, 4, 'subgraphs'), 0, true));
    expectInvalid(selfRef, /non-zero offset/);
  });

  it('rejects soffsets that put the vtable outside the file', () => {
    const bad = corrupt(small, (v, m) => v.setInt32(m.pos, -small.length, true));
    expectInvalid(bad, /vtable/);
    expectInvalid(
      corrupt(small, (v, m) => v.setInt32(m.pos, m.pos + 64, true)),
      /vtable/,
    );
    expectInvalid(
      corrupt(small, (v, m) => v.setInt32(m.pos, 3, true)),
      /vtable/,
    );
  });

  it('rejects a vector length of 0x7fffffff before allocating anything', () => {
    const bad = corrupt(small, (v, m) => v.setUint32(m.target(4, 'buffers'), 0x7fffffff, true));
    const err = expectInvalid(bad, /vector length/);
    expect(err.details.path).toBe('model.buffers');
    const shapes = corrupt(shortRange, (v, m) => {
      const tensor = m.tables(2, 'subgraphs')![0]!.tables(0, 'tensors')![0]!;
      v.setUint32(tensor.target(0, 'shape'), 0x7fffffff, true);
    });
    expectInvalid(shapes, /vector length/);
  });

  it('rejects a vtable entry that points outside its table, and a bad vtable size', () => {
    const vt = (m: Table, v: DataView) => m.pos - v.getInt32(m.pos, true);
    expectInvalid(
      corrupt(small, (v, m) => v.setUint16(vt(m, v) + 4 + 2 * 2, 0xfff0, true)),
      /inside the table/,
    );
    expectInvalid(
      corrupt(small, (v, m) => v.setUint16(vt(m, v), 3, true)),
      /vtable size/,
    );
  });

  it('rejects out-of-range tensor, opcode and buffer indices', () => {
    const op = (m: Table, i: number) => m.tables(2, 'subgraphs')![0]!.tables(3, 'operators')![i]!;
    const tensor = (m: Table, i: number) => m.tables(2, 'subgraphs')![0]!.tables(0, 'tensors')![i]!;
    const inputs = corrupt(small, (v, m) => v.setInt32(op(m, 0).target(1, 'inputs') + 4, 99, true));
    expect(expectInvalid(inputs, /tensor index/).details.path).toBe(
      'model.subgraphs[0].operators[0].inputs[0]',
    );
    // −1 (absent) is allowed for inputs only.
    expect(() =>
      readModel(
        corrupt(small, (v, m) => v.setInt32(op(m, 0).target(1, 'inputs') + 8, -1, true)),
        structural,
      ),
    ).not.toThrow();
    expectInvalid(
      corrupt(small, (v, m) => v.setInt32(op(m, 0).target(2, 'outputs') + 4, -1, true)),
      /tensor index/,
    );
    expectInvalid(
      corrupt(small, (v, m) => v.setUint32(op(m, 1).field(0, 4, 'opcode_index'), 5, true)),
      /opcode index/,
    );
    expectInvalid(
      corrupt(small, (v, m) => v.setUint32(tensor(m, 1).field(2, 4, 'buffer'), 6, true)),
      /buffer index/,
    );
    expectInvalid(
      corrupt(small, (v, m) => v.setInt32(m.tables(2, 's')![0]!.target(2, 'outputs') + 4, 8, true)),
    );
  });

  it('rejects a constant buffer whose size does not match shape × element size', () => {
    const bad = corrupt(small, (v, m) => {
      const w = m.tables(2, 'subgraphs')![0]!.tables(0, 'tensors')![1]!;
      v.setInt32(w.target(0, 'shape') + 4, 4, true);
    });
    expectInvalid(bad, /bytes per element/);
  });

  it('rejects negative dimensions, unknown tensor types and invalid UTF-8 names', () => {
    const t0 = (m: Table) => m.tables(2, 'subgraphs')![0]!.tables(0, 'tensors')![0]!;
    expectInvalid(
      corrupt(small, (v, m) => v.setInt32(t0(m).target(0, 'shape') + 4, -1, true)),
      /dimension/,
    );
    // Tensor 4 is INT32, so its type field is present (FLOAT32 = 0 is the default and omitted).
    const t4 = (m: Table) => m.tables(2, 'subgraphs')![0]!.tables(0, 'tensors')![4]!;
    expectInvalid(
      corrupt(small, (v, m) => v.setInt8(t4(m).field(1, 1, 'type'), 42)),
      /TensorType/,
    );
    expectInvalid(
      corrupt(small, (v, m) => v.setInt8(t4(m).field(1, 1, 'type'), -3)),
      /TensorType/,
    );
    expectInvalid(
      corrupt(small, (v, m) => v.setUint8(t0(m).target(3, 'name') + 4, 0xff)),
      /UTF-8/,
    );
    expectInvalid(
      corrupt(small, (v, m) => v.setUint8(t0(m).target(3, 'name') + 4 + 5, 0x41)),
      /NUL/,
    );
  });

  it('refuses schema versions other than 3', () => {
    const bad = corrupt(small, (v, m) => v.setUint32(m.field(0, 4, 'version'), 4, true));
    expect(() => readModel(bad)).toThrow(UnsupportedModelError);
  });

  it('reads an options table it has no spec for as unsupported, and the writer names the op when refusing', () => {
    const op0 = (m: Table) => m.tables(2, 'subgraphs')![0]!.tables(3, 'operators')![0]!;
    for (const type of [111, 200]) {
      const bytes = corrupt(small, (v, m) => v.setUint8(op0(m).field(3, 1, 'builtin_options_type'), type));
      const m = readModel(bytes, structural);
      expect(m.subgraphs[0]!.operators[0]!.builtinOptions).toEqual({
        type,
        name: 'unknown',
        fields: {},
        unsupported: true,
      });
      let error: unknown;
      try {
        writeModel(m);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UnsupportedModelError);
      expect((error as Error).message).toMatch(/operator 0 \(CONV_2D\)/);
      expect((error as Error).message).toMatch(/unknown/);
      expect((error as UnsupportedModelError).details).toMatchObject({
        operatorIndex: 0,
        operator: 'CONV_2D',
      });
    }
  });

  it('honours the work limits', () => {
    expect(() => readModel(shortRange, { maxTables: 100 })).toThrow(/at most 100 tables/);
    expect(() => readModel(shortRange, { maxElements: 100 })).toThrow(/at most 100 decoded elements/);
    expect(() => readModel(shortRange, { maxRank: 2 })).toThrow(/rank ≤ 2/);
  });
});
