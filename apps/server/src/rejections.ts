/**
 * Expected refusals — 503 (overloaded, shutting down) and 504 (deadline) — in the log without flooding it: under
 * overload there may be thousands a second, and one line each (let alone a stack) would make the log the
 * bottleneck. They are counted per class (status and code) and written as one warn line per class per interval
 * with the count and one example message, no stack.
 */
import type { Logger } from 'pino';

/** Interval of the summary lines, ms. */
export const REJECTION_LOG_INTERVAL_MS = 1000;

interface Tally {
  status: number;
  code: string;
  count: number;
  /** The first message of the interval (they differ only in numbers). */
  example: string;
}

/** Counts refusals and logs one warn line per class per interval. */
export class RejectionLog {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #tallies = new Map<string, Tally>();
  #timer: NodeJS.Timeout | null = null;
  #since = 0;

  constructor(logger: Logger, intervalMs = REJECTION_LOG_INTERVAL_MS) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /** Counts one refusal; the first of an interval schedules the summary at its end. */
  record(status: number, code: string, message: string): void {
    const key = `${status} ${code}`;
    const t = this.#tallies.get(key);
    if (t !== undefined) {
      t.count++;
      return;
    }
    this.#tallies.set(key, { status, code, count: 1, example: message });
    if (this.#timer === null) {
      this.#since = performance.now();
      this.#timer = setTimeout(() => this.flush(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Writes the summary lines of the interval so far (also at shutdown) and starts a new interval. */
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const ms = Math.round(performance.now() - this.#since);
    for (const t of this.#tallies.values()) {
      this.#logger.warn(
        { status: t.status, code: t.code, count: t.count, intervalMs: ms, example: t.example },
        'refused %d request(s) with %d %s in the last %d ms',
        t.count,
        t.status,
        t.code,
        ms,
      );
    }
    this.#tallies.clear();
  }
}
