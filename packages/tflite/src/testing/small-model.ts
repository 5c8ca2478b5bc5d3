/**
 * A small hand-built model for tests (internal: not exported from the package index). It exercises the parts
 * of the schema the face models do not: per-axis int8 quantization with 64-bit zero points, a shape signature,
 * an operator code above 127, custom options, intermediates, mutating-variable flags, metadata, signature defs
 * and a description. It is structurally valid; it is not meant to be executed.
 */
import type { Operator, Tensor, TfliteModel } from '../model.js';
import { BuiltinOperator } from '../ops.js';
import { BuiltinOptionsType } from '../options.js';

function floats(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/** Builds a fresh copy of the small test model. */
export function smallModel(): TfliteModel {
  return {
    version: 3,
    description: 'swapless small test model',
    operatorCodes: [
      { builtinCode: BuiltinOperator.CONV_2D, version: 1 },
      { builtinCode: BuiltinOperator.RESHAPE, version: 1 },
      { builtinCode: BuiltinOperator.CUMSUM, version: 1 },
      { builtinCode: BuiltinOperator.CUSTOM, customCode: 'MyCustomOp', version: 1 },
      { builtinCode: BuiltinOperator.QUANTIZE, version: 2 },
    ],
    buffers: [
      {},
      { data: floats([1, 2, 3, 4, 5, 6]) }, // conv weights [3,1,1,2]
      { data: floats([0.5, -0.5, 0]) }, // bias [3]
      { data: new Uint8Array([1, 0, 0, 0, 48, 0, 0, 0]) }, // reshape shape [1,48] int32
      { data: new Uint8Array([7, 7, 7]) }, // metadata
      { data: new Uint8Array([1, 2, 3, 4, 5, 6]) }, // int8 per-axis weights [3,2]
    ],
    subgraphs: [
      {
        name: 'main',
        tensors: smallTensors(),
        inputs: [0],
        outputs: [5],
        operators: smallOperators(),
      },
    ],
    metadataBuffer: [4],
    metadata: [{ name: 'min_runtime_version', buffer: 4 }],
    signatureDefs: [
      {
        inputs: [{ name: 'x', tensorIndex: 0 }],
        outputs: [{ name: 'y', tensorIndex: 5 }],
        signatureKey: 'serving_default',
        subgraphIndex: 0,
      },
    ],
  };
}

/**
 * The tensors: a float conv with bias and a reshape, an int8 per-axis tensor with a 64-bit zero point, a
 * mutable variable, and an input with a shape signature.
 */
function smallTensors(): Tensor[] {
  return [
    {
      shape: [1, 4, 4, 2],
      type: 0,
      buffer: 0,
      name: 'input',
      isVariable: false,
      hasRank: true,
      shapeSignature: [-1, 4, 4, 2],
    },
    { shape: [3, 1, 1, 2], type: 0, buffer: 1, name: 'w', isVariable: false, hasRank: true },
    { shape: [3], type: 0, buffer: 2, name: 'b', isVariable: false, hasRank: true },
    { shape: [1, 4, 4, 3], type: 0, buffer: 0, name: 'conv', isVariable: false, hasRank: true },
    { shape: [2], type: 2, buffer: 3, name: 'shape', isVariable: false, hasRank: true },
    { shape: [1, 48], type: 0, buffer: 0, name: 'output', isVariable: false, hasRank: true },
    {
      shape: [3, 2],
      type: 9,
      buffer: 5,
      name: 'q',
      isVariable: false,
      hasRank: true,
      quantization: { scale: [0.5, 0.25, 0.125], zeroPoint: [0, -3, 2 ** 40], quantizedDimension: 0 },
    },
    {
      shape: [1, 48],
      type: 9,
      buffer: 0,
      name: 'state',
      isVariable: true,
      hasRank: true,
      quantization: { min: [-1], max: [1], scale: [0.0078125], zeroPoint: [0], quantizedDimension: 0 },
    },
  ];
}

/** The operators: conv, reshape, cumsum (mutating variable input, intermediates), a custom op, quantize. */
function smallOperators(): Operator[] {
  return [
    {
      opcodeIndex: 0,
      inputs: [0, 1, 2],
      outputs: [3],
      customOptionsFormat: 0,
      builtinOptions: {
        type: BuiltinOptionsType.Conv2DOptions,
        name: 'Conv2DOptions',
        fields: {
          padding: 0,
          strideW: 1,
          strideH: 1,
          fusedActivationFunction: 3,
          dilationWFactor: 1,
          dilationHFactor: 1,
          quantizedBiasType: 0,
        },
      },
    },
    {
      opcodeIndex: 1,
      inputs: [3, 4],
      outputs: [5],
      customOptionsFormat: 0,
      builtinOptions: {
        type: BuiltinOptionsType.ReshapeOptions,
        name: 'ReshapeOptions',
        fields: { newShape: [1, 48] },
      },
    },
    {
      opcodeIndex: 2,
      inputs: [5, -1],
      outputs: [7],
      customOptionsFormat: 0,
      mutatingVariableInputs: [false, true],
      intermediates: [6],
      builtinOptions: {
        type: BuiltinOptionsType.CumsumOptions,
        name: 'CumsumOptions',
        fields: { exclusive: true, reverse: false },
      },
    },
    {
      opcodeIndex: 3,
      inputs: [7],
      outputs: [6],
      customOptions: new Uint8Array([9, 8, 7]),
      customOptionsFormat: 0,
    },
    {
      opcodeIndex: 4,
      inputs: [6],
      outputs: [7],
      customOptionsFormat: 0,
      builtinOptions: { type: BuiltinOptionsType.QuantizeOptions, name: 'QuantizeOptions', fields: {} },
    },
  ];
}
