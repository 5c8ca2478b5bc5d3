/**
 * The SwapLess metrics: request-level series fed by the source's events, gauges read from `source.gauges()` at
 * scrape time, and prom-client's default process metrics, all in one Registry.
 */
import { expected, InvalidArgumentError } from '@swapless/core';
import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';
import { type HistogramChild, LeanHistogram } from './histogram.js';
import type { MetricsGauges, MetricsSource, MetricsTrace } from './types.js';

/**
 * Default histogram buckets, seconds: 0.5 ms … 10 s in 1-2.5-5 steps, then 15, 30, 60 and 120 s. A tiny model's
 * stages take tens of µs to a few ms; a large model at full load, or a server in overload, may keep a request for
 * many seconds — the buckets reach past any deadline a client waits for, so `histogram_quantile` never reads a
 * clipped value at the top bucket (it would report the highest bound for every request above it).
 */
export const DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120,
]);

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Where the events and gauges come from (a service, or an object forwarding to runtime and controller). */
  source: MetricsSource;
  /** Registry to register in (default: a new one, so two instances never collide). */
  registry?: Registry;
  /** Prefix of the SwapLess series (default `swapless_`); prom-client's default metrics keep their own names. */
  prefix?: string;
  /**
   * Register prom-client's default process metrics (`process_*`, `nodejs_*`) in the registry (default true;
   * skipped when the registry already has them).
   */
  defaultMetrics?: boolean;
  /** Histogram buckets in seconds, ascending (default {@link DEFAULT_BUCKETS}). */
  buckets?: readonly number[];
}

/** What {@link createMetrics} returns. */
export interface Metrics {
  /** The registry holding every series (pass it to other prom-client code to add your own). */
  readonly registry: Registry;
  /** Content type of {@link Metrics.text}: Prometheus text format 0.0.4. */
  readonly contentType: string;
  /** The exposition text (reads `source.gauges()` once). */
  text(): Promise<string>;
  /** Events the adapter could not record because they were malformed (also `<prefix>metrics_dropped_events_total`). */
  readonly droppedEvents: number;
  /** Stops listening to the source and removes this instance's series from the registry. Idempotent. */
  close(): void;
}

/**
 * prom-client default metrics left out: each scrape of them walks every open handle, request or resource of the
 * process (`process._getActiveHandles()` and friends), so their cost grows with the connections a loaded server
 * holds — tens of ms of event loop per scrape with a thousand sockets — and `promtool check metrics` rejects the
 * `*_total` gauges among them.
 */
export const EXCLUDED_DEFAULT_METRICS: readonly string[] = Object.freeze([
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_requests',
  'nodejs_active_requests_total',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
]);

const TIMINGS = ['emulated', 'measured'] as const;
const EMULATED = 0;
const MEASURED = 1;
const STAGES = ['tpu_wait', 'tpu', 'cpu_wait', 'cpu'] as const;

/** Everything recorded for one tenant; its histogram children are resolved once and kept here. */
class TenantState {
  ok = 0;
  error = 0;
  expired = 0;
  rejected = 0;
  reloads = 0;
  /** Listed by `source.gauges()` at some scrape: absent from a later one means removed. */
  listed = false;
  /** Request duration children by timing index. */
  readonly duration: (HistogramChild | null)[] = [null, null];
  /** Stage children by `stage index * 2 + timing index`. */
  readonly stages: (HistogramChild | null)[] = [null, null, null, null, null, null, null, null];
  /** Device of the cached Edge TPU stage children (a tenant that moves to another device gets new ones). */
  device = '';
  /** Emulation compute and lag children. */
  emulationCompute: HistogramChild | null = null;
  emulationLag: HistogramChild | null = null;
  constructor(readonly name: string) {}
}

const PREFIX = /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

function validate(options: MetricsOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(expected('an options object', 'createMetrics', options));
  }
  const { source, prefix, buckets, registry } = options;
  if (
    source === null ||
    typeof source !== 'object' ||
    typeof source.on !== 'function' ||
    typeof source.gauges !== 'function'
  ) {
    throw new InvalidArgumentError(
      expected('an object with on() and gauges()', 'createMetrics option source', source),
    );
  }
  if (prefix !== undefined && (typeof prefix !== 'string' || !PREFIX.test(prefix))) {
    throw new InvalidArgumentError(
      expected('a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)', 'option prefix', prefix),
    );
  }
  if (registry !== undefined && !(registry instanceof Registry)) {
    throw new InvalidArgumentError(expected('a prom-client Registry', 'option registry', registry));
  }
  if (buckets !== undefined) {
    const ok =
      Array.isArray(buckets) &&
      buckets.length > 0 &&
      buckets.every((b, i) => Number.isFinite(b) && b > 0 && (i === 0 || b > buckets[i - 1]!));
    if (!ok) {
      throw new InvalidArgumentError(
        expected('a non-empty ascending array of positive numbers (seconds)', 'option buckets', buckets),
      );
    }
  }
}

