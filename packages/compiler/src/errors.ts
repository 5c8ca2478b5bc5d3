/**
 * Errors of the compiler wrapper, with their own stable codes (callers branch on `code`);
 * `details.reason` says exactly what went wrong.
 */
import { ErrorCodes, SwapLessError, type SwapLessErrorOptions } from '@swapless/core';

/** Why `edgetpu_compiler` was judged to have failed. */
export type CompilerFailureReason =
  /** It exited with a non-zero status. */
  | 'exit-status'
  /** It was ended by a signal we did not send. */
  | 'signal'
  /** It printed a failure line ("Compilation failed…", "Internal compiler error…", "ERROR: …"). */
  | 'failure-reported'
  /** It compiled, but no op of a model maps to the Edge TPU ("Model not mapped", 0 ops on the Edge TPU). */
  | 'not-mapped'
  /** It reported success but an expected `*_edgetpu.tflite` is missing. */
  | 'no-output'
  /** Its output could not be understood (no report block for a model, no version line). */
  | 'unparsable';

/**
 * `edgetpu_compiler` refused or failed to compile a segment. Code `SWAPLESS_COMPILER_FAILED`. `details` holds the reason, exit status, signal,
 * the failure lines and the tails of stdout and stderr.
 */
export class CompilerFailedError extends SwapLessError {
  /** What went wrong. */
  readonly reason: CompilerFailureReason;
  /** Everything the compiler wrote to stderr (up to 4 MiB). */
  readonly stderr: string;
  /** Everything the compiler wrote to stdout (up to 4 MiB). */
  readonly stdout: string;

  constructor(
    message: string,
    reason: CompilerFailureReason,
    output: { stdout: string; stderr: string },
    options: SwapLessErrorOptions = {},
  ) {
    super(ErrorCodes.COMPILER_FAILED, message, {
      ...options,
      details: {
        ...options.details,
        reason,
        stdoutTail: output.stdout.slice(-2000),
        stderrTail: output.stderr.slice(-2000),
      },
    });
    this.reason = reason;
    this.stdout = output.stdout;
    this.stderr = output.stderr;
  }
}

/**
 * `edgetpu_compiler` did not finish within our process timeout; its whole process group was killed.
 * Code `SWAPLESS_COMPILER_TIMEOUT`. `details.timeoutMs` is the limit.
 */
export class CompilerTimeoutError extends SwapLessError {
  /** The limit that elapsed, ms. */
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number, options: SwapLessErrorOptions = {}) {
    super(ErrorCodes.COMPILER_TIMEOUT, message, {
      ...options,
      details: { ...options.details, reason: 'timeout', timeoutMs },
    });
    this.timeoutMs = timeoutMs;
  }
}
