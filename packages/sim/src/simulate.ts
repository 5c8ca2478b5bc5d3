/**
 * The discrete-event simulator of Edge TPUs shared by tenants and per-tenant CPU stages, in virtual time. A host
 * may have several devices (`SystemSetup.devices`): each is its own FCFS server with its own cached token, and a
 * tenant's calls go to its device (`TenantSetup.device`, absent: the first).
 *
 * Why there is no event heap: the Edge TPU is one FCFS server, so calls start in arrival order and each
 * request's TPU start is max(arrival, previous call's end) (Lindley's recursion). TPU ends are therefore
 * non-decreasing, so each tenant's CPU stage also sees its arrivals in order, and an FCFS pool of c servers
 * starts each request on the earliest-free server (Kiefer–Wolfowitz). In FCFS nothing that arrives later
 * can change an earlier request's times, so each request is simulated completely, in one pass, at the moment
 * it arrives: the only "event list" is the next arrival of each tenant. That is exact (not an approximation)
 * for this system, and costs a few dozen arithmetic operations per request with no allocation.
 *
 * The switch-aware discipline (`SystemSetup.discipline`, see `TpuDiscipline`) breaks that: a later call of the
 * token on chip may start before an earlier one. Its calls therefore wait in a per-device queue, and the device's
 * next pick is made once every arrival before the pick's time is known (the arrival loop has passed it); each
 * picked call then runs its CPU stage at once. A tenant's calls keep their order (one token per tenant), so its
 * CPU stage still sees them in order (except across a reconfiguration that changes its token).
 */

import type { SystemSetup, TenantSetup } from '@swapless/contracts';
import { expected, InvalidArgumentError, reorderBudgetMs, resolvePlacement } from '@swapless/core';
import { Lane, LaneSeries, LaneTicks, PendingCall, pickCall, TimeRing } from './internals.js';
import type {
  CpuSampling,
  SimAppliedReconfiguration,
  SimOptions,
  SimReconfiguration,
  SimResult,
  SimScheduledReconfiguration,
  SimTenantResult,
  SimTickState,
} from './types.js';
import { checkCores, checkOptions, checkReconfiguration, checkSystem } from './validate.js';

/** Quantile levels of `SimTenantResult.cdfMs`. */
export const CDF_LEVELS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => (i + 1) / 100),
  0.999,
]);

const INF = Number.POSITIVE_INFINITY;

/**
 * Simulates `system` under the workload of `options` and returns per-tenant latency statistics: a
 * {@link Simulation} run to its end (calling `options.onTick` at every tick).
 *
 * @throws InvalidArgumentError (`SWAPLESS_INVALID_ARGUMENT`) for a malformed system or options, before any
 *   simulation; for an invalid reconfiguration returned by `onTick`, when it is returned.
 */
export function simulate(system: SystemSetup, options: SimOptions): SimResult {
  return new Simulation(system, options).finish();
}

/**
 * One simulation run that can be advanced tick by tick, for a controller that decides between ticks (possibly
 * asynchronously, e.g. after awaiting a latency-model plugin):
 *
 * ```ts
 * const sim = new Simulation(system, { durationMs: 600_000, tickMs: 5_000 });
 * for (let s = sim.step(); s !== null; s = sim.step()) {
 *   const decision = await controller.decide(s);
 *   if (decision) sim.reconfigure(decision);
 * }
 * const result = sim.finish();
 * ```
 *
 * `simulate(system, { onTick })` is the synchronous shorthand of the same loop.
 */
export class Simulation {
  private readonly system: SystemSetup;
  private readonly names: ReadonlySet<string>;
  private readonly options: SimOptions;
  private readonly seed: number;
  private readonly warmupMs: number;
  private readonly endMs: number;
  private readonly requestLimit: number;
  private readonly bounded: boolean;
  private readonly maxQueue: number;
  private readonly sampling: CpuSampling;
  private readonly sketch: boolean;
  private readonly tickMs: number;
  private readonly trackTpuQueue: boolean;
  private readonly tokens = new Map<string, number>();
  private readonly lanes: Lane[];
  private readonly byName: Map<string, Lane>;

