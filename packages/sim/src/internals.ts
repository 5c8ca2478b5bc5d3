/**
 * Building blocks of the event loop that are not part of the public API: a growable ring of times, growable
 * per-window counters, and the per-tenant state ("lane") the loop reads in its hot path. Kept in plain
 * classes with number fields initialised in the constructor, so V8 gives every lane the same hidden class and
 * the loop's property accesses stay monomorphic.
 */

import type { TenantSetup } from '@swapless/contracts';
import { Xoshiro128 } from '@swapless/core';
import { ExactRecorder, type Recorder, SketchRecorder } from './quantiles.js';
import type { CpuSampling } from './types.js';

/**
 * FIFO of non-decreasing times (start times of queued requests). Queue length at time t = entries left after
 * dropping those ≤ t: in FCFS, start times are non-decreasing in arrival order, so the waiting requests are
 * always a suffix of the admitted ones. Grows by doubling; with a bounded queue it never exceeds maxQueue + 1.
 */
export class TimeRing {
  private buf = new Float64Array(16);
  private mask = 15;
  private head = 0;
  /** Entries currently held. */
  size = 0;

  /** Appends a start time (≥ every time already held). */
  push(v: number): void {
    if (this.size > this.mask) this.grow();
    this.buf[(this.head + this.size) & this.mask] = v;
    this.size++;
  }

  /** Drops every entry ≤ t from the front (requests that have started by t). */
  dropUpTo(t: number): void {
    while (this.size > 0 && this.buf[this.head]! <= t) {
      this.head = (this.head + 1) & this.mask;
      this.size--;
    }
  }

  private grow(): void {
    const next = new Float64Array(this.buf.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = this.buf[(this.head + i) & this.mask]!;
    this.buf = next;
    this.mask = next.length - 1;
    this.head = 0;
  }
}

/**
 * One Edge TPU call waiting under the switch-aware discipline: its lane, arrival, the service it drew, and the
 * token, reload and expected service of the setup it arrived under (a later reconfiguration does not change them).
 */
export class PendingCall {
  /** Expected service of later-arriving calls served ahead of this one so far, ms (see `TpuDiscipline`). */
  overtakenMs = 0;
  constructor(
    readonly lane: Lane,
    readonly arrivalMs: number,
    readonly serviceMs: number,
    readonly expectedMs: number,
    readonly tokenId: number,
    readonly reloadMs: number,
    readonly measured: boolean,
  ) {}
}

/**
 * Index in `queue` (calls in arrival order, none started) of the call a free device serves at time `tau` under
 * the switch-aware discipline with budget `budgetMs`: the oldest call holding `token` when the head holds
 * another and the head's overtaken time plus that call's expected service stays within the budget; else the head
 * (0). Overtaken times are non-increasing along the queue (every call that overtook a call also overtook the
 * older ones still waiting), so bounding the head's bounds every call's.
 */
export function pickCall(
  queue: readonly PendingCall[],
  token: number,
  tau: number,
  budgetMs: number,
): number {
  const head = queue[0]!;
  if (head.tokenId === token || budgetMs <= 0) return 0;
  for (let i = 1; i < queue.length; i++) {
    const c = queue[i]!;
    if (c.arrivalMs > tau) return 0;
    if (c.tokenId === token) return head.overtakenMs + c.expectedMs <= budgetMs ? i : 0;
  }
  return 0;
}

/** A growable array of per-window sums, indexed by floor(time / windowMs). */
export class WindowSums {
  values = new Float64Array(64);
  /** One past the highest index written. */
  length = 0;

  constructor(readonly windowMs: number) {}