/**
 * Creates the SwapLess metrics over a source. Request events update plain per-tenant counters and histogram
 * children (no allocation per event); gauges, counters and tenant removal are settled when a scrape reads them.
 *
 * A tenant that `source.gauges()` listed at an earlier scrape and no longer lists has been removed: all its series
 * (counters and histograms included) stop being reported. A tenant that only ever appeared in events between two
 * scrapes is kept.
 *
 * @throws InvalidArgumentError (SWAPLESS_INVALID_ARGUMENT) for a bad source, prefix, registry or buckets, or when
 *   a series of the same name is already in the registry.
 */
export function createMetrics(options: MetricsOptions): Metrics {
  validate(options);
  const { source } = options;
  const prefix = options.prefix ?? 'swapless_';
  const registry = options.registry ?? new Registry();
  const rec: Recorded = {
    tenants: new Map(),
    reconfigurations: new Map(),
    replans: new Map(),
    deviceBusyMs: new Map(),
    dropped: 0,
  };

  // One gauges() read per scrape, shared by every metric's collect (the registry calls them all synchronously
  // before its first await, so a microtask marks the end of a scrape).
  let snapshot: MetricsGauges | null | undefined;
  const scrape = (): MetricsGauges | null => {
    if (snapshot !== undefined) return snapshot;
    try {
      const g = source.gauges();
      snapshot = g !== null && typeof g === 'object' && Array.isArray(g.tenants) ? g : null;
    } catch {
      snapshot = null;
    }
    if (snapshot !== null) sweep(rec, histograms, snapshot);
    queueMicrotask(() => {
      snapshot = undefined;
    });
    return snapshot;
  };

  // Checked up front so a failure registers nothing.
  checkFree(
    registry,
    SERIES.map((s) => `${prefix}${s}`),
  );
  const define = seriesDefiner(registry, prefix, options.buckets ?? DEFAULT_BUCKETS, scrape);
  const histograms = registerSeries(define, rec);
  const defaultNames = options.defaultMetrics !== false ? registerDefaultMetrics(registry) : [];

  const on = eventHandlers(rec, histograms);
  source.on('request', on.request);
  source.on('reject', on.reject);
  source.on('reload', on.reload);
  source.on('reconfigure', on.reconfigure);
  source.on('decision', on.decision);

  let closed = false;
  return {
    registry,
    get contentType() {
      return registry.contentType;
    },
    text: () => registry.metrics(),
    get droppedEvents() {
      return rec.dropped;
    },
    close() {
      if (closed) return;
      closed = true;
      if (typeof source.off === 'function') {
        const off = source.off.bind(source) as (event: string, fn: (...args: never[]) => void) => unknown;
        off('request', on.request);
        off('reject', on.reject);
        off('reload', on.reload);
        off('reconfigure', on.reconfigure);
        off('decision', on.decision);
      }
      for (const name of [...define.names, ...defaultNames]) registry.removeSingleMetric(name);
    },
  };
}

/** What the source's events recorded, settled into the series when a scrape reads them. */
interface Recorded {
  readonly tenants: Map<string, TenantState>;
  /** Reconfiguration steps by phase. */
  readonly reconfigurations: Map<string, number>;
  /** Controller decisions by trigger. */
  readonly replans: Map<string, number>;
  /** Device time per Edge TPU id, ms, as the last scrape's snapshot read it. */
  readonly deviceBusyMs: Map<string, number>;
  /** Malformed events. */
  dropped: number;
}

/** The histograms the events observe into. */
interface Histograms {
  readonly duration: LeanHistogram;
  readonly stages: LeanHistogram;
  readonly decision: HistogramChild;
  readonly emulationCompute: LeanHistogram;
  readonly emulationLag: LeanHistogram;
}

/** Defines the prefixed series in the registry; `names` lists what it registered (for close()). */
interface SeriesDefiner {
  readonly names: string[];
  counter(name: string, help: string, labelNames: string[], collect: (c: Counter) => void): Counter;
  gauge: SnapshotGauge;
  histogram(name: string, help: string, labelNames: string[]): LeanHistogram;
}