  // Edge TPU state, per device (index in `deviceIds`).
  private readonly deviceIds: readonly string[];
  private readonly deviceIndex: ReadonlyMap<string, number>;
  private readonly deviceToken: Int32Array;
  private readonly tpuFree: Float64Array;
  private readonly tpuQueues: TimeRing[];
  private maxTpuQueue = 0;
  private readonly tpuBusy: Float64Array;
  /** Switch-aware discipline: the calls waiting at each device, in arrival order (unused under FIFO). */
  private readonly pending: PendingCall[][];
  /** Reordering budget of the discipline in force, ms (0: FIFO). */
  private budgetMs: number;
  /** Largest overtaken time of any call served (`SimResult.maxOvertakenMs`). */
  private maxOvertakenMs = 0;
  private swapsAll = 0;
  private lastEventMs = 0;
  private simulated = 0;
  private measuredDone = 0;
  private stoppedOnRequests = false;

  private readonly schedule: readonly SimScheduledReconfiguration[];
  private scheduleIdx = 0;
  private tickNo = 1;
  /** Virtual time up to which the run has advanced (the last tick's time). */
  private now = 0;
  private finished: SimResult | null = null;
  private readonly applied: SimAppliedReconfiguration[] = [];

  /**
   * Checks everything and prepares the run; nothing is simulated until {@link step} or {@link finish}.
   * @throws InvalidArgumentError for a malformed system or options.
   */
  constructor(system: SystemSetup, options: SimOptions) {
    checkSystem(system);
    const names = new Set(system.tenants.map((t) => t.name));
    const phaseTimes = checkOptions(options, names);
    this.system = system;
    this.names = names;
    this.options = options;
    this.seed = options.seed ?? 1;
    this.warmupMs = options.warmupMs ?? 0;
    this.endMs = options.durationMs ?? INF;
    this.requestLimit = options.requests ?? INF;
    this.bounded = options.maxQueue !== undefined;
    this.maxQueue = options.maxQueue ?? INF;
    this.sampling = options.cpuSampling ?? 'empirical';
    this.sketch = options.quantiles === 'sketch';
    this.tickMs = options.tickMs ?? INF;
    const ticking = options.tickMs !== undefined;
    this.trackTpuQueue = this.bounded || ticking;
    this.deviceIds = resolvePlacement(system.devices, system.tenants).ids;
    this.deviceIndex = new Map(this.deviceIds.map((id, d) => [id, d]));
    const nDevices = this.deviceIds.length;
    // `initialToken`: the token every device holds at time 0.
    this.deviceToken = new Int32Array(nDevices).fill(
      options.initialToken == null ? -1 : this.tokenId(options.initialToken),
    );
    this.tpuFree = new Float64Array(nDevices);
    this.tpuQueues = Array.from({ length: nDevices }, () => new TimeRing());
    this.tpuBusy = new Float64Array(nDevices);
    this.pending = Array.from({ length: nDevices }, () => []);
    this.budgetMs = reorderBudgetMs(system.discipline, 'system.discipline');
    this.schedule = options.schedule ?? [];
    this.lanes = system.tenants.map((setup, i) => {
      const changes: [number, number][] = [];
      options.phases?.forEach((p, j) => {
        const r = p.rates[setup.name];
        if (r !== undefined) changes.push([phaseTimes[j]!, r]);
      });
      const trace = options.arrivals?.[setup.name] ?? null;
      const lane = new Lane(i, setup, this.seed, trace, changes, this.sketch);
      lane.configure(setup, 0, this.tokenOf(setup), this.sampling, this.warmupMs, this.endMs);
      lane.device = this.deviceOf(setup);
      if (options.seriesWindowMs !== undefined) lane.series = new LaneSeries(options.seriesWindowMs);
      if (ticking) lane.ticks = new LaneTicks(this.tickMs);
      lane.nextArrivalMs = lane.drawNext(0);
      return lane;
    });
    this.byName = new Map(this.lanes.map((l) => [l.setup.name, l]));
  }

