/**
 * Watches the functional emulator's head computation: over a sliding window, the share of head calls whose outputs
 * were ready after the emulated device was done (the host computing heads slower than the Edge TPU it emulates),
 * and the mean lag and compute time. Fed the runtime's cumulative counters at each tick; read by the controller's
 * status, the dashboard and the server's log.
 */
import type { RuntimeStats } from '@swapless/runtime';
import type { EmulationStatus } from './types.js';

/** Window of {@link EmulationMonitor.status}, ms. */
export const EMULATION_WINDOW_MS = 10_000;

/** The emulation is reported as lagging when more than this share of the window's head calls lagged. */
export const EMULATION_LAGGING_FRACTION = 0.1;

type Counters = NonNullable<RuntimeStats['emulation']>;

interface Snapshot {
  atMs: number;
  calls: number;
  lagging: number;
  computeMs: number;
  lagMs: number;
}

/** Sliding-window view of the runtime's cumulative emulation counters. */
export class EmulationMonitor {
  readonly #snapshots: Snapshot[] = [];
  readonly #windowMs: number;

  constructor(windowMs = EMULATION_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  /** Records the runtime's counters at `atMs` (any monotonic ms clock). */
  record(counters: Counters | null, atMs: number): void {
    if (counters === null) return;
    const { calls, lagging, computeMs, lagMs } = counters;
    this.#snapshots.push({ atMs, calls, lagging, computeMs, lagMs });
    // Keep one snapshot at or before the window's start, so the window is always covered.
    while (this.#snapshots.length > 2 && this.#snapshots[1]!.atMs <= atMs - this.#windowMs) {
      this.#snapshots.shift();
    }
  }

  /**
   * The last window (from the oldest snapshot kept to `counters`, the runtime's counters now): null when the
   * backend computes no heads on the host (the real device, timing-only mode).
   */
  status(counters: Counters | null): EmulationStatus | null {
    if (counters === null) return null;
    const from = this.#snapshots[0] ?? { calls: 0, lagging: 0, computeMs: 0, lagMs: 0 };
    const calls = counters.calls - from.calls;
    if (calls <= 0) {
      return { lagging: false, laggingFraction: null, meanLagMs: null, meanComputeMs: null, message: null };
    }
    const laggingFraction = (counters.lagging - from.lagging) / calls;
    const meanLagMs = (counters.lagMs - from.lagMs) / calls;
    const meanComputeMs = (counters.computeMs - from.computeMs) / calls;
    const lagging = laggingFraction > EMULATION_LAGGING_FRACTION;
    const message = lagging
      ? `The host computes the emulated Edge TPU's heads slower than the device would run them: ${pct(laggingFraction)} of recent calls waited ${fixed(meanLagMs)} ms on average for their outputs after the device was done (head compute ${fixed(meanComputeMs)} ms per call). Measured latencies include this lag; a real Edge TPU would not add it.`
      : null;
    return { lagging, laggingFraction, meanLagMs, meanComputeMs, message };
  }
}

function pct(x: number): string {
  return `${Math.round(x * 100)} %`;
}

function fixed(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}
