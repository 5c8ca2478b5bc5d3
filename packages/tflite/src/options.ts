/**
 * The BuiltinOptions union of the TFLite schema: every union type id with its table name, and — for the tables
 * SwapLess can represent — each field in declaration order (field id = position) with its scalar kind and
 * default. Reader and writer are both driven by this one table, so they cannot disagree.
 *
 * Field lists follow the newest schema revision (a superset of TFLite 2.9's: fields are only ever appended),
 * so a model from a newer converter round-trips instead of losing a field; a 2.9 model simply reads the
 * newer fields as their defaults. Deprecated fields are kept as ordinary fields (e.g. ResizeBilinearOptions'
 * `new_height`), again so nothing present in a file is dropped. Tables with string or table fields
 * (VarHandleOptions) are not representable as `BuiltinOptions.fields` and have no spec: the reader marks such
 * options unsupported and the writer refuses them. Sources: docs/tflite-format.md.
 */

/** How one options field is stored. Enum-typed fields use the enum's underlying integer kind. */
export type OptionFieldKind =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float32'
  | 'int32[]'
  | 'float32[]'
  | 'int64[]';

/** One field of an options table. Its field id is its index in {@link OptionsTableSpec.fields}. */
export interface OptionFieldSpec {
  /** The schema's snake_case name, e.g. `fused_activation_function`. */
  readonly schemaName: string;
  /** The key in `BuiltinOptions.fields`: the schema name in camelCase, e.g. `fusedActivationFunction`. */
  readonly name: string;
  readonly kind: OptionFieldKind;
  /** The schema default; vectors have none (absent vectors are absent keys). */
  readonly default: number | boolean | undefined;
}

/** One options table of the BuiltinOptions union. */
export interface OptionsTableSpec {
  /** The union type id (1-based position in the union). */
  readonly type: number;
  /** The table name, e.g. `Conv2DOptions`. */
  readonly name: string;
  /** Fields in declaration order; field id = index. */
  readonly fields: readonly OptionFieldSpec[];
}

/**
 * Every member of the BuiltinOptions union in declaration order: the union type id of a name is its index + 1
 * (0 is NONE). Checked against the schema's ids in options.test.ts.
 */
const UNION_MEMBERS = [
  'Conv2DOptions',
  'DepthwiseConv2DOptions',
  'ConcatEmbeddingsOptions',
  'LSHProjectionOptions',
  'Pool2DOptions',
  'SVDFOptions',
  'RNNOptions',
  'FullyConnectedOptions',
  'SoftmaxOptions',
  'ConcatenationOptions',
  'AddOptions',
  'L2NormOptions',
  'LocalResponseNormalizationOptions',
  'LSTMOptions',
  'ResizeBilinearOptions',
  'CallOptions',
  'ReshapeOptions',
  'SkipGramOptions',
  'SpaceToDepthOptions',
  'EmbeddingLookupSparseOptions',
  'MulOptions',
  'PadOptions',
  'GatherOptions',
  'BatchToSpaceNDOptions',
  'SpaceToBatchNDOptions',
  'TransposeOptions',
  'ReducerOptions',
  'SubOptions',
  'DivOptions',
  'SqueezeOptions',
  'SequenceRNNOptions',
  'StridedSliceOptions',
  'ExpOptions',
  'TopKV2Options',
  'SplitOptions',
  'LogSoftmaxOptions',
  'CastOptions',
  'DequantizeOptions',
  'MaximumMinimumOptions',
  'ArgMaxOptions',
  'LessOptions',
  'NegOptions',
  'PadV2Options',
  'GreaterOptions',
  'GreaterEqualOptions',
  'LessEqualOptions',
  'SelectOptions',
  'SliceOptions',
  'TransposeConvOptions',
  'SparseToDenseOptions',
  'TileOptions',
  'ExpandDimsOptions',
  'EqualOptions',
  'NotEqualOptions',
  'ShapeOptions',
  'PowOptions',
  'ArgMinOptions',
  'FakeQuantOptions',
  'PackOptions',
  'LogicalOrOptions',
  'OneHotOptions',
  'LogicalAndOptions',
  'LogicalNotOptions',
  'UnpackOptions',
  'FloorDivOptions',
  'SquareOptions',
  'ZerosLikeOptions',
  'FillOptions',
  'BidirectionalSequenceLSTMOptions',
  'BidirectionalSequenceRNNOptions',
  'UnidirectionalSequenceLSTMOptions',
  'FloorModOptions',
  'RangeOptions',
  'ResizeNearestNeighborOptions',
  'LeakyReluOptions',
  'SquaredDifferenceOptions',
  'MirrorPadOptions',
  'AbsOptions',
  'SplitVOptions',
  'UniqueOptions',
  'ReverseV2Options',
  'AddNOptions',
  'GatherNdOptions',
  'CosOptions',
  'WhereOptions',
  'RankOptions',
  'ReverseSequenceOptions',
  'MatrixDiagOptions',
  'QuantizeOptions',
  'MatrixSetDiagOptions',
  'HardSwishOptions',
  'IfOptions',
  'WhileOptions',
  'DepthToSpaceOptions',
  'NonMaxSuppressionV4Options',
  'NonMaxSuppressionV5Options',
  'ScatterNdOptions',
  'SelectV2Options',
  'DensifyOptions',
  'SegmentSumOptions',
  'BatchMatMulOptions',
  'CumsumOptions',
  'CallOnceOptions',
  'BroadcastToOptions',
  'Rfft2dOptions',
  'Conv3DOptions',
  'HashtableOptions',
  'HashtableFindOptions',
  'HashtableImportOptions',
  'HashtableSizeOptions',
  'VarHandleOptions',
  'ReadVariableOptions',
  'AssignVariableOptions',
  'RandomOptions',
  'BucketizeOptions',
  'GeluOptions',
  'DynamicUpdateSliceOptions',
  'UnsortedSegmentProdOptions',
  'UnsortedSegmentMaxOptions',
  'UnsortedSegmentMinOptions',
  'UnsortedSegmentSumOptions',
  'ATan2Options',
  'SignOptions',
  'BitcastOptions',
  'BitwiseXorOptions',
  'RightShiftOptions',
] as const;