  /** Virtual time the run has reached: 0 before the first step, then the time of the last tick (ms). */
  get timeMs(): number {
    return this.now;
  }

  /**
   * Advances to the next multiple of `tickMs` — every arrival before it is simulated — and returns what a
   * controller observes there; null once no further tick falls inside the run (then call {@link finish}).
   * @throws InvalidArgumentError when the options have no `tickMs`, or after {@link finish}.
   */
  step(): SimTickState | null {
    if (this.options.tickMs === undefined)
      throw new InvalidArgumentError(expected('options.tickMs', 'Simulation.step()', undefined));
    this.assertRunning('Simulation.step()');
    const at = this.tickNo * this.tickMs;
    if (at >= this.endMs) return null;
    this.advance(at);
    if (this.stoppedOnRequests || (this.endMs === INF && this.nextArrival() === INF)) return null;
    this.applySchedule(at);
    this.now = at;
    return this.tickState(at);
  }

  /**
   * Applies a reconfiguration at the current time ({@link timeMs}): arrivals from then on use the new setups,
   * requests already admitted finish under the old ones.
   * @throws InvalidArgumentError for an invalid setup, an unknown tenant, or more cores than the system has.
   */
  reconfigure(reconfiguration: SimReconfiguration): void {
    this.assertRunning('Simulation.reconfigure()');
    checkReconfiguration(reconfiguration, this.names, `the reconfiguration at ${this.now} ms`);
    this.apply(reconfiguration, this.now, 'controller');
  }

  /**
   * Runs to the end (calling `options.onTick` at each remaining tick) and returns the result. Idempotent.
   */
  finish(): SimResult {
    if (this.finished !== null) return this.finished;
    const onTick = this.options.onTick;
    if (onTick !== undefined) {
      for (let s = this.step(); s !== null; s = this.step()) {
        const r = onTick(s);
        if (r !== undefined && r !== null) {
          checkReconfiguration(r, this.names, `the reconfiguration returned by onTick at ${s.timeMs} ms`);
          this.apply(r, s.timeMs, 'controller');
        }
      }
    }
    this.advance(this.endMs);
    // No arrival is left: every queued call can be decided (switch-aware discipline).
    this.drainAll(INF);
    // Scheduled changes after the last arrival but inside the run are still applied (and logged).
    if (!this.stoppedOnRequests && this.endMs !== INF) this.applySchedule(this.endMs, false);
    this.finished = this.result();
    return this.finished;
  }

  private assertRunning(what: string): void {
    if (this.finished !== null)
      throw new InvalidArgumentError(expected('a simulation that has not finished', what, 'a finished one'));
  }

  private tokenId(token: string): number {
    let id = this.tokens.get(token);
    if (id === undefined) {
      id = this.tokens.size;
      this.tokens.set(token, id);
    }
    return id;
  }

  /** Index of the tenant's device (a tenant naming no device uses the first). */
  private deviceOf(setup: TenantSetup): number {
    if (setup.device === undefined) return 0;
    const d = this.deviceIndex.get(setup.device);
    if (d === undefined) resolvePlacement(this.system.devices, [setup], 'the simulated system');
    return d ?? 0;
  }

  private tokenOf(setup: TenantSetup): number {
    return setup.tpu === null ? -1 : this.tokenId(setup.tpu.token);
  }

  private nextArrival(): number {
    let t = INF;
    for (const l of this.lanes) if (l.nextArrivalMs < t) t = l.nextArrivalMs;
    return t;
  }

