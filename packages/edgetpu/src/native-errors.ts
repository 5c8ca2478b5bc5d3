/**
 * Maps errors thrown by the raw binding to SwapLess error classes. The binding signals the kind of failure
 * by class (TypeError / RangeError) or by a `code` property, never by message text.
 */
import {
  DelegateUnavailableError,
  InterpreterBusyError,
  InterpreterDisposedError,
  InvalidArgumentError,
  NativeLoadError,
  TfLiteRuntimeError,
} from '@swapless/core';
import type { RawErrorCode } from '@swapless/tflite-addon';

/** The code the binding attached to an error, if any. */
export function rawCode(error: unknown): RawErrorCode | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('TFLITE_ADDON_') ? (code as RawErrorCode) : undefined;
}

/** TFLite error-reporter messages carried by a binding error. */
export function rawReports(error: unknown): string[] {
  const reports = (error as { reports?: unknown } | null)?.reports;
  return Array.isArray(reports) ? reports.map(String) : [];
}

/** Converts a binding error to the matching SwapLess error (the original is kept as `cause`). */
export function fromNative(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const options = { cause: error };
  if (error instanceof TypeError || error instanceof RangeError) {
    return new InvalidArgumentError(error.message, { ...options, details: { nativeError: error.name } });
  }
  switch (rawCode(error)) {
    case 'TFLITE_ADDON_BUSY':
      return new InterpreterBusyError(error.message, options);
    case 'TFLITE_ADDON_DISPOSED':
      return new InterpreterDisposedError(error.message, options);
    case 'TFLITE_ADDON_RUNTIME':
      return new TfLiteRuntimeError(error.message, { ...options, details: { reports: rawReports(error) } });
    case 'TFLITE_ADDON_DELEGATE':
      return new DelegateUnavailableError(error.message, {
        ...options,
        details: { reasons: rawReports(error) },
      });
    case 'TFLITE_ADDON_LOAD':
      return new NativeLoadError(error.message, [error.message], options);
    default:
      return error;
  }
}