/**
 * Series that settle when a scrape reads them: counters and gauges reset and refill from `collect` (gauges only
 * when the scrape's snapshot could be read), histograms are prom-client-free LeanHistograms.
 */
function seriesDefiner(
  registry: Registry,
  prefix: string,
  buckets: readonly number[],
  scrape: () => MetricsGauges | null,
): SeriesDefiner {
  const n = (s: string) => `${prefix}${s}`;
  const names: string[] = [];
  const register = (metric: object, name: string): void => {
    registry.registerMetric(metric as Metric);
    names.push(name);
  };
  return {
    names,
    counter(name, help, labelNames, collect) {
      const c: Counter = new Counter({
        name: n(name),
        help,
        labelNames,
        registers: [],
        collect() {
          scrape();
          c.reset();
          collect(c);
        },
      });
      register(c, n(name));
      return c;
    },
    gauge(name, help, labelNames, collect) {
      const g: Gauge = new Gauge({
        name: n(name),
        help,
        labelNames,
        registers: [],
        collect() {
          const s = scrape();
          g.reset();
          if (s !== null) collect(g, s);
        },
      });
      register(g, n(name));
      return g;
    },
    histogram(name, help, labelNames) {
      const h = new LeanHistogram(n(name), help, labelNames, buckets, scrape);
      register(h, h.name);
      return h;
    },
  };
}

/** Registers every SwapLess series, in exposition order; the counters read `rec` when scraped. */
function registerSeries(define: SeriesDefiner, rec: Recorded): Histograms {
  const { counter, histogram } = define;
  counter(
    'requests_total',
    'Requests by outcome: ok (completed), error (failed after admission), expired (admitted, then dropped before it ran because it could no longer finish by its deadline), rejected (refused at admission).',
    ['tenant', 'outcome'],
    (c) => {
      for (const s of rec.tenants.values()) {
        c.inc({ tenant: s.name, outcome: 'ok' }, s.ok);
        c.inc({ tenant: s.name, outcome: 'error' }, s.error);
        c.inc({ tenant: s.name, outcome: 'expired' }, s.expired);
        c.inc({ tenant: s.name, outcome: 'rejected' }, s.rejected);
      }
    },
  );
  const duration = histogram(
    'request_duration_seconds',
    'End-to-end latency of completed requests (admission to completion). timing=emulated when the Edge TPU stage was emulated, measured otherwise.',
    ['tenant', 'timing'],
  );
  const stages = histogram(
    'stage_duration_seconds',
    'Per-stage time of completed requests: tpu_wait (Edge TPU queue), tpu (Edge TPU device time), cpu_wait (CPU queue), cpu (CPU stage incl. hand-back). TPU stages carry the backend timing and the device that ran them; CPU stages are always measured. With the functional emulator, the wait for head outputs after the device is done is in emulation_lag_seconds.',
    ['tenant', 'stage', 'timing', 'device'],
  );
  snapshotGauges(define.gauge);
  counter(
    'tpu_reloads_total',
    "Edge TPU reloads: the device held another head's caching token and re-uploaded this tenant's cached parameters.",
    ['tenant'],
    (c) => {
      for (const s of rec.tenants.values()) c.inc({ tenant: s.name }, s.reloads);
    },
  );
  counter(
    'device_busy_seconds_total',
    'Device time of each Edge TPU: its utilisation is the rate of this counter (rate(...[1m]) = busy share).',
    ['device'],
    (c) => {
      for (const [device, ms] of rec.deviceBusyMs) c.inc({ device }, ms / 1000);
    },
  );
  counter(
    'reconfigurations_total',
    'Runtime reconfiguration steps by phase (prepared, switched, retired, failed).',
    ['phase'],
    (c) => {
      for (const [phase, v] of rec.reconfigurations) c.inc({ phase }, v);
    },
  );
  const decision = histogram(
    'controller_decision_seconds',
    'Time of one controller decision (policy tick), measured.',
    [],
  ).child();
  counter(
    'replans_total',
    'Controller decisions by reason: initial, tick (the policy found a better configuration), tenant-added, tenant-removed, divergence (predicted and measured response diverged).',
    ['reason'],
    (c) => {
      for (const [reason, v] of rec.replans) c.inc({ reason }, v);
    },
  );
  const emulationCompute = histogram(
    'emulation_compute_seconds',
    "Host time computing a head's outputs with the functional Edge TPU emulator (not device time: the emulated device is busy for its modelled time only).",
    ['tenant'],
  );
  const emulationLag = histogram(
    'emulation_lag_seconds',
    "How long a head's outputs came after the emulated Edge TPU was done (0 when the host kept up); measured latencies include it, a real device would not add it.",
    ['tenant'],
  );
  counter(
    'metrics_dropped_events_total',
    'Source events the metrics adapter could not record (malformed).',
    [],
    (c) => {
      c.inc(rec.dropped);
    },
  );
  return { duration, stages, decision, emulationCompute, emulationLag };
}