  private apply(r: SimReconfiguration, atMs: number, source: 'schedule' | 'controller'): void {
    const next = this.lanes.map((l) => l.setup);
    for (const s of r.tenants) next[this.byName.get(s.name)!.index] = s;
    checkCores(next, this.system.cores, `the tenants after the reconfiguration at ${atMs} ms`);
    const devices = r.tenants.map((s) => this.deviceOf(s));
    r.tenants.forEach((s, i) => {
      const lane = this.byName.get(s.name)!;
      lane.configure(s, atMs, this.tokenOf(s), this.sampling, this.warmupMs, this.endMs);
      // A tenant moved to another device queues there from now on; its calls already admitted finish on the old.
      lane.device = devices[i]!;
    });
    // Calls already queued stay queued; the new budget applies to every decision from now on.
    if (r.discipline !== undefined)
      this.budgetMs = reorderBudgetMs(r.discipline, 'reconfiguration.discipline');
    this.applied.push({ atMs, source, tenants: r.tenants.map((s) => s.name) });
  }

  /** Applies scheduled entries at times ≤ upTo (or < upTo). */
  private applySchedule(upTo: number, inclusive = true): void {
    const schedule = this.schedule;
    while (this.scheduleIdx < schedule.length) {
      const e = schedule[this.scheduleIdx]!;
      if (inclusive ? e.atMs > upTo : e.atMs >= upTo) break;
      this.apply(e, e.atMs, 'schedule');
      this.scheduleIdx++;
    }
  }

  private tickState(timeMs: number): SimTickState {
    const m = this.tickNo++;
    const tickMs = this.tickMs;
    let tpuQueue = 0;
    for (const q of this.tpuQueues) {
      q.dropUpTo(timeMs);
      tpuQueue += q.size;
    }
    // Switch-aware: the calls still queued all start at or after timeMs (advance drained up to it).
    for (const q of this.pending) tpuQueue += q.length;
    return {
      timeMs,
      tick: m,
      tickMs,
      tpuQueue,
      swaps: this.swapsAll,
      tenants: this.lanes.map((l) => {
        const k = l.ticks!;
        // Window m−1 = [timeMs − tickMs, timeMs) is final: everything completing in it arrived before timeMs.
        const completed = k.completed.at(m - 1);
        k.departed += completed + k.cpuRejected.at(m - 1);
        const view = {
          name: l.setup.name,
          setup: l.setup,
          arrivals: k.arrivals,
          rate: (k.arrivals * 1000) / tickMs,
          completed,
          meanResponseMs: completed > 0 ? k.responseSum.at(m - 1) / completed : Number.NaN,
          rejected: k.rejected,
          inSystem: k.admitted - k.departed,
          swaps: l.swapsAll,
        };
        k.arrivals = 0;
        k.rejected = 0;
        return view;
      }),
    };
  }

