/**
 * Error classes with stable codes. Every error SwapLess throws on purpose is a {@link SwapLessError};
 * callers branch on `code`, never on the message, and the CLI and server map codes to exit codes and
 * HTTP statuses.
 */

/** Every stable error code, in one place so docs and the HTTP mapping cannot drift from the classes. */
export const ErrorCodes = {
  INVALID_ARGUMENT: 'SWAPLESS_INVALID_ARGUMENT',
  INVALID_MODEL: 'SWAPLESS_INVALID_MODEL',
  UNSUPPORTED_MODEL: 'SWAPLESS_UNSUPPORTED_MODEL',
  INVALID_CUT: 'SWAPLESS_INVALID_CUT',
  NATIVE_LOAD: 'SWAPLESS_NATIVE_LOAD',
  DELEGATE_UNAVAILABLE: 'SWAPLESS_DELEGATE_UNAVAILABLE',
  TFLITE_RUNTIME: 'SWAPLESS_TFLITE_RUNTIME',
  INTERPRETER_BUSY: 'SWAPLESS_INTERPRETER_BUSY',
  INTERPRETER_DISPOSED: 'SWAPLESS_INTERPRETER_DISPOSED',
  IO: 'SWAPLESS_IO',
  USAGE: 'SWAPLESS_USAGE',
  INVALID_CONFIG: 'SWAPLESS_INVALID_CONFIG',
  OVERLOADED: 'SWAPLESS_OVERLOADED',
  SHUTTING_DOWN: 'SWAPLESS_SHUTTING_DOWN',
  DEADLINE_EXCEEDED: 'SWAPLESS_DEADLINE_EXCEEDED',
  COMPILER_FAILED: 'SWAPLESS_COMPILER_FAILED',
  COMPILER_TIMEOUT: 'SWAPLESS_COMPILER_TIMEOUT',
  MODEL_REJECTED: 'SWAPLESS_MODEL_REJECTED',
  FORBIDDEN_PATH: 'SWAPLESS_FORBIDDEN_PATH',
  UNAUTHORIZED: 'SWAPLESS_UNAUTHORIZED',
  FORBIDDEN: 'SWAPLESS_FORBIDDEN',
} as const;

/** One of the stable error codes in {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Options accepted by every SwapLess error constructor. */
export interface SwapLessErrorOptions {
  /** The underlying error, kept for diagnosis. */
  cause?: unknown;
  /** Structured facts about the failure (paths, indices, sizes), safe to serialise as JSON. */
  details?: Record<string, unknown>;
  /**
   * `false` for an expected refusal on a hot path (an overloaded queue, a missed deadline): no stack trace is
   * captured — capturing one costs ~10–20 µs, a large part of what answering such a request costs.
   */
  stack?: false;
}

/** Base class of every error SwapLess throws on purpose. */
export class SwapLessError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Structured facts about the failure. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: SwapLessErrorOptions = {}) {
    const limit = Error.stackTraceLimit;
    if (options.stack === false) Error.stackTraceLimit = 0;
    try {
      super(message, options.cause === undefined ? undefined : { cause: options.cause });
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }

  /** A JSON-safe view: what the CLI's `--json` and the server print. */
  toJSON(): { name: string; code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** A caller passed a value of the wrong type or out of range. */
export class InvalidArgumentError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.INVALID_ARGUMENT, message, options);
  }
}

/** Bytes that are not a well-formed .tflite model (truncated, corrupted offsets, out-of-range indices…). */
export class InvalidModelError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.INVALID_MODEL, message, options);
  }
}

/** A well-formed model that uses something SwapLess cannot represent faithfully (it refuses rather than drop data). */
export class UnsupportedModelError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.UNSUPPORTED_MODEL, message, options);
  }
}

/** A partition point that does not exist for the model. */
export class InvalidCutError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.INVALID_CUT, message, options);
  }
}

/** The native addon or the TFLite library could not be loaded; the message lists every cause and the fix. */
export class NativeLoadError extends SwapLessError {
  /** Each attempt that failed, in the order tried. */
  readonly causes: readonly string[];

