/**
 * Front-end time per tenant: what a request spends in the server outside the runtime (HTTP body read, KServe
 * decode and encode, queueing in the HTTP layer) — the part of what a client sees that no stage accounts for.
 * An adapter reports it per request; the service adds the mean to its predictions.
 *
 * The first requests of a tenant run cold code paths (the JIT has not compiled the decode and encode yet) and can
 * take ten times what the rest do: a plain mean over them kept the live prediction several ms high for the first
 * twenty seconds of a demo at a few requests a second. So the mean starts from the median of the first `minCount`
 * requests, and a later request counts as at most `outlier` × the mean.
 */

import { expected, InvalidArgumentError, positiveInt, quantile } from '@swapless/core';

/** Options of {@link FrontendTimes}. */
export interface FrontendOptions {
  /** EWMA weight of one request (default 0.05). */
  alpha?: number;
  /** Requests before the mean is used (default 5; before that 0): it starts at their median. */
  minCount?: number;
  /** A request counts as at most this many times the mean (default 4). */
  outlier?: number;
}

/** EWMA of each tenant's front-end time, ms. */
export class FrontendTimes {
  readonly #alpha: number;
  readonly #minCount: number;
  readonly #outlier: number;
  readonly #means = new Map<string, { value: number; count: number; first: number[] }>();

  constructor(options: FrontendOptions = {}) {
    this.#alpha = options.alpha ?? 0.05;
    this.#minCount = positiveInt(options.minCount ?? 5, 'the front-end minCount');
    this.#outlier = options.outlier ?? 4;
    if (!(this.#outlier >= 1) || !Number.isFinite(this.#outlier))
      throw new InvalidArgumentError(expected('a finite number ≥ 1', 'the front-end outlier', this.#outlier));
  }

  /** Adds one request's front-end time; false (ignored) for a value that is not a finite number ≥ 0. */
  observe(tenant: string, ms: number): boolean {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return false;
    let e = this.#means.get(tenant);
    if (e === undefined) {
      e = { value: 0, count: 0, first: [] };
      this.#means.set(tenant, e);
    }
    e.count++;
    if (e.count <= this.#minCount) {
      e.first.push(ms);
      if (e.count === this.#minCount) {
        e.value = quantile(
          e.first.sort((a, b) => a - b),
          0.5,
        );
        e.first = [];
      }
      return true;
    }
    // A plain mean over the first 1/alpha requests, then the EWMA; an outlier counts as `outlier` × the mean.
    const x = e.value > 0 ? Math.min(ms, this.#outlier * e.value) : ms;
    e.value += Math.max(this.#alpha, 1 / e.count) * (x - e.value);
    return true;
  }

  /** The tenant's mean front-end time, ms (0 until `minCount` requests were reported). */
  meanMs(tenant: string): number {
    const e = this.#means.get(tenant);
    return e === undefined || e.count < this.#minCount ? 0 : e.value;
  }

  /** Forgets a tenant (removed). */
  forget(tenant: string): void {
    this.#means.delete(tenant);
  }
}
