import { ErrorCodes, InvalidModelError, UnsupportedModelError } from '@swapless/core';
import { describe, expect, it } from 'vitest';
import { FlatBufferReader } from './flatbuffer-read.js';
import type { TfliteModel } from './model.js';
import { BuiltinOperator } from './ops.js';
import { BuiltinOptionsType } from './options.js';
import { readModel } from './reader.js';
import { loadFaceModel } from './testing/fixtures.js';
import { loadRealModel, REAL_MODELS, realModel } from './testing/real-models.js';
import { smallModel } from './testing/small-model.js';
import { BUFFER_DATA_ALIGNMENT, writeModel } from './writer.js';

/** The small model is structurally rich but semantically odd on purpose: read it without the op verifier. */
const structural = { verifySemantics: false } as const;

/**
 * Deep equality of two models. Byte arrays are compared with Buffer.equals (fast) and then replaced by their
 * lengths, so the structural comparison does not walk megabytes element by element.
 */
function expectSameModel(actual: TfliteModel, expected: TfliteModel): void {
  const strip = (m: TfliteModel) => {
    const blobs: Uint8Array[] = [];
    const take = (b: Uint8Array | undefined) => {
      if (b === undefined) return undefined;
      blobs.push(b);
      return `<${b.length} bytes>`;
    };
    const copy = {
      ...m,
      buffers: m.buffers.map((b) => ({ ...b, data: take(b.data) })),
      subgraphs: m.subgraphs.map((sg) => ({
        ...sg,
        operators: sg.operators.map((op) => ({ ...op, customOptions: take(op.customOptions) })),
      })),
    };
    return { copy, blobs };
  };
  const a = strip(actual);
  const e = strip(expected);
  expect(a.copy).toEqual(e.copy);
  expect(a.blobs.length).toBe(e.blobs.length);
  a.blobs.forEach((blob, i) => {
    expect(Buffer.from(blob).equals(Buffer.from(e.blobs[i]!)), `blob ${i}`).toBe(true);
  });
}