  /**
   * The hot loop: simulates every arrival before `limitMs` (and before the end of the run). Under FIFO a call is
   * simulated through both stages at its arrival (see the file comment); under the switch-aware discipline it
   * waits in its device's queue until {@link drain} picks it, once every arrival before that decision is known.
   */
  private advance(limitMs: number): void {
    if (this.stoppedOnRequests) return;
    const lanes = this.lanes;
    const nLanes = lanes.length;
    const limit = Math.min(limitMs, this.endMs);
    const { warmupMs, maxQueue, trackTpuQueue, tpuQueues, schedule, tpuFree, pending } = this;
    let nextScheduled = this.scheduleIdx < schedule.length ? schedule[this.scheduleIdx]!.atMs : INF;

    for (;;) {
      // The next arrival over all tenants: a linear scan beats a heap for the handful of tenants of a TPU.
      let lane = lanes[0]!;
      let t = lane.nextArrivalMs;
      for (let i = 1; i < nLanes; i++) {
        const l = lanes[i]!;
        if (l.nextArrivalMs < t) {
          t = l.nextArrivalMs;
          lane = l;
        }
      }
      if (t >= limit) break;
      if (nextScheduled <= t) {
        this.applySchedule(t);
        nextScheduled = this.scheduleIdx < schedule.length ? schedule[this.scheduleIdx]!.atMs : INF;
      }
      lane.nextArrivalMs = lane.drawNext(t);
      this.simulated++;
      const measured = t >= warmupMs;
      if (measured) lane.arrivals++;
      if (lane.series !== null) lane.series.arrivals.add(t, 1);
      const ticks = lane.ticks;
      if (ticks !== null) ticks.arrivals++;

      // Edge TPU: the tenant's device, one server shared by the tenants placed on it.
      let ready = t;
      let tpuWait = 0;
      let tpuService = 0;
      if (lane.hasTpu) {
        const d = lane.device;
        if (this.budgetMs > 0 || pending[d]!.length > 0) {
          this.enqueue(lane, d, t, measured);
          if (this.stoppedOnRequests) break;
          continue;
        }
        const tpuQueue = tpuQueues[d]!;
        const start = Math.max(tpuFree[d]!, t);
        if (trackTpuQueue) {
          tpuQueue.dropUpTo(t);
          if (start > t && tpuQueue.size >= maxQueue) {
            this.rejectAtTpu(lane, measured);
            continue;
          }
        }
        const drawn = lane.drawTpu();
        tpuService = this.runOnTpu(lane, d, start, drawn, lane.tokenId, lane.reloadMs, measured);
        const end = start + tpuService;
        if (trackTpuQueue && start > t) {
          tpuQueue.push(start);
          if (tpuQueue.size > this.maxTpuQueue) this.maxTpuQueue = tpuQueue.size;
        }
        tpuWait = start - t;
        ready = end;
      }
      if (ticks !== null) ticks.admitted++;
      if (this.complete(lane, t, ready, tpuWait, tpuService, measured)) break;
    }
    // Every arrival before `limit` is known: the queued calls whose turn comes before it can be decided.
    this.drainAll(limit);
  }

  /** Counts a call rejected at its full Edge TPU queue. */
  private rejectAtTpu(lane: Lane, measured: boolean): void {
    if (measured) lane.rejectedTpu++;
    if (lane.ticks !== null) lane.ticks.rejected++;
  }

  /**
   * One Edge TPU call of `lane` on device `d` from `start`: a reload first when the device holds another token,
   * then `serviceMs`. Books swaps and busy time; returns the call's time with the reload (it ends at start + that).
   */
  private runOnTpu(
    lane: Lane,
    d: number,
    start: number,
    serviceMs: number,
    tokenId: number,
    reloadMs: number,
    measured: boolean,
  ): number {
    let service = serviceMs;
    if (tokenId !== this.deviceToken[d]) {
      // Another unit's parameters are cached: this call re-uploads its own first (docs/tpu-emulator.md).
      service += reloadMs;
      this.deviceToken[d] = tokenId;
      this.swapsAll++;
      lane.swapsAll++;
      if (measured) lane.swaps++;
      if (lane.series !== null) lane.series.swaps.add(start, 1);
    }
    const end = start + service;
    this.tpuFree[d] = end;
    // Busy time inside the observation window [warmupMs, endMs).
    const a = Math.max(start, this.warmupMs);
    const b = Math.min(end, this.endMs);
    if (b > a) {
      this.tpuBusy[d]! += b - a;
      lane.tpuBusy += b - a;
    }
    if (end > this.lastEventMs) this.lastEventMs = end;
    if (measured) lane.tpuCalls++;
    return service;
  }

  /** Switch-aware discipline: decides what device `d` serves before `t`, then queues (or rejects) the arrival. */
  private enqueue(lane: Lane, d: number, t: number, measured: boolean): void {
    this.drain(d, t);
    if (this.stoppedOnRequests) return;
    const queue = this.pending[d]!;
    const waits = queue.length > 0 || this.tpuFree[d]! > t;
    if (waits && queue.length >= this.maxQueue) {
      this.rejectAtTpu(lane, measured);
      return;
    }
    const service = lane.drawTpu();
    queue.push(new PendingCall(lane, t, service, lane.tpuMs, lane.tokenId, lane.reloadMs, measured));
    if (waits && queue.length > this.maxTpuQueue) this.maxTpuQueue = queue.length;
    if (lane.ticks !== null) lane.ticks.admitted++;
  }