  constructor(message: string, causes: readonly string[], options?: SwapLessErrorOptions) {
    super(ErrorCodes.NATIVE_LOAD, message, { ...options, details: { ...options?.details, causes } });
    this.causes = causes;
  }
}

/** The Edge TPU delegate was required but could not be created. */
export class DelegateUnavailableError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.DELEGATE_UNAVAILABLE, message, options);
  }
}

/** TFLite itself reported a failure; its error-reporter messages are in the message and in `details.reports`. */
export class TfLiteRuntimeError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.TFLITE_RUNTIME, message, options);
  }
}

/** A call was made on an interpreter while an asynchronous invoke was still in flight. */
export class InterpreterBusyError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.INTERPRETER_BUSY, message, options);
  }
}

/** A call was made on an interpreter after `dispose()`. */
export class InterpreterDisposedError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.INTERPRETER_DISPOSED, message, options);
  }
}

/** A file could not be read or written. */
export class SwapLessIoError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.IO, message, options);
  }
}

/** A command line that does not parse (unknown flag, missing argument); the CLI exits with status 2. */
export class UsageError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.USAGE, message, options);
  }
}

/** A configuration document (workload, server config, profile…) that does not match its schema. */
export class InvalidConfigError extends SwapLessError {
  /** Every problem found, each as "<JSON path>: <what was expected>". */
  readonly problems: readonly string[];

  constructor(message: string, problems: readonly string[], options?: SwapLessErrorOptions) {
    super(ErrorCodes.INVALID_CONFIG, message, { ...options, details: { ...options?.details, problems } });
    this.problems = problems;
  }
}

/** A request was rejected because its tenant's queue is full (the tenant is overloaded); retry later. */
export class OverloadedError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.OVERLOADED, message, options);
  }
}

/**
 * An admitted request could not finish by its deadline, so it was dropped before it ran (never served late);
 * `details` say the tenant, the deadline and how long it waited. The HTTP status is 504.
 */
export class DeadlineExceededError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.DEADLINE_EXCEEDED, message, options);
  }
}

/** A request arrived while the runtime was draining for shutdown. */
export class ShuttingDownError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.SHUTTING_DOWN, message, options);
  }
}

/**
 * A model that failed vetting: loading and invoking it once in a short-lived child process killed that
 * process (a signal), hung, or failed. `details.reason` says which (e.g. `signal SIGSEGV`); the model is never
 * loaded into the calling process.
 */
export class ModelRejectedError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.MODEL_REJECTED, message, options);
  }
}

/**
 * A file that must stay inside a root directory (a model repository) and was refused: it resolves outside the root,
 * it is not a regular file (a FIFO, a socket, a device, a directory), it is over its size cap, or it does not resolve
 * at all. `details.reason` says which (`outside-root`, `not-a-file`, `too-large`, `unresolvable`); the message names
 * the file relative to the root only, never a host path or a link's target.
 */
export class ForbiddenPathError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.FORBIDDEN_PATH, message, options);
  }
}

/**
 * A request without the credentials its endpoint needs: no `Authorization: Bearer` token, or one that does not
 * match (`details.reason` `missing-token` / `invalid-token`). HTTP 401.
 */
export class UnauthorizedError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.UNAUTHORIZED, message, options);
  }
}

/**
 * A request the server refuses whatever credentials it carries, e.g. a management change on a server that listens
 * beyond loopback without an admin token configured. HTTP 403.
 */
export class ForbiddenError extends SwapLessError {
  constructor(message: string, options?: SwapLessErrorOptions) {
    super(ErrorCodes.FORBIDDEN, message, options);
  }
}

/** True when `value` is a SwapLess error, optionally with the given code. Works across package copies. */
export function isSwapLessError(value: unknown, code?: ErrorCode): value is SwapLessError {
  if (typeof value !== 'object' || value === null) return false;
  const c = (value as { code?: unknown }).code;
  if (typeof c !== 'string' || !c.startsWith('SWAPLESS_')) return false;
  return code === undefined || c === code;
}
