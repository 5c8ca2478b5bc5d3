/**
 * One warn line a minute at most while the functional emulator lags the device it emulates: the host computes the
 * heads' outputs slower than the Edge TPU would run them, so measured latencies include a wait that a real device
 * would not add. The controller's status and the dashboard say it too; the log keeps it on record for operators.
 */
import type { EmulationStatus } from '@swapless/service';
import type { Logger } from 'pino';

/** Minimum time between two warn lines, ms. */
export const EMULATION_LOG_INTERVAL_MS = 60_000;

/** Writes at most one line per interval while lagging; call it once per controller tick. */
export class EmulationLog {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #lastMs = Number.NEGATIVE_INFINITY;

  constructor(logger: Logger, intervalMs = EMULATION_LOG_INTERVAL_MS) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /** Checks one status (`nowMs` on any monotonic ms clock); true when it wrote a line. */
  check(status: EmulationStatus | null, nowMs: number): boolean {
    if (status === null || !status.lagging || nowMs - this.#lastMs < this.#intervalMs) return false;
    this.#lastMs = nowMs;
    this.#logger.warn(
      {
        emulation: {
          laggingFraction: status.laggingFraction,
          meanLagMs: status.meanLagMs,
          meanComputeMs: status.meanComputeMs,
        },
      },
      status.message ?? 'the Edge TPU emulation lags the device',
    );
    return true;
  }
}
