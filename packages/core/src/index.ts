export {
  ErrorCodes,
  type ErrorCode,
  type SwapLessErrorOptions,
  SwapLessError,
  InvalidArgumentError,
  InvalidModelError,
  UnsupportedModelError,
  InvalidCutError,
  NativeLoadError,
  DelegateUnavailableError,
  TfLiteRuntimeError,
  InterpreterBusyError,
  InterpreterDisposedError,
  SwapLessIoError,
  UsageError,
  isSwapLessError,
} from './errors.js';
export { describeValue, expected } from './describe.js';
export {
  noProgress,
  type ProgressBar,
  type ProgressEvent,
  type ProgressListener,
  type ProgressSink,
  progressBar,
  renderProgress,
  stderrSink,
} from './progress.js';
export { CACHE_DIR_ENV, cacheDir, type WriteFileAtomicOptions, writeFileAtomic } from './cache.js';
export {
  type CodedErrorClass,
  ConflictError,
  codedError,
  DeadlineExceededError,
  ForbiddenError,
  InternalError,
  InvalidConfigError,
  ModelRejectedError,
  NotFoundError,
  OverloadedError,
  ShedForSloError,
  ShuttingDownError,
  UnauthorizedError,
} from './errors.js';
export {
  formatAjvErrors,
  type ParsedWorkload,
  parseWorkload,
  ratesAt,
  WORKLOAD_JSON_SCHEMA,
  type Workload,
  type WorkloadDevice,
  type WorkloadPhase,
  type WorkloadTenant,
} from './workload.js';
export {
  CPU_MODEL_PROFILES,
  CPU_PROFILE_JSON_SCHEMA,
  CPU_PROFILE_NAMES,
  type CpuModelProfile,
  type CpuOpRates,
  type CpuParallelFractions,
  type CpuProfile,
  type CpuProfileName,
  type CpuProfileSpec,
  type CustomCpuProfileSpec,
  resolveCpuProfile,
  validCpuProfilesSentence,
} from './cpu-profile.js';
export { HTTP_STATUS_BY_CODE, httpStatusOf, RETRY_AFTER_S, retryAfterOf } from './http-status.js';
export {
  ACCEPT_ENCODING,
  allowedMethods,
  CONTENT_ENCODINGS,
  contentCodingOf,
  type DecodedBody,
  decodeRequestBody,
  decodingHook,
  type EncodedRequest,
  JSON_CONTENT_TYPE,
  methodNotAllowedMessage,
  type RouteFinder,
} from './http-protocol.js';
export { choiceFlag, intFlag } from './flags.js';
export { positiveInt, type QuantileMethod, quantile } from './numbers.js';
export { SeededRandom, Xoshiro128 } from './random.js';
export { modelBytes, modelBytesSync } from './model-bytes.js';
export { ForbiddenPathError } from './errors.js';
export {
  type ConfinedFile,
  type ConfinedFileOptions,
  type ConfinedPath,
  type ConfinedPathOptions,
  DEFAULT_CONFINED_READ_TIMEOUT_MS,
  type ForbiddenPathReason,
  inspectConfinedFile,
  readConfinedFile,
  resolveConfined,
} from './confined-file.js';
export { DeviceErrorReasons, type ResolvedPlacement, resolvePlacement } from './devices.js';
export { disciplineProblem, type QueueDiscipline, reorderBudgetMs } from './discipline.js';