  /** Adds v to the window that contains timeMs. */
  add(timeMs: number, v: number): void {
    const i = Math.floor(timeMs / this.windowMs);
    if (i >= this.values.length) {
      let n = this.values.length * 2;
      while (n <= i) n *= 2;
      const grown = new Float64Array(n);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[i]! += v;
    if (i >= this.length) this.length = i + 1;
  }

  /** Sum of window i (0 for a window never written). */
  at(i: number): number {
    return i < this.values.length ? this.values[i]! : 0;
  }
}

/** Per-tenant series accumulators (only allocated when a time series is asked for). */
export class LaneSeries {
  readonly arrivals: WindowSums;
  readonly completed: WindowSums;
  readonly responseSum: WindowSums;
  readonly swaps: WindowSums;
  constructor(windowMs: number) {
    this.arrivals = new WindowSums(windowMs);
    this.completed = new WindowSums(windowMs);
    this.responseSum = new WindowSums(windowMs);
    this.swaps = new WindowSums(windowMs);
  }
}

/** Per-tenant tick accumulators (only allocated with `onTick`). */
export class LaneTicks {
  /** Completions and their response sums by completion window of width tickMs. */
  readonly completed: WindowSums;
  readonly responseSum: WindowSums;
  /** Requests that left the system by rejection at the CPU queue, by rejection time. */
  readonly cpuRejected: WindowSums;
  /** Arrivals and rejections since the last tick. */
  arrivals = 0;
  rejected = 0;
  /** Admitted at the TPU (or directly at the CPU) since the start. */
  admitted = 0;
  /** Completions + CPU rejections in windows already reported. */
  departed = 0;
  constructor(tickMs: number) {
    this.completed = new WindowSums(tickMs);
    this.responseSum = new WindowSums(tickMs);
    this.cpuRejected = new WindowSums(tickMs);
  }
}

/** One tenant's state: arrival process, current stage parameters, and its accumulators. */
export class Lane {
  setup: TenantSetup;

  // Arrivals: a trace, or Poisson with piecewise-constant rate (changes at changeTimes[changeIdx…]).
  readonly arrivalRng: Xoshiro128;
  readonly trace: ArrayLike<number> | null;
  traceIdx = 0;
  readonly changeTimes: Float64Array;
  readonly changeRates: Float64Array;
  changeIdx = 0;
  /** Current rate, requests per ms. */
  ratePerMs: number;
  nextChangeMs: number;
  /** Time of this lane's next arrival (Infinity when there is none). */
  nextArrivalMs = 0;

  // Edge TPU stage.
  /** Index of the tenant's Edge TPU in the system's devices (0 with one device). */
  device = 0;
  hasTpu = false;
  tpuMs = 0;
  reloadMs = 0;
  tokenId = -1;
  noisy = false;
  gammaShape = 0;
  gammaScale = 0;
  readonly tpuRng: Xoshiro128;

  // CPU stage: `servers` FCFS servers, server j free from free[j].
  hasCpu = false;
  servers = 0;
  free = new Float64Array(0);
  samples = new Float64Array(0);
  smoothed = false;
  bandwidth = 0;
  logShift = 0;
  readonly cpuRng: Xoshiro128;
  readonly cpuQueue = new TimeRing();
  /** ∫ servers dt over the observation window up to capacitySinceMs. */
  capacityMs = 0;
  capacitySinceMs = 0;

  // Measured accumulators.
  arrivals = 0;
  completed = 0;
  rejectedTpu = 0;
  rejectedCpu = 0;
  swaps = 0;
  tpuCalls = 0;
  sumResponse = 0;
  sumTpuWait = 0;
  sumTpuService = 0;
  sumCpuWait = 0;
  sumCpuService = 0;
  maxResponse = 0;
  tpuBusy = 0;
  cpuBusy = 0;
  readonly recorder: Recorder;
  /** Reloads of all calls, warm-up included (for ticks). */
  swapsAll = 0;

  series: LaneSeries | null = null;
  ticks: LaneTicks | null = null;

  constructor(
    readonly index: number,
    setup: TenantSetup,
    seed: number,
    trace: ArrayLike<number> | null,
    changes: readonly (readonly [number, number])[],
    sketch: boolean,
  ) {
    this.setup = setup;
    // Three independent streams per tenant (common random numbers across configurations, see rng.ts).
    this.arrivalRng = new Xoshiro128(seed, 3 * index + 1);
    this.tpuRng = new Xoshiro128(seed, 3 * index + 2);
    this.cpuRng = new Xoshiro128(seed, 3 * index + 3);
    this.trace = trace;
    this.changeTimes = Float64Array.from(changes, (c) => c[0]);
    this.changeRates = Float64Array.from(changes, (c) => c[1] / 1000);
    this.ratePerMs = setup.rate / 1000;
    this.nextChangeMs = changes.length > 0 ? changes[0]![0] : Number.POSITIVE_INFINITY;
    this.recorder = sketch ? new SketchRecorder() : new ExactRecorder();
  }