/** The tenant's state, created on first sight. */
function tenantState(tenants: Map<string, TenantState>, name: string): TenantState {
  let s = tenants.get(name);
  if (s === undefined) {
    s = new TenantState(name);
    tenants.set(name, s);
  }
  return s;
}

/** Marks the tenants the snapshot lists; one listed before and not now is removed with all its series. */
function sweep(rec: Recorded, h: Histograms, g: MetricsGauges): void {
  const listed = new Set<string>();
  for (const t of g.tenants) {
    if (t === null || typeof t !== 'object' || typeof t.name !== 'string') continue;
    listed.add(t.name);
    tenantState(rec.tenants, t.name).listed = true;
  }
  if (Array.isArray(g.devices)) {
    for (const d of g.devices) {
      if (typeof d?.id === 'string' && Number.isFinite(d.busyMs)) rec.deviceBusyMs.set(d.id, d.busyMs);
    }
  }
  for (const s of rec.tenants.values()) {
    if (!s.listed || listed.has(s.name)) continue;
    rec.tenants.delete(s.name);
    h.duration.removeWhere('tenant', s.name);
    h.stages.removeWhere('tenant', s.name);
    h.emulationCompute.removeWhere('tenant', s.name);
    h.emulationLag.removeWhere('tenant', s.name);
  }
}

/**
 * The listeners of the source's events. The hot path (`request`): one Map lookup, one to five histogram
 * observations, no allocation once a tenant's children exist. A malformed event is counted and dropped, never
 * thrown into the runtime's completion path.
 */
function eventHandlers(rec: Recorded, h: Histograms) {
  const { tenants, reconfigurations, replans } = rec;
  const stage = (s: TenantState, i: number, timing: number): HistogramChild => {
    const slot = i * 2 + timing;
    let c = s.stages[slot];
    if (c === null || c === undefined) {
      // Edge TPU stages (0, 1) carry the device when the trace names one; CPU stages none.
      const labels = [s.name, STAGES[i]!, TIMINGS[timing]!];
      if (i < 2 && s.device !== '') labels.push(s.device);
      c = h.stages.child(...labels);
      s.stages[slot] = c;
    }
    return c;
  };
  const request = (t: MetricsTrace): void => {
    try {
      if (typeof t.tenant !== 'string' || typeof t.latencyMs !== 'number')
        throw new TypeError('malformed trace');
      const s = tenants.get(t.tenant) ?? tenantState(tenants, t.tenant);
      if (t.error !== undefined) {
        if (t.expired === true) s.expired++;
        else s.error++;
        return;
      }
      const tpu = t.tpu;
      const timing = tpu !== null && tpu.backend === 'emulated' ? EMULATED : MEASURED;
      let d = s.duration[timing];
      if (d === null || d === undefined) {
        d = h.duration.child(s.name, TIMINGS[timing]!);
        s.duration[timing] = d;
      }
      d.observeMs(t.latencyMs);
      if (tpu !== null) {
        const device = typeof tpu.device === 'string' ? tpu.device : '';
        if (device !== s.device) {
          // Moved to another device: its Edge TPU stages go to that device's series from now on.
          s.device = device;
          s.stages.fill(null, 0, 4);
        }
        stage(s, 0, timing).observeMs(tpu.startMs - tpu.enqueuedMs);
        stage(s, 1, timing).observeMs((tpu.deviceEndMs ?? tpu.endMs) - tpu.startMs);
        const e = tpu.emulation;
        if (e != null) {
          s.emulationCompute ??= h.emulationCompute.child(s.name);
          s.emulationLag ??= h.emulationLag.child(s.name);
          s.emulationCompute.observeMs(e.computeMs);
          s.emulationLag.observeMs(e.lagMs);
        }
      }
      const cpu = t.cpu;
      if (cpu !== null) {
        stage(s, 2, MEASURED).observeMs(cpu.startMs - cpu.enqueuedMs);
        stage(s, 3, MEASURED).observeMs(cpu.endMs - cpu.startMs);
      }
      s.ok++;
    } catch {
      rec.dropped++;
    }
  };
  const reject = (e: { tenant: string }): void => {
    if (e !== null && typeof e === 'object' && typeof e.tenant === 'string')
      tenantState(tenants, e.tenant).rejected++;
    else rec.dropped++;
  };
  const reload = (e: { tenant: string }): void => {
    if (e !== null && typeof e === 'object' && typeof e.tenant === 'string')
      tenantState(tenants, e.tenant).reloads++;
    else rec.dropped++;
  };
  const reconfigure = (e: { phase: string }): void => {
    if (e !== null && typeof e === 'object' && typeof e.phase === 'string') {
      reconfigurations.set(e.phase, (reconfigurations.get(e.phase) ?? 0) + 1);
    } else rec.dropped++;
  };
  const decision = (e: { decisionMs: number; trigger?: string }): void => {
    if (e !== null && typeof e === 'object' && Number.isFinite(e.decisionMs)) {
      h.decision.observeMs(e.decisionMs);
      if (typeof e.trigger === 'string') replans.set(e.trigger, (replans.get(e.trigger) ?? 0) + 1);
    } else rec.dropped++;
  };
  return { request, reject, reload, reconfigure, decision };
}

