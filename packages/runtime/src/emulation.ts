/**
 * The functional emulator's head computation, kept off the device's timeline. The emulated Edge TPU is busy for
 * the modelled time of each call only; the head's outputs (which the CPU stage needs) are computed by this pool of
 * worker threads at the same time. When the host is slower than the device, outputs arrive after the device is
 * already free: that difference is the emulation lag, measured per call and reported on its own instead of being
 * counted as device time.
 */
import type { TensorArray } from '@swapless/contracts';
import type { PreparedModel } from '@swapless/edgetpu';
import { TfliteWorker } from './worker.js';

/**
 * A call whose outputs were ready more than this many ms after the modelled device end is counted as lagging
 * (below it, the difference is the cost of handing the result back between threads).
 */
export const EMULATION_LAG_THRESHOLD_MS = 0.5;

/** Host computation of one head call. */
export interface HeadComputation {
  outputs: TensorArray[];
  /** Invoke time inside the worker, ms. */
  computeMs: number;
  /** From the call's submission to the worker starting it, ms: the pool's queue (and the hand-over to the worker). */
  waitMs: number;
  /** When the outputs were back on the main thread, `performance.now()` ms. */
  readyMs: number;
  /**
   * From the worker's end of the invoke to the outputs being back on the main thread, ms: the reply's transfer and
   * the main thread's lateness in taking it (the worker is already free for the next call).
   */
  returnMs: number;
}

/** Weight of a new sample in the per-head moving mean of compute time. */
const ALPHA = 0.2;

/**
 * `workers` threads, each holding every head in use; a call goes to the worker with the least outstanding work.
 * It keeps a moving mean of each head's compute time, so the runtime can estimate how long outputs queued now will
 * take ({@link EmulationPool.backlogMs}) for admission and deadline decisions.
 */
export class EmulationPool {
  readonly #workers: TfliteWorker[] = [];
  /** Outstanding estimated ms per worker. */
  readonly #load: number[];
  readonly #meanMs = new Map<string, number>();
  readonly #threads: number;
  #queued = 0;
  #outstandingMs = 0;

  constructor(
    readonly size: number,
    threads: number,
  ) {
    this.#threads = threads;
    this.#load = new Array<number>(size).fill(0);
  }

  /** Calls queued or running on the pool. */
  get queued(): number {
    return this.#queued;
  }

  #worker(i: number): TfliteWorker {
    let w = this.#workers[i];
    if (w === undefined) {
      w = new TfliteWorker(-1 - i);
      this.#workers[i] = w;
    }
    return w;
  }

  /** Loads head `id` on every worker. */
  async load(id: string, model: PreparedModel): Promise<void> {
    const threads = this.#threads;
    await Promise.all(
      Array.from({ length: this.size }, (_, i) => this.#worker(i).load(id, model, { threads })),
    );
  }

  unload(id: string): void {
    this.#meanMs.delete(id);
    for (const w of this.#workers) void w.unload(id).catch(() => undefined);
  }

  /** Estimated compute time of head `id`, ms (0 before its first call). */
  estimateMs(id: string): number {
    return this.#meanMs.get(id) ?? 0;
  }

  /**
   * Estimated time until a call of head `id` sent now would have its outputs: the work already queued on the
   * least-loaded worker plus its own compute time, ms.
   */
  backlogMs(id: string): number {
    return Math.min(...this.#load) + this.estimateMs(id);
  }

  /** Estimated outstanding work of the whole pool per worker, ms. */
  get outstandingMs(): number {
    return this.#outstandingMs / this.size;
  }

  /** Computes head `id` on `inputs` (the head must be loaded). */
  async compute(id: string, inputs: readonly TensorArray[]): Promise<HeadComputation> {
    let best = 0;
    for (let i = 1; i < this.size; i++) if (this.#load[i]! < this.#load[best]!) best = i;
    const estimate = this.estimateMs(id);
    this.#load[best]! += estimate;
    this.#outstandingMs += estimate;
    this.#queued++;
    try {
      const submittedMs = performance.now();
      const r = await this.#worker(best).runAsync(id, inputs);
      const computeMs = r.endMs - r.startMs;
      const mean = this.#meanMs.get(id);
      this.#meanMs.set(id, mean === undefined ? computeMs : mean + ALPHA * (computeMs - mean));
      const readyMs = performance.now();
      return {
        outputs: r.outputs,
        computeMs,
        waitMs: Math.max(0, r.startMs - submittedMs),
        readyMs,
        returnMs: Math.max(0, readyMs - r.endMs),
      };
    } finally {
      this.#queued--;
      this.#load[best] = Math.max(0, this.#load[best]! - estimate);
      this.#outstandingMs = Math.max(0, this.#outstandingMs - estimate);
    }
  }

  /** Terminates every worker. */
  async close(): Promise<void> {
    const all = this.#workers.splice(0);
    await Promise.all(all.map((w) => w.terminate()));
  }
}
