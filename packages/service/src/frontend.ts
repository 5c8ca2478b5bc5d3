/**
 * Front-end time per tenant: what a request spends in the server outside the runtime (HTTP body read, KServe
 * decode and encode, queueing in the HTTP layer) plus what a client on this host waits outside the server — the part
 * of what a client sees that no stage accounts for. An adapter reports it per request; the service adds the mean
 * to its predictions.
 *
 * The mean is over the requests of the last `windowMs` (at least the last `minCount`), so it follows the host as it
 * is now: the first requests after a start run cold code paths (the JIT has not compiled the decode and encode yet)
 * on a host still busy starting, and can take ten times what the rest do — a running average over all requests
 * kept the live prediction of a tenant at a few requests a second several ms high for twenty seconds. A request
 * counts as at most `outlier` × the window's median, so one stall does not move the mean far while it is in the
 * window.
 */
import { expected, InvalidArgumentError, positiveInt, quantile } from '@swapless/core';

/** Options of {@link FrontendTimes}. */
export interface FrontendOptions {
  /** The mean is over the requests of this many ms (default 5000), at least the last `minCount`. */
  windowMs?: number;
  /** Requests before the mean is used (default 5; before that 0). */
  minCount?: number;
  /** A request counts as at most this many times the window's median (default 4). */
  outlier?: number;
  /** Clock, ms (default `performance.now`). */
  now?: () => number;
}

/** Requests kept per tenant at most (a window at a very high rate is sampled by its newest ones). */
const MAX_KEPT = 2048;

/** Windowed mean of each tenant's front-end time, ms. */
export class FrontendTimes {
  readonly #windowMs: number;
  readonly #minCount: number;
  readonly #outlier: number;
  readonly #now: () => number;
  readonly #kept = new Map<string, { atMs: number[]; ms: number[] }>();

  constructor(options: FrontendOptions = {}) {
    this.#minCount = positiveInt(options.minCount ?? 5, 'the front-end minCount');
    this.#outlier = options.outlier ?? 4;
    if (!(this.#outlier >= 1) || !Number.isFinite(this.#outlier))
      throw new InvalidArgumentError(expected('a finite number ≥ 1', 'the front-end outlier', this.#outlier));
    this.#windowMs = options.windowMs ?? 5000;
    if (!(this.#windowMs > 0) || !Number.isFinite(this.#windowMs))
      throw new InvalidArgumentError(
        expected('a finite number > 0', 'the front-end windowMs', this.#windowMs),
      );
    this.#now = options.now ?? (() => performance.now());
  }

  /** Adds one request's front-end time; false (ignored) for a value that is not a finite number ≥ 0. */
  observe(tenant: string, ms: number): boolean {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return false;
    let e = this.#kept.get(tenant);
    if (e === undefined) {
      e = { atMs: [], ms: [] };
      this.#kept.set(tenant, e);
    }
    e.atMs.push(this.#now());
    e.ms.push(ms);
    this.#prune(e);
    return true;
  }

  /** Drops what left the window (keeping the last `minCount`) and what exceeds the cap. */
  #prune(e: { atMs: number[]; ms: number[] }): void {
    const from = this.#now() - this.#windowMs;
    let drop = Math.max(0, e.ms.length - MAX_KEPT);
    while (drop < e.ms.length - this.#minCount && e.atMs[drop]! < from) drop++;
    if (drop > 0) {
      e.atMs.splice(0, drop);
      e.ms.splice(0, drop);
    }
  }

  /** The tenant's mean front-end time over the window, ms (0 until `minCount` requests were reported). */
  meanMs(tenant: string): number {
    const e = this.#kept.get(tenant);
    if (e === undefined) return 0;
    this.#prune(e);
    if (e.ms.length < this.#minCount) return 0;
    const cap =
      this.#outlier *
      quantile(
        e.ms.toSorted((a, b) => a - b),
        0.5,
      );
    return e.ms.reduce((s, x) => s + Math.min(x, cap), 0) / e.ms.length;
  }

  /** Forgets a tenant (removed). */
  forget(tenant: string): void {
    this.#kept.delete(tenant);
  }
}
