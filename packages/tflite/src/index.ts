// Public API of @swapless/tflite. Each section is owned by one module family; keep exports explicit.

// --- model types (model.ts)
export type {
  BuiltinOptions,
  CustomQuantization,
  DimensionMetadata,
  Metadata,
  ModelBuffer,
  Operator,
  OperatorCode,
  Quantization,
  SignatureDef,
  SparseIndexType,
  SparseIndexVector,
  SparsityParameters,
  SubGraph,
  Tensor,
  TensorMap,
  TensorTypeId,
  TfliteModel,
  VariantSubType,
} from './model.js';
export {
  INFERENCE_DATATYPES,
  type InferenceDatatype,
  inferenceDatatype,
  TensorType,
  tensorTypeName,
} from './model.js';

// --- format: reader, verifier, writer, op and options tables
export { readModel, type ReadModelOptions, TFLITE_FILE_IDENTIFIER, TFLITE_SCHEMA_VERSION } from './reader.js';
export { DEFAULT_MAX_TENSOR_BYTES, type VerifyOptions, type VerifyRule, verifyModel } from './verify.js';
export { BUFFER_DATA_ALIGNMENT, unwritableReason, writeModel } from './writer.js';
export {
  BuiltinOperator,
  type BuiltinOperatorName,
  builtinOperatorCode,
  builtinOperatorName,
  MAX_KNOWN_BUILTIN_CODE,
} from './ops.js';
export {
  BuiltinOptionsType,
  type BuiltinOptionsName,
  builtinOptionsName,
  camelCaseFieldName,
  getOptionsSpec,
  listOptionsSpecs,
  MAX_BUILTIN_OPTIONS_TYPE,
  type OptionFieldKind,
  type OptionFieldSpec,
  type OptionsTableSpec,
} from './options.js';

// --- analysis and cut points
export type { AnalyzeOptions, EdgeTpuMapping, ModelAnalysis, ModelClass, OpAnalysis } from './analysis.js';
export { analyzeModel, emptyPrefixSentence, modelClass, tensorBytes } from './analysis.js';
export type { BoundaryTensor, CutPoint, RankCutsOptions } from './cuts.js';
export { boundaryAt, cutPoints, rankCuts } from './cuts.js';

// --- what can run here (custom ops, Edge TPU compiled models)
export type { Runnability } from './runnability.js';
export { CPU_CUSTOM_OPS, EDGETPU_CUSTOM_OP, runnability } from './runnability.js';
export type {
  CompiledModelSummary,
  EdgeTpuExecutable,
  EdgeTpuOpSummary,
  EdgeTpuPayload,
} from './compiled.js';
export { compiledModelSummary } from './compiled.js';

// --- uint8 → int8 rewrite (XNNPACK's signed path)
export type {
  Int8KeptOp,
  Int8RewritePlan,
  Int8RewriteReport,
  Int8RewriteResult,
} from './int8-rewrite.js';
export { INT8_REWRITE_VERSION, int8CutMap, planInt8Rewrite, rewriteToInt8 } from './int8-rewrite.js';

// --- split
export type {
  SplitBoundary,
  SplitBoundaryTensor,
  SplitBytesResult,
  SplitOutput,
  SplitResult,
} from './split.js';
export { chainParts, splitBytes, splitModel } from './split.js';

// --- seeded random numbers
/**
 * The seeded generator the tests, benches and load generators draw model inputs from; it lives in @swapless/core
 * and is re-exported here for existing imports (the model generator itself is @swapless/int8-builder).
 */
export { SeededRandom } from '@swapless/core';
