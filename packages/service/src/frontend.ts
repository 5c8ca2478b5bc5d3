/**
 * Front-end time per tenant: what a request spends in the server outside the runtime (HTTP body read, KServe
 * decode and encode, queueing in the HTTP layer) — the part of what a client sees that no stage accounts for.
 * An adapter reports it per request; the service adds the mean to its predictions.
 */

/** Options of {@link FrontendTimes}. */
export interface FrontendOptions {
  /** EWMA weight of one request (default 0.05). */
  alpha?: number;
  /** Requests before the mean is used (default 5; before that 0). */
  minCount?: number;
}

/** EWMA of each tenant's front-end time, ms. */
export class FrontendTimes {
  readonly #alpha: number;
  readonly #minCount: number;
  readonly #means = new Map<string, { value: number; count: number }>();

  constructor(options: FrontendOptions = {}) {
    this.#alpha = options.alpha ?? 0.05;
    this.#minCount = options.minCount ?? 5;
  }

  /** Adds one request's front-end time; false (ignored) for a value that is not a finite number ≥ 0. */
  observe(tenant: string, ms: number): boolean {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return false;
    const e = this.#means.get(tenant);
    if (e === undefined) this.#means.set(tenant, { value: ms, count: 1 });
    else {
      e.count++;
      // A plain mean over the first 1/alpha requests, then the EWMA.
      e.value += Math.max(this.#alpha, 1 / e.count) * (ms - e.value);
    }
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