function setGauge(g: Gauge, tenant: unknown, value: unknown): void {
  if (typeof tenant === 'string' && typeof value === 'number' && Number.isFinite(value))
    g.set({ tenant }, value);
}

/** The series createMetrics registers, after the prefix. */
const SERIES = [
  'requests_total',
  'request_duration_seconds',
  'stage_duration_seconds',
  'tenant_in_flight',
  'tpu_queue_depth',
  'device_queue_depth',
  'tenant_device_info',
  'tpu_reloads_total',
  'device_busy_seconds_total',
  'reconfigurations_total',
  'controller_decision_seconds',
  'tenant_partition_point',
  'tenant_cpu_cores',
  'tenant_rate_per_second',
  'tenant_predicted_latency_seconds',
  'prediction_divergence_ratio',
  'replans_total',
  'backend_info',
  'emulation_compute_seconds',
  'emulation_lag_seconds',
  'emulation_lagging',
  'host_busy_cores',
  'metrics_dropped_events_total',
];

/** Throws when `registry` already has a series of one of `names` (then nothing has been registered yet). */
function checkFree(registry: Registry, names: readonly string[]): void {
  for (const name of names) {
    if (registry.getSingleMetric(name) !== undefined) {
      throw new InvalidArgumentError(
        expected(`a registry without a series named ${name}`, 'createMetrics option registry', registry),
        { details: { reason: 'duplicate-series', name } },
      );
    }
  }
}

/** Defines a gauge read from the scrape's snapshot of the source (see createMetrics). */
type SnapshotGauge = (
  name: string,
  help: string,
  labelNames: string[],
  collect: (g: Gauge, s: MetricsGauges) => void,
) => Gauge;

/** A per-tenant info gauge (value 1) labelled `tenant` and `label`: one series per tenant `pick` gives a string for. */
function tenantInfo(
  gauge: SnapshotGauge,
  name: string,
  help: string,
  label: string,
  pick: (t: MetricsGauges['tenants'][number]) => unknown,
): void {
  gauge(name, help, ['tenant', label], (g, s) => {
    for (const t of s.tenants) {
      const value = pick(t);
      if (typeof t.name === 'string' && typeof value === 'string')
        g.set({ tenant: t.name, [label]: value }, 1);
    }
  });
}