  /** {@link drain} on every device. */
  private drainAll(upTo: number): void {
    for (let d = 0; d < this.pending.length; d++) this.drain(d, upTo);
  }

  /**
   * Serves device `d`'s queued calls whose decision time — max(device free, oldest queued arrival) — is before
   * `upTo`, each picked by {@link pickCall}, and simulates their CPU stages.
   */
  private drain(d: number, upTo: number): void {
    const queue = this.pending[d]!;
    while (queue.length > 0 && !this.stoppedOnRequests) {
      const tau = Math.max(this.tpuFree[d]!, queue[0]!.arrivalMs);
      if (tau >= upTo) return;
      const i = pickCall(queue, this.deviceToken[d]!, tau, this.budgetMs);
      const call = queue[i]!;
      for (let j = 0; j < i; j++) queue[j]!.overtakenMs += call.expectedMs;
      if (call.overtakenMs > this.maxOvertakenMs) this.maxOvertakenMs = call.overtakenMs;
      queue.splice(i, 1);
      const { lane, measured } = call;
      const service = this.runOnTpu(lane, d, tau, call.serviceMs, call.tokenId, call.reloadMs, measured);
      this.complete(lane, call.arrivalMs, tau + service, tau - call.arrivalMs, service, measured);
    }
  }

  /**
   * The rest of one request after its Edge TPU stage (ready at `ready`): the tenant's CPU stage — `servers`
   * FCFS servers, the request takes the one free first — and the accounting. Returns true when the run just
   * reached its request limit.
   */
  private complete(
    lane: Lane,
    t: number,
    ready: number,
    tpuWait: number,
    tpuService: number,
    measured: boolean,
  ): boolean {
    const { warmupMs, endMs } = this;
    const ticks = lane.ticks;
    let done = ready;
    let cpuWait = 0;
    let cpuService = 0;
    if (lane.hasCpu) {
      const free = lane.free;
      let j = 0;
      let f = free[0]!;
      for (let s = 1; s < lane.servers; s++) {
        if (free[s]! < f) {
          f = free[s]!;
          j = s;
        }
      }
      const start = Math.max(f, ready);
      if (this.bounded) {
        const q = lane.cpuQueue;
        q.dropUpTo(ready);
        if (start > ready && q.size >= this.maxQueue) {
          // Served by the TPU, then dropped: the TPU time was spent (and counted above).
          if (measured) lane.rejectedCpu++;
          if (ticks !== null) {
            ticks.rejected++;
            ticks.cpuRejected.add(ready, 1);
          }
          return false;
        }
        if (start > ready) q.push(start);
      }
      cpuService = lane.drawCpu();
      done = start + cpuService;
      free[j] = done;
      const a = Math.max(start, warmupMs);
      const b = Math.min(done, endMs);
      if (b > a) lane.cpuBusy += b - a;
      if (done > this.lastEventMs) this.lastEventMs = done;
      cpuWait = start - ready;
    }

    const response = done - t;
    const series = lane.series;
    if (series !== null) {
      series.completed.add(done, 1);
      series.responseSum.add(done, response);
    }
    if (ticks !== null) {
      ticks.completed.add(done, 1);
      ticks.responseSum.add(done, response);
    }
    if (!measured) return false;
    lane.completed++;
    lane.sumResponse += response;
    lane.sumTpuWait += tpuWait;
    lane.sumTpuService += tpuService;
    lane.sumCpuWait += cpuWait;
    lane.sumCpuService += cpuService;
    if (response > lane.maxResponse) lane.maxResponse = response;
    lane.recorder.add(response);
    if (++this.measuredDone >= this.requestLimit) this.stoppedOnRequests = true;
    return this.stoppedOnRequests;
  }

