// Public API of @swapless/adapter-kserve. Keep exports explicit.
export {
  DEFAULT_BODY_LIMIT,
  frameworkErrorHandler,
  KSERVE_EXTENSIONS,
  type KServeRoutesOptions,
  kserveRoutes,
} from './routes.js';
export type {
  BackendResult,
  InferCallOptions,
  InferenceBackend,
  Parameters,
  RepositoryIndexEntry,
} from './types.js';
/** The protocol's vocabulary, from `@swapless/contracts` (one definition, re-exported here). */
export {
  MODEL_NAME_PATTERN,
  type ModelMetadata,
  type NumericDatatype,
  type TensorArray,
  type TensorMeta,
} from '@swapless/contracts';
export {
  type DurationStat,
  modelConfigOf,
  type TritonModelConfig,
  type TritonModelStat,
  type TritonTensorConfig,
  tritonDataType,
} from './triton.js';
export {
  arrayTypeOf,
  datatypeFromTflite,
  elementCount,
  fromHalfBits,
  isNumericDatatype,
  KSERVE_DATATYPES,
  type KServeDatatype,
  type TensorArrayConstructor,
  toHalfBits,
} from './datatypes.js';
export { HEADER_LENGTH_HEADER } from './codec.js';
export { INFERENCE_REQUEST_SCHEMA } from './schema.js';
export { httpStatusOf, RETRY_AFTER_S, retryAfterOf } from './status.js';
export {
  decodeInferResponse,
  type EncodedInferRequest,
  type InferInput,
  type InferOptions,
  type InferOutput,
  type InferResponse,
  KServeClient,
  KServeClientError,
  type KServeClientOptions,
  type RawResponse,
} from './client.js';
export {
  type ClosedLoopOptions,
  type ClosedLoopResult,
  failureKey,
  type LatencySummary,
  randomInputs,
  runClosedLoop,
  summarizeLatencies,
} from './load.js';
