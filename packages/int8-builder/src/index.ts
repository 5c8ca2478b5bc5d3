// Public API of @swapless/int8-builder: the int8 model generator (builder.ts; builder-quant.ts is internal).

export type {
  BatchNormSpec,
  BinarySpec,
  BoundaryType,
  ConcatenationSpec,
  Conv2DSpec,
  DepthwiseConv2DSpec,
  FullyConnectedSpec,
  FusedActivation,
  GraphBuilderOptions,
  InputOptions,
  LayerOptions,
  MeanSpec,
  OutputOptions,
  Padding,
  Pool2DSpec,
  Size2,
  SoftmaxSpec,
  TensorHandle,
  TinyModelOptions,
} from './builder.js';
export { buildTestNet, GraphBuilder, INT8_OP_VERSIONS, tinyModel } from './builder.js';
