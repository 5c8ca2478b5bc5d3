/**
 * The device model in real time: an emulated Edge TPU whose `invoke` resolves after the modelled duration.
 * Like the real device (one libedgetpu context executes one invocation at a time) it runs one call at a time;
 * concurrent calls queue in FIFO order rather than being rejected, because the runtime's TPU stage is itself a
 * FIFO queue and rejecting would push a retry loop onto every caller.
 */
import { expected, InvalidArgumentError } from '@swapless/core';
import { callBreakdown, type DeviceOptions, VirtualDevice } from './timing.js';
import type { CallOptions, CallResult, CompileReport, DeviceProfile, ProfileInput } from './types.js';

/** Options of an {@link EmulatedDevice}. */
export interface EmulatedDeviceOptions extends DeviceOptions {
  /**
   * Real milliseconds waited per modelled millisecond (default 1). Smaller values run the same sequence
   * faster (tests, demos); the reported breakdowns are always the modelled ones.
   */
  readonly timeScale?: number;
  /** Clock for the start/end stamps, ms (default `performance.now`). */
  readonly now?: () => number;
}

/** Result of one {@link EmulatedDevice.invoke}. */
export interface InvokeResult extends CallResult {
  /** When the call started executing on the device (after any queueing), by the device's clock, ms. */
  readonly startedAtMs: number;
  /** When it finished, ms. */
  readonly endedAtMs: number;
  /** Time spent waiting behind earlier calls, ms. */
  readonly queuedMs: number;
}

/**
 * An emulated Edge TPU in real time. `invoke(unit)` waits for the calls before it (FIFO), then for the
 * modelled duration (scaled by `timeScale`), and resolves with the same breakdown the virtual-time model
 * gives plus the token state before and after.
 */
export class EmulatedDevice {
  /** The profile the device runs with. */
  readonly profile: DeviceProfile;
  readonly #virtual: VirtualDevice;
  readonly #timeScale: number;
  readonly #now: () => number;
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  constructor(profile: ProfileInput, options: EmulatedDeviceOptions = {}) {
    this.#virtual = new VirtualDevice(profile, options);
    this.profile = this.#virtual.profile;
    const scale = options.timeScale ?? 1;
    if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) {
      throw new InvalidArgumentError(expected('a finite number ≥ 0', 'the device timeScale', scale));
    }
    this.#timeScale = scale;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Caching token of the last unit that started executing (null on a fresh device). */
  get token(): string | null {
    return this.#virtual.token;
  }

  /** Calls queued or executing. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Queues one call of `unit` (model `options.model` of a co-compiled set). The token switch, and so the
   * reload decision, is taken when the call starts executing, in FIFO order.
   *
   * Rejects at once (without queueing) with the errors of {@link callBreakdown}: a unit compiled for another
   * profile, a bad model index, or a model without Edge TPU ops (`SWAPLESS_UNSUPPORTED_MODEL`).
   */
  invoke(unit: CompileReport, options: CallOptions = {}): Promise<InvokeResult> {
    try {
      callBreakdown(unit, this.profile, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const enqueuedAt = this.#now();
    this.#pending++;
    const run = async (): Promise<InvokeResult> => {
      const startedAtMs = this.#now();
      const result = this.#virtual.call(unit, options);
      await sleepUntil(performance.now() + result.breakdown.totalMs * this.#timeScale);
      return { ...result, startedAtMs, endedAtMs: this.#now(), queuedMs: startedAtMs - enqueuedAt };
    };
    const done = this.#tail.then(run);
    // The chain must survive a failed call; the failure itself reaches the caller through `done`.
    this.#tail = done.then(
      () => undefined,
      () => undefined,
    );
    return done.finally(() => {
      this.#pending--;
    });
  }
}

/**
 * Resolves once `performance.now() ≥ due`. A bare `setTimeout` cannot wait less than ~1 ms (libuv's clock has whole
 * ms and is cached per loop turn), which would cap a 0.3 ms device call at ~1 ms: sleep on a timer for the whole
 * milliseconds, then finish on event-loop turns (`setImmediate`, so I/O keeps flowing meanwhile).
 */
export function sleepUntil(due: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const left = due - performance.now();
      if (left <= 0) resolve();
      else if (left > 1.5) setTimeout(check, left - 1);
      else setImmediate(check);
    };
    check();
  });
}