  /** Draws the next arrival after `fromMs` (memoryless, so a rate change restarts the draw at the change). */
  drawNext(fromMs: number): number {
    const trace = this.trace;
    if (trace !== null)
      return this.traceIdx < trace.length ? trace[this.traceIdx++]! : Number.POSITIVE_INFINITY;
    let t = fromMs;
    for (;;) {
      if (this.ratePerMs > 0) {
        const c = t + this.arrivalRng.exponential() / this.ratePerMs;
        if (c < this.nextChangeMs) return c;
      }
      if (this.nextChangeMs === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
      t = this.nextChangeMs;
      this.ratePerMs = this.changeRates[this.changeIdx]!;
      this.changeIdx++;
      this.nextChangeMs =
        this.changeIdx < this.changeTimes.length
          ? this.changeTimes[this.changeIdx]!
          : Number.POSITIVE_INFINITY;
    }
  }

  /**
   * Takes a (checked) setup from `atMs` on. Requests already admitted keep the service times they drew, which
   * is "in flight finish under the old setup". The CPU pool is handed over without oversubscribing cores:
   * growing keeps the old servers' busy times and adds servers free at once; shrinking to c' servers keeps the
   * c' latest-free ones, so new requests start only when at most c' − 1 old ones still run.
   */
  configure(
    setup: TenantSetup,
    atMs: number,
    tokenId: number,
    sampling: CpuSampling,
    windowStartMs: number,
    windowEndMs: number,
  ): void {
    this.setup = setup;
    const tpu = setup.tpu;
    this.hasTpu = tpu !== null;
    if (tpu !== null) {
      this.tpuMs = tpu.serviceMs;
      this.reloadMs = tpu.reloadMs;
      this.tokenId = tokenId;
      const v = tpu.serviceVarianceMs2;
      this.noisy = v > 0;
      // Gamma with mean m and variance v: shape m²/v, scale v/m (positive, any variance; see docs/sim.md).
      this.gammaShape = v > 0 ? (tpu.serviceMs * tpu.serviceMs) / v : 0;
      this.gammaScale = v > 0 ? v / tpu.serviceMs : 0;
    }

    this.addCapacity(atMs, windowStartMs, windowEndMs);
    const cpu = setup.cpu;
    const servers = cpu === null ? 0 : cpu.mode === 'mg1' ? 1 : setup.cores;
    const old = Array.from(this.free).sort((a, b) => a - b);
    const free = new Float64Array(servers);
    for (let j = 0; j < servers; j++) {
      const from = old.length - servers + j;
      free[j] = from >= 0 ? old[from]! : atMs;
    }
    this.free = free;
    this.servers = servers;
    this.hasCpu = cpu !== null;
    if (cpu !== null) {
      const s = Float64Array.from(cpu.samplesMs);
      this.samples = s;
      // Kernel width on the log scale (Silverman's rule over the positive samples' logarithms): timing noise
      // is multiplicative, and a multiplicative kernel keeps every draw positive without truncation bias.
      let n = 0;
      let mean = 0;
      for (let i = 0; i < s.length; i++) {
        if (s[i]! > 0) {
          mean += Math.log(s[i]!);
          n++;
        }
      }
      mean = n > 0 ? mean / n : 0;
      let ss = 0;
      for (let i = 0; i < s.length; i++) if (s[i]! > 0) ss += (Math.log(s[i]!) - mean) ** 2;
      const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
      this.bandwidth = 1.06 * sd * n ** -0.2;
      // E[exp(hZ − h²/2)] = 1: the smoothed draw has exactly the samples' mean.
      this.logShift = (-this.bandwidth * this.bandwidth) / 2;
      this.smoothed = sampling === 'smoothed' && sd > 0;
    }
  }

  /** Adds ∫ servers dt over [capacitySinceMs, untilMs] ∩ window, then restarts the integral at untilMs. */
  addCapacity(untilMs: number, windowStartMs: number, windowEndMs: number): void {
    const a = Math.max(this.capacitySinceMs, windowStartMs);
    const b = Math.min(untilMs, windowEndMs);
    if (b > a) this.capacityMs += this.servers * (b - a);
    this.capacitySinceMs = untilMs;
  }

  /** One Edge TPU service time: the call's mean, or a gamma draw around it when the stage is noisy. */
  drawTpu(): number {
    return this.noisy ? this.tpuRng.gamma(this.gammaShape) * this.gammaScale : this.tpuMs;
  }

  /** One CPU service time: a resampled measurement, optionally times a log-normal kernel of mean 1. */
  drawCpu(): number {
    const s = this.samples;
    const rng = this.cpuRng;
    const x = s[(rng.nextFast() * s.length) | 0]!;
    return this.smoothed ? x * Math.exp(this.bandwidth * rng.normal() + this.logShift) : x;
  }
}