/** A BuiltinOptions union member name. */
export type BuiltinOptionsName = (typeof UNION_MEMBERS)[number];

/** BuiltinOptions union type ids by table name (NONE = 0). */
export const BuiltinOptionsType: Readonly<Record<'NONE' | BuiltinOptionsName, number>> = Object.freeze(
  Object.fromEntries([['NONE', 0], ...UNION_MEMBERS.map((name, i) => [name, i + 1])]) as Record<
    'NONE' | BuiltinOptionsName,
    number
  >,
);

/** The highest union type id of the BuiltinOptions union. */
export const MAX_BUILTIN_OPTIONS_TYPE = UNION_MEMBERS.length;

/** The union member name of a type id (`'NONE'` for 0), or `undefined` outside the union. */
export function builtinOptionsName(type: number): string | undefined {
  if (type === 0) return 'NONE';
  return Number.isInteger(type) ? UNION_MEMBERS[type - 1] : undefined;
}

/**
 * Field lists in a compact notation close to the schema text, so they can be compared with schema.fbs line by
 * line: `name:type[=default]`, types as in the schema (`byte` covers byte-backed enums such as Padding,
 * ActivationFunctionType and TensorType). An empty string is a table without fields.
 */
const FIELD_LISTS: Readonly<Record<string, string>> = {
  Conv2DOptions:
    'padding:byte stride_w:int stride_h:int fused_activation_function:byte dilation_w_factor:int=1 dilation_h_factor:int=1 quantized_bias_type:byte',
  DepthwiseConv2DOptions:
    'padding:byte stride_w:int stride_h:int depth_multiplier:int fused_activation_function:byte dilation_w_factor:int=1 dilation_h_factor:int=1',
  ConcatEmbeddingsOptions: 'num_channels:int num_columns_per_channel:[int] embedding_dim_per_channel:[int]',
  LSHProjectionOptions: 'type:byte',
  Pool2DOptions:
    'padding:byte stride_w:int stride_h:int filter_width:int filter_height:int fused_activation_function:byte',
  SVDFOptions: 'rank:int fused_activation_function:byte asymmetric_quantize_inputs:bool',
  RNNOptions: 'fused_activation_function:byte asymmetric_quantize_inputs:bool',
  FullyConnectedOptions:
    'fused_activation_function:byte weights_format:byte keep_num_dims:bool asymmetric_quantize_inputs:bool quantized_bias_type:byte',
  SoftmaxOptions: 'beta:float',
  ConcatenationOptions: 'axis:int fused_activation_function:byte',
  AddOptions: 'fused_activation_function:byte pot_scale_int16:bool=true',
  L2NormOptions: 'fused_activation_function:byte',
  LocalResponseNormalizationOptions: 'radius:int bias:float alpha:float beta:float',
  LSTMOptions:
    'fused_activation_function:byte cell_clip:float proj_clip:float kernel_type:byte asymmetric_quantize_inputs:bool',
  ResizeBilinearOptions: 'new_height:int new_width:int align_corners:bool half_pixel_centers:bool',
  CallOptions: 'subgraph:uint',
  ReshapeOptions: 'new_shape:[int]',
  SkipGramOptions: 'ngram_size:int max_skip_size:int include_all_ngrams:bool',
  SpaceToDepthOptions: 'block_size:int',
  EmbeddingLookupSparseOptions: 'combiner:byte',
  MulOptions: 'fused_activation_function:byte',
  PadOptions: '',
  GatherOptions: 'axis:int batch_dims:int=0',
  BatchToSpaceNDOptions: '',
  SpaceToBatchNDOptions: '',
  TransposeOptions: '',
  ReducerOptions: 'keep_dims:bool',
  SubOptions: 'fused_activation_function:byte pot_scale_int16:bool=true',
  DivOptions: 'fused_activation_function:byte',
  SqueezeOptions: 'squeeze_dims:[int]',
  SequenceRNNOptions: 'time_major:bool fused_activation_function:byte asymmetric_quantize_inputs:bool',
  StridedSliceOptions:
    'begin_mask:int end_mask:int ellipsis_mask:int new_axis_mask:int shrink_axis_mask:int offset:bool',
  ExpOptions: '',
  TopKV2Options: '',
  SplitOptions: 'num_splits:int',
  LogSoftmaxOptions: '',
  CastOptions: 'in_data_type:byte out_data_type:byte',
  DequantizeOptions: '',
  MaximumMinimumOptions: '',
  ArgMaxOptions: 'output_type:byte',
  LessOptions: '',
  NegOptions: '',
  PadV2Options: '',
  GreaterOptions: '',
  GreaterEqualOptions: '',
  LessEqualOptions: '',
  SelectOptions: '',
  SliceOptions: '',
  TransposeConvOptions:
    'padding:byte stride_w:int stride_h:int fused_activation_function:byte quantized_bias_type:byte',
  SparseToDenseOptions: 'validate_indices:bool',
  TileOptions: '',
  ExpandDimsOptions: '',
  EqualOptions: '',
  NotEqualOptions: '',
  ShapeOptions: 'out_type:byte',
  PowOptions: '',
  ArgMinOptions: 'output_type:byte',
  FakeQuantOptions: 'min:float max:float num_bits:int narrow_range:bool',
  PackOptions: 'values_count:int axis:int',
  LogicalOrOptions: '',
  OneHotOptions: 'axis:int',
  LogicalAndOptions: '',
  LogicalNotOptions: '',
  UnpackOptions: 'num:int axis:int',
  FloorDivOptions: '',
  SquareOptions: '',
  ZerosLikeOptions: '',
  FillOptions: '',
  BidirectionalSequenceLSTMOptions:
    'fused_activation_function:byte cell_clip:float proj_clip:float merge_outputs:bool time_major:bool=true asymmetric_quantize_inputs:bool',
  BidirectionalSequenceRNNOptions:
    'time_major:bool fused_activation_function:byte merge_outputs:bool asymmetric_quantize_inputs:bool',
  UnidirectionalSequenceLSTMOptions:
    'fused_activation_function:byte cell_clip:float proj_clip:float time_major:bool asymmetric_quantize_inputs:bool diagonal_recurrent_tensors:bool',
  FloorModOptions: '',
  RangeOptions: '',
  ResizeNearestNeighborOptions: 'align_corners:bool half_pixel_centers:bool',
  LeakyReluOptions: 'alpha:float',
  SquaredDifferenceOptions: '',
  MirrorPadOptions: 'mode:byte',
  AbsOptions: '',
  SplitVOptions: 'num_splits:int',
  UniqueOptions: 'idx_out_type:byte=2',
  ReverseV2Options: '',
  AddNOptions: '',
  GatherNdOptions: '',
  CosOptions: '',
  WhereOptions: '',
  RankOptions: '',
  ReverseSequenceOptions: 'seq_dim:int batch_dim:int=0',
  MatrixDiagOptions: '',
  QuantizeOptions: '',
  MatrixSetDiagOptions: '',
  HardSwishOptions: '',
  IfOptions: 'then_subgraph_index:int else_subgraph_index:int',
  WhileOptions: 'cond_subgraph_index:int body_subgraph_index:int',
  DepthToSpaceOptions: 'block_size:int',
  NonMaxSuppressionV4Options: '',
  NonMaxSuppressionV5Options: '',
  ScatterNdOptions: '',
  SelectV2Options: '',
  DensifyOptions: '',
  SegmentSumOptions: '',
  BatchMatMulOptions: 'adj_x:bool adj_y:bool asymmetric_quantize_inputs:bool',
  CumsumOptions: 'exclusive:bool reverse:bool',
  CallOnceOptions: 'init_subgraph_index:int',
  BroadcastToOptions: '',
  Rfft2dOptions: '',
  Conv3DOptions:
    'padding:byte stride_d:int stride_w:int stride_h:int fused_activation_function:byte dilation_d_factor:int=1 dilation_w_factor:int=1 dilation_h_factor:int=1',
  HashtableOptions: 'table_id:int key_dtype:byte value_dtype:byte',
  HashtableFindOptions: '',
  HashtableImportOptions: '',
  HashtableSizeOptions: '',
  // VarHandleOptions (container:string, shared_name:string): strings do not fit BuiltinOptions.fields.
  ReadVariableOptions: '',
  AssignVariableOptions: '',
  RandomOptions: 'seed:long seed2:long',
  BucketizeOptions: 'boundaries:[float]',
  GeluOptions: 'approximate:bool',
  DynamicUpdateSliceOptions: '',
  UnsortedSegmentProdOptions: '',
  UnsortedSegmentMaxOptions: '',
  UnsortedSegmentMinOptions: '',
  UnsortedSegmentSumOptions: '',
  ATan2Options: '',
  SignOptions: '',
  BitcastOptions: '',
  BitwiseXorOptions: '',
  RightShiftOptions: '',
};

