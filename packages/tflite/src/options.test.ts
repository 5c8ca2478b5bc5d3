import { describe, expect, it } from 'vitest';
import { BuiltinOperator, builtinOperatorCode, builtinOperatorName, MAX_KNOWN_BUILTIN_CODE } from './ops.js';
import {
  BuiltinOptionsType,
  builtinOptionsName,
  camelCaseFieldName,
  getOptionsSpec,
  listOptionsSpecs,
  MAX_BUILTIN_OPTIONS_TYPE,
} from './options.js';

describe('BuiltinOperator table', () => {
  it('matches the codes of the TFLite schema', () => {
    const facts: Record<string, number> = {
      ADD: 0,
      AVERAGE_POOL_2D: 1,
      CONCATENATION: 2,
      CONV_2D: 3,
      DEPTHWISE_CONV_2D: 4,
      DEQUANTIZE: 6,
      FULLY_CONNECTED: 9,
      LOGISTIC: 14,
      MAX_POOL_2D: 17,
      MUL: 18,
      RELU: 19,
      RELU6: 21,
      RESHAPE: 22,
      RESIZE_BILINEAR: 23,
      SOFTMAX: 25,
      PAD: 34,
      MEAN: 40,
      SUB: 41,
      SQUEEZE: 43,
      QUANTIZE: 114,
      HARD_SWISH: 117,
    };
    for (const [name, code] of Object.entries(facts)) {
      expect(builtinOperatorCode(name), name).toBe(code);
      expect(builtinOperatorName(code)).toBe(name);
    }
  });

  it('is dense from 0 to RIGHT_SHIFT and names unknown codes', () => {
    expect(MAX_KNOWN_BUILTIN_CODE).toBe(161);
    expect(Object.keys(BuiltinOperator)).toHaveLength(162);
    expect(new Set(Object.values(BuiltinOperator)).size).toBe(162);
    expect(builtinOperatorName(BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)).toBe(
      'PLACEHOLDER_FOR_GREATER_OP_CODES',
    );
    expect(builtinOperatorName(128)).toBe('CUMSUM');
    expect(builtinOperatorName(162)).toBe('UNKNOWN_162');
    expect(builtinOperatorName(-1)).toBe('UNKNOWN_-1');
    expect(builtinOperatorName(1.5)).toBe('UNKNOWN_1.5');
    expect(builtinOperatorCode('toString')).toBeUndefined();
  });
});

describe('BuiltinOptions union and spec table', () => {
  it('matches the union ids of the TFLite schema', () => {
    const facts: Record<string, number> = {
      Conv2DOptions: 1,
      DepthwiseConv2DOptions: 2,
      Pool2DOptions: 5,
      FullyConnectedOptions: 8,
      SoftmaxOptions: 9,
      ConcatenationOptions: 10,
      AddOptions: 11,
      ResizeBilinearOptions: 15,
      ReshapeOptions: 17,
      MulOptions: 21,
      PadOptions: 22,
      ReducerOptions: 27,
      SubOptions: 28,
      SqueezeOptions: 30,
      DequantizeOptions: 38,
      QuantizeOptions: 89,
      HardSwishOptions: 91,
      DepthToSpaceOptions: 94,
    };
    for (const [name, type] of Object.entries(facts)) {
      expect(BuiltinOptionsType[name as keyof typeof BuiltinOptionsType], name).toBe(type);
      expect(builtinOptionsName(type)).toBe(name);
      expect(getOptionsSpec(type)?.name).toBe(name);
    }
    expect(MAX_BUILTIN_OPTIONS_TYPE).toBe(126);
    expect(builtinOptionsName(0)).toBe('NONE');
    expect(builtinOptionsName(127)).toBeUndefined();
  });

  it('has a spec for every options table the brief requires', () => {
    const required = [
      'Conv2DOptions',
      'DepthwiseConv2DOptions',
      'Pool2DOptions',
      'FullyConnectedOptions',
      'SoftmaxOptions',
      'ConcatenationOptions',
      'AddOptions',
      'SubOptions',
      'MulOptions',
      'ReshapeOptions',
      'PadOptions',
      'ResizeBilinearOptions',
      'ReducerOptions',
      'SqueezeOptions',
      'DequantizeOptions',
      'QuantizeOptions',
      'HardSwishOptions',
      'DepthToSpaceOptions',
      'SpaceToDepthOptions',
      'StridedSliceOptions',
      'GatherOptions',
      'TransposeOptions',
      'LeakyReluOptions',
      'SplitOptions',
      'PackOptions',
      'UnpackOptions',
      'BatchMatMulOptions',
      'ResizeNearestNeighborOptions',
      'ArgMaxOptions',
      'CastOptions',
      'ShapeOptions',
    ] as const;
    for (const name of required) expect(getOptionsSpec(BuiltinOptionsType[name])?.name, name).toBe(name);
    // Every union member but VarHandleOptions (string fields) has a spec.
    expect(listOptionsSpecs()).toHaveLength(125);
    expect(getOptionsSpec(BuiltinOptionsType.VarHandleOptions)).toBeUndefined();
  });

  it('names fields in camelCase with schema order and defaults', () => {
    expect(camelCaseFieldName('stride_w')).toBe('strideW');
    expect(camelCaseFieldName('fused_activation_function')).toBe('fusedActivationFunction');
    expect(camelCaseFieldName('dilation_w_factor')).toBe('dilationWFactor');
    expect(camelCaseFieldName('keep_num_dims')).toBe('keepNumDims');
    expect(camelCaseFieldName('pot_scale_int16')).toBe('potScaleInt16');
    const conv = getOptionsSpec(1)!;
    expect(conv.fields.map((f) => [f.name, f.kind, f.default])).toEqual([
      ['padding', 'int8', 0],
      ['strideW', 'int32', 0],
      ['strideH', 'int32', 0],
      ['fusedActivationFunction', 'int8', 0],
      ['dilationWFactor', 'int32', 1],
      ['dilationHFactor', 'int32', 1],
      ['quantizedBiasType', 'int8', 0],
    ]);
    const fc = getOptionsSpec(BuiltinOptionsType.FullyConnectedOptions)!;
    expect(fc.fields.map((f) => f.name).slice(0, 3)).toEqual([
      'fusedActivationFunction',
      'weightsFormat',
      'keepNumDims',
    ]);
    expect(getOptionsSpec(BuiltinOptionsType.AddOptions)!.fields[1]).toMatchObject({
      name: 'potScaleInt16',
      default: true,
    });
    expect(getOptionsSpec(BuiltinOptionsType.UniqueOptions)!.fields[0]).toMatchObject({
      kind: 'int8',
      default: 2,
    });
    expect(getOptionsSpec(BuiltinOptionsType.ReshapeOptions)!.fields[0]).toMatchObject({
      name: 'newShape',
      kind: 'int32[]',
      default: undefined,
    });
    for (const spec of listOptionsSpecs()) {
      const names = spec.fields.map((f) => f.name);
      expect(new Set(names).size, spec.name).toBe(names.length);
    }
  });
});