function catchError(fn: () => unknown): Error & { code?: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('writeModel round trip', () => {
  for (const real of REAL_MODELS) {
    it(`read(write(read(x))) deep-equals read(x) for ${real.name}`, () => {
      const original = readModel(loadRealModel(real));
      const written = writeModel(original);
      expectSameModel(readModel(written), original);
      // Deterministic: the same model always gives the same bytes, and writing is a fixed point.
      expect(Buffer.from(writeModel(original)).equals(Buffer.from(written))).toBe(true);
      expect(Buffer.from(writeModel(readModel(written))).equals(Buffer.from(written))).toBe(true);
    });
  }

  it('keeps what the reader once marked: sparsity, the deprecated signature tag, metadata buffers', () => {
    const sparse = readModel(loadRealModel(realModel('mediapipe/face_detection_full_range_sparse')));
    const back = readModel(writeModel(sparse));
    const sparseTensors = back.subgraphs[0]!.tensors.filter((t) => t.sparsity !== undefined);
    expect(sparseTensors).toHaveLength(46);
    expect(back.metadataBuffer).toEqual(sparse.metadataBuffer);
    const movenet = readModel(loadRealModel(realModel('coral/movenet_single_pose_lightning_ptq')));
    expect(movenet.unsupported).toBeUndefined();
    const tag = movenet.signatureDefs![0]!.deprecatedTag;
    expect(tag).toBeDefined();
    expect(readModel(writeModel(movenet)).signatureDefs![0]!.deprecatedTag).toBe(tag);
  });

  it('writes sparsity exactly: index vector types, absent and empty vectors, block maps', () => {
    const model = smallModel();
    const t = model.subgraphs[0]!.tensors[1]!;
    t.sparsity = {
      traversalOrder: [0, 1, 2, 3, 4],
      blockMap: [3],
      dimMetadata: [
        { format: 0, denseSize: 4 },
        { format: 1, denseSize: 0, arraySegments: { type: 'int32', values: [0, 2, 70000] } },
        {
          format: 1,
          denseSize: 0,
          arraySegments: { type: 'uint16', values: [0, 65535] },
          arrayIndices: { type: 'uint8', values: [] },
        },
        { format: 1, denseSize: 0, arrayIndices: { type: 'uint8' } },
        { format: 0, denseSize: 2 },
      ],
    };
    // The small model is deliberately odd (its sparsity does not describe its shape): read it structurally.
    const back = readModel(writeModel(model), structural);
    expect(back.subgraphs[0]!.tensors[1]!.sparsity).toEqual(t.sparsity);
    // Values that do not fit their vector's element type are refused, not wrapped.
    t.sparsity.dimMetadata![2]!.arraySegments!.values = [70000];
    expect(catchError(() => writeModel(model)).message).toMatch(/arraySegments\.values\[0\]/);
  });

  it('writes custom quantization bytes 16-byte aligned, variant sub-types and the deprecated tag', () => {
    const model = smallModel();
    const custom = new Uint8Array([9, 8, 7, 6, 5]);
    model.subgraphs[0]!.tensors[0]!.quantization = { quantizedDimension: 0, details: { custom } };
    model.subgraphs[0]!.tensors[2]!.quantization = { quantizedDimension: 0, details: {} };
    model.subgraphs[0]!.tensors[3]!.variantTensors = [
      { type: 0, hasRank: true, shape: [2, -1] },
      { type: 9, hasRank: false },
    ];
    model.signatureDefs![0]!.deprecatedTag = 'serve';
    const back = readModel(writeModel(model), structural);
    const q = back.subgraphs[0]!.tensors[0]!.quantization!;
    expect([...q.details!.custom!]).toEqual([...custom]);
    expect(q.details!.custom!.byteOffset % 16).toBe(0);
    expect(back.subgraphs[0]!.tensors[2]!.quantization!.details).toEqual({});
    expect(back.subgraphs[0]!.tensors[3]!.variantTensors).toEqual(
      model.subgraphs[0]!.tensors[3]!.variantTensors,
    );
    expect(back.signatureDefs![0]!.deprecatedTag).toBe('serve');
  });

  it('round-trips the small model with every optional part', () => {
    const model = smallModel();
    const back = readModel(writeModel(model), structural);
    // Options come back complete with schema defaults; everything else exactly as given.
    expectSameModel(back, model);
    expect(back.subgraphs[0]!.tensors[6]!.quantization!.zeroPoint).toEqual([0, -3, 2 ** 40]);
  });

  it('fills options fields that were left out with their schema defaults', () => {
    const model = smallModel();
    model.subgraphs[0]!.operators[0]!.builtinOptions!.fields = { strideW: 2 };
    const back = readModel(writeModel(model), structural);
    expect(back.subgraphs[0]!.operators[0]!.builtinOptions!.fields).toEqual({
      padding: 0,
      strideW: 2,
      strideH: 0,
      fusedActivationFunction: 0,
      dilationWFactor: 1,
      dilationHFactor: 1,
      quantizedBiasType: 0,
    });
  });
});

describe('writeModel output format', () => {
  const out = writeModel(readModel(loadFaceModel('face_detection_short_range.tflite')));

  it('carries the TFL3 identifier and 16-byte aligned buffer data', () => {
    expect(String.fromCharCode(...out.subarray(4, 8))).toBe('TFL3');
    const back = readModel(out);
    let checked = 0;
    for (const b of back.buffers) {
      if (b.data === undefined) continue;
      expect(b.data.byteOffset % BUFFER_DATA_ALIGNMENT).toBe(0);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('writes deprecated_builtin_code = min(code, 127) and builtin_code = code', () => {
    const bytes = writeModel(smallModel());
    const r = new FlatBufferReader(bytes, { maxTables: 1e6, maxElements: 1e8, maxDepth: 16 });
    const codes = r.table(r.deref(0, 'root'), 'model', 0).tables(1, 'operator_codes')!;
    const pairs = codes.map((c) => [c.int8(0, 'deprecated_builtin_code', 0), c.int32(3, 'builtin_code', 0)]);
    expect(pairs).toEqual([
      [BuiltinOperator.CONV_2D, BuiltinOperator.CONV_2D],
      [BuiltinOperator.RESHAPE, BuiltinOperator.RESHAPE],
      [127, BuiltinOperator.CUMSUM],
      [BuiltinOperator.CUSTOM, BuiltinOperator.CUSTOM],
      [BuiltinOperator.QUANTIZE, BuiltinOperator.QUANTIZE],
    ]);
    expect(readModel(bytes, structural).operatorCodes[2]!.builtinCode).toBe(BuiltinOperator.CUMSUM);
  });
});

describe('writeModel refusals', () => {
  it('refuses options marked unsupported, naming operator index, op type and table', () => {
    const model = smallModel();
    model.subgraphs[0]!.operators[1]!.builtinOptions = {
      type: 111,
      name: 'unknown',
      fields: {},
      unsupported: true,
    };
    const err = catchError(() => writeModel(model));
    expect(err).toBeInstanceOf(UnsupportedModelError);
    expect(err.code).toBe(ErrorCodes.UNSUPPORTED_MODEL);
    expect(err.message).toMatch(/operator 1 \(RESHAPE\).*unknown.*union type 111/);
    expect(err.details).toMatchObject({ operatorIndex: 1, operator: 'RESHAPE', optionsTable: 'unknown' });
  });

  it('refuses options fields its spec does not know, and a name that does not match the type', () => {
    const model = smallModel();
    model.subgraphs[0]!.operators[0]!.builtinOptions!.fields.notAField = 1;
    expect(catchError(() => writeModel(model)).message).toMatch(/Conv2DOptions has no field "notAField"/);
    const renamed = smallModel();
    renamed.subgraphs[0]!.operators[0]!.builtinOptions!.name = 'Pool2DOptions';
    expect(() => writeModel(renamed)).toThrow(UnsupportedModelError);
  });

  it('refuses tensors, operators, subgraphs and models the reader marked', () => {
    const marks: ((m: TfliteModel) => void)[] = [
      (m) => {
        m.subgraphs[0]!.tensors[2]!.unsupported = ['unknown field id(s) 10'];
      },
      (m) => {
        m.subgraphs[0]!.operators[2]!.unsupported = ['unknown field id(s) 11'];
      },
      (m) => {
        m.subgraphs[0]!.unsupported = ['unknown field id(s) 5'];
      },
      (m) => {
        m.unsupported = ['unknown field id(s) 8'];
      },
      (m) => {
        m.buffers[1] = { offset: 1000, size: 24 };
      },
    ];
    for (const mark of marks) {
      const model = smallModel();
      mark(model);
      expect(() => writeModel(model)).toThrow(UnsupportedModelError);
    }
  });

  it('rejects inconsistent models with InvalidModelError and a path', () => {
    const cases: [(m: TfliteModel) => void, string][] = [
      [
        (m) => {
          m.subgraphs[0]!.operators[0]!.inputs[0] = 42;
        },
        'model.subgraphs[0].operators[0].inputs[0]',
      ],
      [
        (m) => {
          m.subgraphs[0]!.operators[0]!.opcodeIndex = 9;
        },
        'model.subgraphs[0].operators[0].opcodeIndex',
      ],
      [
        (m) => {
          m.subgraphs[0]!.tensors[0]!.buffer = 99;
        },
        'model.subgraphs[0].tensors[0].buffer',
      ],
      [
        (m) => {
          m.subgraphs[0]!.tensors[0]!.shape = [1, 2.5];
        },
        'model.subgraphs[0].tensors[0].shape[1]',
      ],
      [
        (m) => {
          m.subgraphs[0]!.tensors[0]!.type = 300;
        },
        'model.subgraphs[0].tensors[0].type',
      ],
      [
        (m) => {
          m.subgraphs[0]!.operators[0]!.builtinOptions!.fields.padding = 1000;
        },
        'model.subgraphs[0].operators[0].builtinOptions.fields.padding',
      ],
      [
        (m) => {
          m.subgraphs[0]!.operators[0]!.builtinOptions!.fields.padding = true;
        },
        'model.subgraphs[0].operators[0].builtinOptions.fields.padding',
      ],
      [
        (m) => {
          m.signatureDefs![0]!.outputs[0]!.tensorIndex = 50;
        },
        'model.signatureDefs[0].outputs[0].tensorIndex',
      ],
    ];
    for (const [edit, path] of cases) {
      const model = smallModel();
      edit(model);
      const err = catchError(() => writeModel(model));
      expect(err, path).toBeInstanceOf(InvalidModelError);
      expect(err.details!.path).toBe(path);
      expect(err.message).toMatch(/^Expected /);
    }
  });

  it('writes an op with no options and an options table with only defaults', () => {
    const model = smallModel();
    model.subgraphs[0]!.operators[0]!.builtinOptions = {
      type: BuiltinOptionsType.Conv2DOptions,
      name: 'Conv2DOptions',
      fields: {},
    };
    delete model.subgraphs[0]!.operators[1]!.builtinOptions;
    const back = readModel(writeModel(model), structural);
    expect(back.subgraphs[0]!.operators[0]!.builtinOptions!.fields.dilationHFactor).toBe(1);
    expect(back.subgraphs[0]!.operators[1]!.builtinOptions).toBeUndefined();
  });
});
