/**
 * The open-loop HTTP load generator behind `swapless load`: every tenant's requests arrive by its own seeded
 * Poisson process (rates and phases from the workload, the same arrival times as `plan`/`bench` for the same
 * seed), whatever the server's answers — a slow server makes requests pile up in flight instead of slowing the
 * arrivals (open loop), up to a bound beyond which arrivals are dropped and counted.
 *
 * Latency is the client-side round trip from the moment a request is handed to node:http to its last response
 * byte (measured). How late the scheduler dispatched each arrival is reported separately (`lag`), so a generator
 * that could not keep up is visible instead of silently lowering the offered load.
 */
import { performance } from 'node:perf_hooks';
import {
  type EncodedInferRequest,
  failureKey,
  type KServeClient,
  type LatencySummary,
  summarizeLatencies,
} from '@swapless/adapter-kserve';
import { poissonArrivals, type RatePhase } from '@swapless/controller';

/** Options of {@link runOpenLoop}. */
export interface OpenLoopOptions {
  client: KServeClient;
  /** Tenants (name = model name on the server) with their base rates, req/s. */
  tenants: readonly { name: string; rate: number }[];
  /** Rate changes over time. */
  phases?: readonly RatePhase[];
  /** Arrivals are drawn in [0, durationMs). */
  durationMs: number;
  /** At most this many arrivals (the earliest ones). */
  maxRequests: number;
  seed: number;
  /** Encoded requests per tenant, used in turn. */
  requests: ReadonlyMap<string, readonly EncodedInferRequest[]>;
  /** Arrivals beyond this many requests in flight are dropped (counted, not sent). */
  maxInFlight: number;
  /** Called about once a second while the run lasts. */
  onProgress?: (p: LoadProgress) => void;
  /** Stops new arrivals (requests in flight still complete). */
  signal?: AbortSignal;
}

/** A progress snapshot. */
export interface LoadProgress {
  elapsedS: number;
  planned: number;
  sent: number;
  ok: number;
  failed: number;
  dropped: number;
  inFlight: number;
  /** p99 latency of the requests completed in the last second, ms (null when none). */
  recentP99Ms: number | null;
}

/** What one tenant saw. */
export interface TenantLoad {
  name: string;
  /** Base rate from the workload, req/s. */
  rate: number;
  planned: number;
  sent: number;
  ok: number;
  failed: number;
  dropped: number;
  /** Failed requests by HTTP status (`network` when no answer came). */
  errors: Record<string, number>;
  /** planned / window: the offered rate, req/s. */
  plannedPerS: number;
  sentPerS: number;
  okPerS: number;
  latencyMs: LatencySummary;
  /**
   * The same per phase of the load (by when each request was due: the first phase from 0 s, then one per phase
   * of the workload, in order).
   */
  phases: PhaseLoad[];
}

/** What one tenant saw during one phase of the load. */
export interface PhaseLoad {
  /** Start and end of the phase, s from the start of the arrivals. */
  fromS: number;
  toS: number;
  planned: number;
  sent: number;
  ok: number;
  failed: number;
  dropped: number;
  latencyMs: LatencySummary;
}

/** The result of {@link runOpenLoop}. */
export interface OpenLoopResult {
  /** Length of the arrival window, s (the duration, or up to the last arrival when maxRequests cut it short). */
  windowS: number;
  /** From the first dispatch to the last answer, s. */
  elapsedS: number;
  /** True when the run was stopped early (signal). */
  stopped: boolean;
  /** When the arrivals started (time 0 of the phases), epoch ms. */
  startedAtMs: number;
  schedule: { planned: number; lagP99Ms: number | null; lagMaxMs: number | null };
  total: Omit<TenantLoad, 'name' | 'rate' | 'phases'>;
  tenants: TenantLoad[];
}

interface Counter {
  planned: number;
  sent: number;
  ok: number;
  failed: number;
  dropped: number;
  errors: Record<string, number>;
  latencies: number[];
  next: number;
  /** Per phase: planned, sent, ok, failed, dropped and the latencies of the ok answers. */
  phases: PhaseCounter[];
}

interface PhaseCounter {
  planned: number;
  sent: number;
  ok: number;
  failed: number;
  dropped: number;
  latencies: number[];
}