/** The gauges that only read the source's snapshot: per-tenant state, the TPU queue, backend and emulation. */
function snapshotGauges(gauge: SnapshotGauge): void {
  gauge('tenant_in_flight', 'Requests admitted and not completed.', ['tenant'], (g, s) => {
    for (const t of s.tenants) setGauge(g, t.name, t.inFlight);
  });
  gauge('tpu_queue_depth', 'Requests waiting for the Edge TPU (all devices).', [], (g, s) => {
    if (Number.isFinite(s.tpuQueued)) g.set(s.tpuQueued);
  });
  gauge('device_queue_depth', 'Requests waiting for each Edge TPU.', ['device'], (g, s) => {
    for (const d of s.devices ?? []) {
      if (typeof d?.id === 'string' && Number.isFinite(d.queued)) g.set({ device: d.id }, d.queued);
    }
  });
  tenantInfo(
    gauge,
    'tenant_device_info',
    "The Edge TPU the tenant's head runs on (value 1).",
    'device',
    (t) => t.device,
  );
  tenantInfo(
    gauge,
    'tenant_head_set_info',
    "The co-compiled head set the tenant's head runs in (value 1): its members in compile order joined by +; absent when compiled alone.",
    'set',
    (t) => t.set,
  );
  gauge(
    'tpu_reorder_budget_seconds',
    "The Edge TPU queue discipline in force: the switch-aware discipline's bound on a call's extra wait beyond its FIFO position (0: FIFO).",
    [],
    (g, s) => {
      const ms = s.tpuReorderBudgetMs;
      if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) g.set(ms / 1000);
    },
  );
  gauge(
    'tenant_partition_point',
    'Partition point k: ops [0,k) run on the Edge TPU, [k,n) on the CPU.',
    ['tenant'],
    (g, s) => {
      for (const t of s.tenants) setGauge(g, t.name, t.k);
    },
  );
  gauge('tenant_cpu_cores', "CPU cores of the tenant's CPU stage.", ['tenant'], (g, s) => {
    for (const t of s.tenants) setGauge(g, t.name, t.cores);
  });
  gauge('tenant_rate_per_second', 'Estimated arrival rate, requests per second.', ['tenant'], (g, s) => {
    for (const t of s.tenants) setGauge(g, t.name, t.ratePerS);
  });
  gauge(
    'tenant_predicted_latency_seconds',
    "The latency model's predicted mean response time for the current configuration (absent when none).",
    ['tenant'],
    (g, s) => {
      for (const t of s.tenants) if (t.predictedMs !== null) setGauge(g, t.name, t.predictedMs / 1000);
    },
  );
  gauge(
    'prediction_divergence_ratio',
    "Measured / predicted mean response of the tenant over the controller's divergence window (10 s of completions); absent when too few completed. Beyond 0.75..1.25 for 10 s the controller re-plans.",
    ['tenant'],
    (g, s) => {
      for (const t of s.tenants) if (typeof t.divergence === 'number') setGauge(g, t.name, t.divergence);
    },
  );
  gauge(
    'backend_info',
    'The Edge TPU backend serving the TPU stages (value 1): emulated or edgetpu.',
    ['backend'],
    (g, s) => {
      if (typeof s.backend === 'string') g.set({ backend: s.backend }, 1);
    },
  );
  gauge(
    'emulation_lagging',
    'The functional emulator computes heads slower than the device it emulates on more than 10 % of the calls of the last 10 s (1) or not (0); absent without emulation.',
    [],
    (g, s) => {
      if (typeof s.emulationLagging === 'boolean') g.set(s.emulationLagging ? 1 : 0);
    },
  );
  gauge(
    'host_busy_cores',
    "The host's busy cores over the last controller tick as the predictions share them (with the functional emulator only): part=measured (the whole host, niced processes left out), modelled (the CPU stages and emulation pool of the configuration in force, predicted), other (the rest: main thread, load generators, other processes; a moving average).",
    ['part'],
    (g, s) => {
      const h = s.hostBusyCores;
      if (h === null || h === undefined) return;
      if (typeof h.measured === 'number') g.set({ part: 'measured' }, h.measured);
      g.set({ part: 'modelled' }, h.modelled);
      g.set({ part: 'other' }, h.other);
    },
  );
}

/**
 * Registers prom-client's default process metrics in `registry` (unless it has them already) and returns the names
 * added. Left out: the `nodejs_active_*` gauges (EXCLUDED_DEFAULT_METRICS: costly per scrape), and any other
 * default metric named `_total` that is not a counter (a `_total` name promises one; `promtool check metrics`
 * enforces it).
 */
function registerDefaultMetrics(registry: Registry): string[] {
  const defaultNames: string[] = [];
  if (registry.getSingleMetric('process_cpu_user_seconds_total') !== undefined) return defaultNames;
  const before = new Set(registry.getMetricsAsArray().map((m) => m.name));
  collectDefaultMetrics({ register: registry });
  for (const m of registry.getMetricsAsArray()) {
    if (before.has(m.name)) continue;
    if (
      EXCLUDED_DEFAULT_METRICS.includes(m.name) ||
      (m.name.endsWith('_total') && String(m.type) !== 'counter')
    ) {
      registry.removeSingleMetric(m.name);
    } else defaultNames.push(m.name);
  }
  return defaultNames;
}