const KIND_OF_SCHEMA_TYPE: Readonly<Record<string, OptionFieldKind>> = {
  bool: 'bool',
  byte: 'int8',
  ubyte: 'uint8',
  int: 'int32',
  uint: 'uint32',
  long: 'int64',
  float: 'float32',
  '[int]': 'int32[]',
  '[float]': 'float32[]',
  '[long]': 'int64[]',
};

/** `fused_activation_function` → `fusedActivationFunction`; `dilation_w_factor` → `dilationWFactor`. */
export function camelCaseFieldName(schemaName: string): string {
  return schemaName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseFields(table: string, list: string): OptionFieldSpec[] {
  if (list === '') return [];
  return list.split(' ').map((entry) => {
    const match = /^([a-z0-9_]+):([a-z[\]]+)(?:=(.+))?$/.exec(entry);
    const kind = match ? KIND_OF_SCHEMA_TYPE[match[2]!] : undefined;
    // A typo here is a programming error in this file, caught by the first test that imports it.
    if (!match || !kind) throw new Error(`Bad field spec "${entry}" in ${table}`);
    const raw = match[3];
    let def: number | boolean | undefined;
    if (kind.endsWith('[]')) def = undefined;
    else if (kind === 'bool') def = raw === 'true';
    else def = raw === undefined ? 0 : Number(raw);
    return { schemaName: match[1]!, name: camelCaseFieldName(match[1]!), kind, default: def };
  });
}

const SPECS: ReadonlyMap<number, OptionsTableSpec> = new Map(
  Object.entries(FIELD_LISTS).map(([name, list]) => {
    const type = UNION_MEMBERS.indexOf(name as BuiltinOptionsName) + 1;
    if (type === 0) throw new Error(`${name} is not a BuiltinOptions union member`);
    const spec: OptionsTableSpec = Object.freeze({
      type,
      name,
      fields: Object.freeze(parseFields(name, list).map((f) => Object.freeze(f))),
    });
    return [type, spec] as const;
  }),
);

/** The spec of an options table by union type id, or `undefined` when SwapLess cannot represent it. */
export function getOptionsSpec(type: number): OptionsTableSpec | undefined {
  return SPECS.get(type);
}

/** Every options table SwapLess can read and write, by union type id. */
export function listOptionsSpecs(): OptionsTableSpec[] {
  return [...SPECS.values()].sort((a, b) => a.type - b.type);
}