/** Runs the open loop; resolves when every arrival was dispatched (or dropped) and every request answered. */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { client, tenants, maxInFlight } = options;
  const schedule = arrivalSchedule(options);
  const { merged, planned, phaseIndex, counters } = schedule;
  const lags = new Float64Array(planned);
  let inFlight = 0;
  let recent: number[] = [];
  let index = 0;
  let stopped = false;
  let lastAnswer = 0;

  const start = performance.now();
  const startedAtMs = Date.now();
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const maybeDone = () => {
    if ((index >= planned || stopped) && inFlight === 0) finish();
  };

  const send = (c: Counter, name: string, phase: PhaseCounter) => {
    const pool = options.requests.get(name)!;
    const request = pool[c.next++ % pool.length]!;
    c.sent++;
    phase.sent++;
    inFlight++;
    const t0 = performance.now();
    const settle = (status: number) => {
      const t1 = performance.now();
      lastAnswer = t1;
      inFlight--;
      countAnswer(c, phase, status, t1 - t0);
      if (status === 200) recent.push(t1 - t0);
      maybeDone();
    };
    client.send(name, request).then(
      (res) => settle(res.status),
      (err: unknown) => settle((err as { status?: number }).status ?? 0),
    );
  };

  let timer: NodeJS.Timeout | undefined;
  const dispatch = () => {
    timer = undefined;
    const now = performance.now() - start;
    while (index < planned && merged[index]!.at <= now && !stopped) {
      const a = merged[index]!;
      lags[index] = now - a.at;
      index++;
      const c = counters[a.tenant]!;
      const phase = c.phases[phaseIndex[index - 1]!]!;
      if (inFlight >= maxInFlight) {
        c.dropped++;
        phase.dropped++;
      } else send(c, tenants[a.tenant]!.name, phase);
    }
    if (index < planned && !stopped) {
      timer = setTimeout(dispatch, Math.max(0, merged[index]!.at - (performance.now() - start)));
    }
    maybeDone();
  };

  const progress = options.onProgress
    ? setInterval(() => {
        const p99 = summarizeLatencies(recent).p99Ms;
        recent = [];
        options.onProgress!({
          elapsedS: (performance.now() - start) / 1000,
          planned,
          ...totals(counters),
          inFlight,
          recentP99Ms: p99,
        });
      }, 1000)
    : undefined;
  const onAbort = () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    maybeDone();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    dispatch();
    await done;
  } finally {
    if (progress) clearInterval(progress);
    if (timer !== undefined) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }

  const windowS = stopped ? (performance.now() - start) / 1000 : Math.max(schedule.windowMs, 1e-6) / 1000;
  const lagSummary = summarizeLatencies(lags.subarray(0, index));
  return {
    windowS,
    elapsedS: ((lastAnswer || performance.now()) - start) / 1000,
    stopped,
    startedAtMs,
    schedule: { planned, lagP99Ms: lagSummary.p99Ms, lagMaxMs: lagSummary.maxMs },
    ...loadCounts(options, schedule, windowS),
  };
}

/** The arrivals of a run, in time order, with each one's phase, and the tenants' counters (planned counted). */
interface ArrivalSchedule {
  merged: { at: number; tenant: number }[];
  planned: number;
  /** The arrival window, ms: the duration, or up to the last arrival when maxRequests cut it short. */
  windowMs: number;
  /** Phase boundaries, ms: 0, then each phase's start within the duration. */
  bounds: number[];
  /** Phase of each arrival, by its index in `merged`. */
  phaseIndex: Uint16Array;
  counters: Counter[];
}

