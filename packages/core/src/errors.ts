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
  /** A request refused by admission control: its tenant's share was shed so that other tenants meet their SLOs. */
  SHED_FOR_SLO: 'SWAPLESS_SHED_FOR_SLO',
  SHUTTING_DOWN: 'SWAPLESS_SHUTTING_DOWN',
  DEADLINE_EXCEEDED: 'SWAPLESS_DEADLINE_EXCEEDED',
  COMPILER_FAILED: 'SWAPLESS_COMPILER_FAILED',
  COMPILER_TIMEOUT: 'SWAPLESS_COMPILER_TIMEOUT',
  MODEL_REJECTED: 'SWAPLESS_MODEL_REJECTED',
  FORBIDDEN_PATH: 'SWAPLESS_FORBIDDEN_PATH',
  UNAUTHORIZED: 'SWAPLESS_UNAUTHORIZED',
  FORBIDDEN: 'SWAPLESS_FORBIDDEN',
  NOT_FOUND: 'SWAPLESS_NOT_FOUND',
  CONFLICT: 'SWAPLESS_CONFLICT',
  INTERNAL: 'SWAPLESS_INTERNAL',
  /** A request the HTTP layer refused before any route ran (malformed, too long a URL, bad framing). */
  HTTP: 'SWAPLESS_HTTP',
  /** A known path asked with a method it does not have (HTTP 405, with `Allow`). */
  METHOD_NOT_ALLOWED: 'SWAPLESS_METHOD_NOT_ALLOWED',
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

/**
 * The constructor {@link codedError} returns: `new (message, options?)`, whose instances carry the one code `C`; the
 * code is also on the class itself (`NotFoundError.code`).
 */
export interface CodedErrorClass<C extends ErrorCode> {
  new (message: string, options?: SwapLessErrorOptions): SwapLessError & { readonly code: C };
  /** The code every instance carries. */
  readonly code: C;
  readonly prototype: SwapLessError & { readonly code: C };
}

/**
 * A base class for a {@link SwapLessError} that always carries `code` and takes only `(message, options?)`. Declare
 * a coded error in one line, `export class NotFoundError extends codedError(ErrorCodes.NOT_FOUND) {}`: a real class
 * (its own name, `instanceof` both it and {@link SwapLessError}, extendable) with no constructor to copy.
 */
export function codedError<C extends ErrorCode>(code: C): CodedErrorClass<C> {
  return class extends SwapLessError {
    static readonly code: C = code;
    declare readonly code: C;

    constructor(message: string, options?: SwapLessErrorOptions) {
      super(code, message, options);
    }
  };
}

/** A caller passed a value of the wrong type or out of range. */
export class InvalidArgumentError extends codedError(ErrorCodes.INVALID_ARGUMENT) {}

/** Bytes that are not a well-formed .tflite model (truncated, corrupted offsets, out-of-range indices…). */
export class InvalidModelError extends codedError(ErrorCodes.INVALID_MODEL) {}

/** A well-formed model that uses something SwapLess cannot represent faithfully (it refuses rather than drop data). */
export class UnsupportedModelError extends codedError(ErrorCodes.UNSUPPORTED_MODEL) {}

/** A partition point that does not exist for the model. */
export class InvalidCutError extends codedError(ErrorCodes.INVALID_CUT) {}

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
export class DelegateUnavailableError extends codedError(ErrorCodes.DELEGATE_UNAVAILABLE) {}

/** TFLite itself reported a failure; its error-reporter messages are in the message and in `details.reports`. */
export class TfLiteRuntimeError extends codedError(ErrorCodes.TFLITE_RUNTIME) {}

/** A call was made on an interpreter while an asynchronous invoke was still in flight. */
export class InterpreterBusyError extends codedError(ErrorCodes.INTERPRETER_BUSY) {}

/** A call was made on an interpreter after `dispose()`. */
export class InterpreterDisposedError extends codedError(ErrorCodes.INTERPRETER_DISPOSED) {}

/** A file could not be read or written. */
export class SwapLessIoError extends codedError(ErrorCodes.IO) {}

/** A command line that does not parse (unknown flag, missing argument); the CLI exits with status 2. */
export class UsageError extends codedError(ErrorCodes.USAGE) {}

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
export class OverloadedError extends codedError(ErrorCodes.OVERLOADED) {}

/**
 * A request refused by admission control: the controller admits only a fraction of its tenant's requests
 * (`TenantChoice.admit`) so that the tenants with latency objectives meet them. The HTTP status is 503.
 */
export class ShedForSloError extends codedError(ErrorCodes.SHED_FOR_SLO) {}

/**
 * An admitted request could not finish by its deadline, so it was dropped before it ran (never served late);
 * `details` say the tenant, the deadline and how long it waited. The HTTP status is 504.
 */
export class DeadlineExceededError extends codedError(ErrorCodes.DEADLINE_EXCEEDED) {}

/** A request arrived while the runtime was draining for shutdown. */
export class ShuttingDownError extends codedError(ErrorCodes.SHUTTING_DOWN) {}

/**
 * A model that failed vetting: loading and invoking it once in a short-lived child process killed that
 * process (a signal), hung, or failed. `details.reason` says which (e.g. `signal SIGSEGV`); the model is never
 * loaded into the calling process.
 */
export class ModelRejectedError extends codedError(ErrorCodes.MODEL_REJECTED) {}

/**
 * A file that must stay inside a root directory (a model repository) and was refused: it resolves outside the root,
 * it is not a regular file (a FIFO, a socket, a device, a directory), it is over its size cap, or it does not resolve
 * at all. `details.reason` says which (`outside-root`, `not-a-file`, `too-large`, `unresolvable`); the message names
 * the file relative to the root only, never a host path or a link's target.
 */
export class ForbiddenPathError extends codedError(ErrorCodes.FORBIDDEN_PATH) {}

/**
 * A request without the credentials its endpoint needs: no `Authorization: Bearer` token, or one that does not
 * match (`details.reason` `missing-token` / `invalid-token`). HTTP 401.
 */
export class UnauthorizedError extends codedError(ErrorCodes.UNAUTHORIZED) {}

/**
 * A request the server refuses whatever credentials it carries, e.g. a management change on a server that listens
 * beyond loopback without an admin token configured. HTTP 403.
 */
export class ForbiddenError extends codedError(ErrorCodes.FORBIDDEN) {}

/**
 * A request names something that does not exist: a tenant, a served model or version, a resource not there (yet).
 * `details.reason` says which kind (`unknown-tenant`, `unknown-model`). HTTP 404.
 */
export class NotFoundError extends codedError(ErrorCodes.NOT_FOUND) {}

/**
 * A request that conflicts with the current state: a tenant name already in use (`details.reason`
 * `duplicate-tenant`), more cores than the budget has (`core-budget`). Retrying the same request will not help
 * until the state changes. HTTP 409.
 */
export class ConflictError extends codedError(ErrorCodes.CONFLICT) {}

/**
 * A failure that is not one of the expected ones above: a bug. Reported under this code (HTTP 500, CLI exit 1) when
 * something that is not a SwapLess error escapes; wrap the original as `cause`.
 */
export class InternalError extends codedError(ErrorCodes.INTERNAL) {}

/** True when `value` is a SwapLess error, optionally with the given code. Works across package copies. */
export function isSwapLessError(value: unknown, code?: ErrorCode): value is SwapLessError {
  if (typeof value !== 'object' || value === null) return false;
  const c = (value as { code?: unknown }).code;
  if (typeof c !== 'string' || !c.startsWith('SWAPLESS_')) return false;
  return code === undefined || c === code;
}
