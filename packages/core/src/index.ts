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