/** Draws the tenants' Poisson arrivals into one time-ordered schedule, cut to the first maxRequests. */
function arrivalSchedule(options: OpenLoopOptions): ArrivalSchedule {
  const { tenants } = options;
  const arrivals = poissonArrivals(tenants, {
    durationMs: options.durationMs,
    seed: options.seed,
    ...(options.phases ? { phases: options.phases } : {}),
  });
  // One merged, time-ordered schedule, cut to the first maxRequests arrivals.
  const merged: { at: number; tenant: number }[] = [];
  tenants.forEach((t, i) => {
    for (const at of arrivals[t.name]!) merged.push({ at, tenant: i });
  });
  merged.sort((a, b) => a.at - b.at);
  if (merged.length > options.maxRequests) merged.length = options.maxRequests;
  const planned = merged.length;
  const windowMs =
    planned === options.maxRequests && planned > 0 ? merged[planned - 1]!.at : options.durationMs;

  // Phase boundaries, ms: 0, then each phase's start within the window.
  const bounds = [
    0,
    ...(options.phases ?? [])
      .map((p) => p.atMs ?? (p.atS ?? 0) * 1000)
      .filter((at) => at > 0 && at < options.durationMs),
  ].sort((a, b) => a - b);
  const phaseOf = (at: number): number => {
    let i = 0;
    while (i + 1 < bounds.length && bounds[i + 1]! <= at) i++;
    return i;
  };
  const counters: Counter[] = tenants.map(() => ({
    planned: 0,
    sent: 0,
    ok: 0,
    failed: 0,
    dropped: 0,
    errors: {},
    latencies: [],
    next: 0,
    phases: bounds.map(() => ({ planned: 0, sent: 0, ok: 0, failed: 0, dropped: 0, latencies: [] })),
  }));
  const phaseIndex = new Uint16Array(merged.length);
  merged.forEach((a, i) => {
    phaseIndex[i] = phaseOf(a.at);
    counters[a.tenant]!.planned++;
    counters[a.tenant]!.phases[phaseIndex[i]!]!.planned++;
  });
  return { merged, planned, windowMs, bounds, phaseIndex, counters };
}

/** Counts one answer of a tenant's request, due in `phase`: ok (with its latency) or failed (by its status). */
function countAnswer(c: Counter, phase: PhaseCounter, status: number, latencyMs: number): void {
  if (status === 200) {
    c.ok++;
    phase.ok++;
    c.latencies.push(latencyMs);
    phase.latencies.push(latencyMs);
  } else {
    c.failed++;
    phase.failed++;
    const key = failureKey(status);
    c.errors[key] = (c.errors[key] ?? 0) + 1;
  }
}

/** Sent, ok, failed and dropped over every tenant. */
function totals(counters: readonly Counter[]): { sent: number; ok: number; failed: number; dropped: number } {
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let dropped = 0;
  for (const c of counters) {
    sent += c.sent;
    ok += c.ok;
    failed += c.failed;
    dropped += c.dropped;
  }
  return { sent, ok, failed, dropped };
}

/** The counts of a finished run, over all tenants and per tenant and phase, with rates over `windowS`. */
function loadCounts(
  options: OpenLoopOptions,
  { planned, bounds, counters }: ArrivalSchedule,
  windowS: number,
): Pick<OpenLoopResult, 'total' | 'tenants'> {
  const perTenant: TenantLoad[] = options.tenants.map((t, i) => {
    const c = counters[i]!;
    return {
      name: t.name,
      rate: t.rate,
      planned: c.planned,
      sent: c.sent,
      ok: c.ok,
      failed: c.failed,
      dropped: c.dropped,
      errors: c.errors,
      plannedPerS: c.planned / windowS,
      sentPerS: c.sent / windowS,
      okPerS: c.ok / windowS,
      latencyMs: summarizeLatencies(c.latencies),
      phases: c.phases.map((p, j) => ({
        fromS: bounds[j]! / 1000,
        toS: (bounds[j + 1] ?? options.durationMs) / 1000,
        planned: p.planned,
        sent: p.sent,
        ok: p.ok,
        failed: p.failed,
        dropped: p.dropped,
        latencyMs: summarizeLatencies(p.latencies),
      })),
    };
  });
  const sum = totals(counters);
  const errors: Record<string, number> = {};
  for (const c of counters) for (const [k, v] of Object.entries(c.errors)) errors[k] = (errors[k] ?? 0) + v;
  return {
    total: {
      planned,
      ...sum,
      errors,
      plannedPerS: planned / windowS,
      sentPerS: sum.sent / windowS,
      okPerS: sum.ok / windowS,
      latencyMs: summarizeLatencies(counters.flatMap((c) => c.latencies)),
    },
    tenants: perTenant,
  };
}