  private result(): SimResult {
    const { warmupMs, endMs, lanes, tpuBusy, sketch } = this;
    const windowStartMs = warmupMs;
    const windowEndMs = this.stoppedOnRequests || endMs === INF ? Math.min(endMs, this.lastEventMs) : endMs;
    const spanMs = windowEndMs - windowStartMs;
    const utilizations = Array.from(tpuBusy, (busy) => (spanMs > 0 ? busy / spanMs : 0));
    // One device: its utilisation; several: their mean (each device's is in `devices`).
    const tpuUtilization = utilizations.reduce((s, u) => s + u, 0) / utilizations.length;

    const tenants: SimTenantResult[] = lanes.map((l) => {
      l.addCapacity(windowEndMs, windowStartMs, windowEndMs);
      const n = l.completed;
      const mean = (x: number) => (n > 0 ? x / n : Number.NaN);
      return {
        name: l.setup.name,
        arrivals: l.arrivals,
        completed: n,
        rejected: l.rejectedTpu + l.rejectedCpu,
        rejectedTpu: l.rejectedTpu,
        rejectedCpu: l.rejectedCpu,
        throughputPerS: spanMs > 0 ? (n * 1000) / spanMs : 0,
        meanResponseMs: mean(l.sumResponse),
        p50Ms: l.recorder.quantile(0.5),
        p95Ms: l.recorder.quantile(0.95),
        p99Ms: l.recorder.quantile(0.99),
        cdfMs: CDF_LEVELS.map((q) => l.recorder.quantile(q)),
        maxResponseMs: n > 0 ? l.maxResponse : Number.NaN,
        tpuWaitMs: mean(l.sumTpuWait),
        tpuServiceMs: mean(l.sumTpuService),
        cpuWaitMs: mean(l.sumCpuWait),
        cpuServiceMs: mean(l.sumCpuService),
        tpuUtilization: utilizations[l.device]!,
        tpuShare: spanMs > 0 ? l.tpuBusy / spanMs : 0,
        cpuUtilization: l.capacityMs > 0 ? l.cpuBusy / l.capacityMs : 0,
        swaps: l.swaps,
        switchFraction: l.tpuCalls > 0 ? l.swaps / l.tpuCalls : 0,
      };
    });

    const completed = tenants.reduce((s, x) => s + x.completed, 0);
    const sumResponse = lanes.reduce((s, l) => s + l.sumResponse, 0);
    const result: SimResult = {
      source: 'simulated',
      seed: this.seed,
      tenants,
      meanResponseMs: completed > 0 ? sumResponse / completed : Number.NaN,
      completed,
      rejected: tenants.reduce((s, x) => s + x.rejected, 0),
      swaps: tenants.reduce((s, x) => s + x.swaps, 0),
      tpuUtilization,
      windowStartMs,
      windowEndMs,
      simulatedRequests: this.simulated,
      quantiles: sketch ? 'sketch' : 'exact',
      maxTpuQueue: this.maxTpuQueue,
      maxOvertakenMs: this.maxOvertakenMs,
      reconfigurations: this.applied,
    };
    if (this.deviceIds.length > 1) {
      result.devices = this.deviceIds.map((id, d) => ({
        id,
        tpuUtilization: utilizations[d]!,
        tenants: lanes.filter((l) => l.device === d).map((l) => l.setup.name),
      }));
    }
    if (this.options.seriesWindowMs !== undefined) {
      const windowMs = this.options.seriesWindowMs;
      const windows = Math.max(
        ...lanes.map((l) => Math.max(l.series!.arrivals.length, l.series!.completed.length)),
      );
      result.series = {
        windowMs,
        tenants: lanes.map((l) => {
          const s = l.series!;
          const idx = Array.from({ length: windows }, (_, i) => i);
          return {
            name: l.setup.name,
            arrivals: idx.map((i) => s.arrivals.at(i)),
            completed: idx.map((i) => s.completed.at(i)),
            meanResponseMs: idx.map((i) => {
              const c = s.completed.at(i);
              return c > 0 ? s.responseSum.at(i) / c : Number.NaN;
            }),
            swaps: idx.map((i) => s.swaps.at(i)),
          };
        }),
      };
    }
    return result;
  }
}
