// Public API of @swapless/tflite. Each section is owned by one module family; keep exports explicit.

// --- model types (model.ts)
export type {
  BuiltinOptions,
  Metadata,
  ModelBuffer,
  Operator,
  OperatorCode,
  Quantization,
  SignatureDef,
  SubGraph,
  Tensor,
  TensorMap,
  TensorTypeId,
  TfliteModel,
} from './model.js';
export { TensorType } from './model.js';

// --- format: reader, verifier, writer, op and options tables

// --- analysis and cut points

// --- split

// --- int8 model builder
