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
export { CACHE_DIR_ENV, cacheDir, writeFileAtomic } from './cache.js';
export {
  DeadlineExceededError,
  InvalidConfigError,
  ModelRejectedError,
  OverloadedError,
  ShuttingDownError,
} from './errors.js';
export {
  formatAjvErrors,
  type ParsedWorkload,
  parseWorkload,
  ratesAt,
  WORKLOAD_JSON_SCHEMA,
  type Workload,
  type WorkloadPhase,
  type WorkloadTenant,
} from './workload.js';
export { HTTP_STATUS_BY_CODE, httpStatusOf, RETRY_AFTER_S, retryAfterOf } from './http-status.js';
export { choiceFlag, intFlag } from './flags.js';
export { modelBytes, modelBytesSync } from './model-bytes.js';
