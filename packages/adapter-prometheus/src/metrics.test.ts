import { EventEmitter } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, InvalidArgumentError } from '@swapless/core';
import { buildTestNet } from '@swapless/int8-builder';
import { createRuntime, type RequestTrace, type Runtime } from '@swapless/runtime';
import { createService } from '@swapless/service';
import { SeededRandom, writeModel } from '@swapless/tflite';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMetrics,
  DEFAULT_BUCKETS,
  EXCLUDED_DEFAULT_METRICS,
  type Metrics,
  type MetricsGauges,
  type MetricsSource,
  metricsRoutes,
} from './index.js';
import { expectedHistogram, find, one, parseExposition, type Sample } from './test-support.js';

const P = 'swapless_';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function input(seed: number): Int8Array {
  const a = new Int8Array(16 * 16 * 3);
  new SeededRandom(seed).fillUniformInt8(a);
  return a;
}

/** A source over a real runtime: its events, a controller's decision events, and gauges from its stats. */
function runtimeSource(rt: Runtime, decisions: EventEmitter): MetricsSource {
  const emitterOf = (event: string): EventEmitter => (event === 'decision' ? decisions : rt);
  return {
    on(event: string, fn: (...args: never[]) => void) {
      return emitterOf(event).on(event, fn as (...args: unknown[]) => void);
    },
    off(event: string, fn: (...args: unknown[]) => void) {
      return emitterOf(event).off(event, fn);
    },
    gauges(): MetricsGauges {
      const s = rt.stats();
      return {
        tenants: Object.entries(s.tenants).map(([name, t]) => ({
          name,
          k: t.choice.k,
          cores: t.choice.cores,
          inFlight: t.inFlight,
          ratePerS: name === 'a' ? 12.5 : 3,
          predictedMs: name === 'a' ? 4.5 : null,
        })),
        tpuQueued: s.tpu.queued,
        backend: s.backend,
        emulationLagging: s.emulation === null ? null : s.emulation.lagging > 0,
      };
    },
  };
}

/** Checks every bucket, the sum and the count of one histogram label set against the durations it was fed. */
function expectHistogram(
  samples: Sample[],
  name: string,
  labels: Record<string, string>,
  durationsMs: number[],
) {
  const want = expectedHistogram(durationsMs, DEFAULT_BUCKETS);
  for (const [le, count] of want.buckets) {
    expect(
      one(samples, `${name}_bucket`, { ...labels, le }),
      `${name} ${JSON.stringify(labels)} le=${le}`,
    ).toBe(count);
  }
  expect(one(samples, `${name}_sum`, labels)).toBeCloseTo(want.sum, 9);
  expect(one(samples, `${name}_count`, labels)).toBe(want.count);
}

describe('createMetrics over a real runtime', () => {
  it('reports every series with the values of the real traces, and serves them over real HTTP', async () => {
    // timeScale 0: the emulator keeps its modelled breakdowns without waiting them out (a short test).
    const rt = await createRuntime({ cores: 2, queueLimit: 4, emulator: { timeScale: 0 } });
    cleanups.push(() => rt.close());
    await rt.addTenant({ name: 'a', model: writeModel(buildTestNet(0)), choice: { k: 4, cores: 1 } });
    await rt.addTenant({ name: 'b', model: writeModel(buildTestNet(7)), choice: { k: 0, cores: 1 } });
    const decisions = new EventEmitter();
    const metrics = createMetrics({ source: runtimeSource(rt, decisions) });
    cleanups.push(() => metrics.close());

    const traces: RequestTrace[] = [];
    rt.on('request', (t) => traces.push(t));
    let reloads = 0;
    rt.on('reload', (e) => {
      if (e.tenant === 'a') reloads++;
    });
    const phases = new Map<string, number>();
    rt.on('reconfigure', (e) => phases.set(e.phase, (phases.get(e.phase) ?? 0) + 1));

    // Bursts larger than the queue bound: some requests are refused at admission (outcome="rejected").
    let rejected = 0;
    for (let round = 0; round < 6; round++) {
      const jobs = Array.from({ length: 10 }, (_, i) =>
        rt.submit(i % 2 === 0 ? 'a' : 'b', [input(i)]).then(
          () => undefined,
          (error: { code?: string }) => {
            expect(error.code).toBe(ErrorCodes.OVERLOADED);
            rejected++;
          },
        ),
      );
      await Promise.all(jobs);
      // A head for b too (so a and b take turns on the device and reload each other's parameters).
      if (round === 2) await rt.reconfigure({ tenants: [{ name: 'b', k: 6, cores: 1 }] });
    }
    decisions.emit('decision', { decisionMs: 0.8, applied: true });
    decisions.emit('decision', { decisionMs: 30, applied: false });
    expect(rejected).toBeGreaterThan(0);

    const { samples, types } = parseExposition(await metrics.text());
    const byTenant = (name: string) => traces.filter((t) => t.tenant === name);

    // Counters.
    for (const name of ['a', 'b']) {
      expect(one(samples, `${P}requests_total`, { tenant: name, outcome: 'ok' })).toBe(byTenant(name).length);
      expect(one(samples, `${P}requests_total`, { tenant: name, outcome: 'error' })).toBe(0);
    }
    const rejectedA = rt.stats().tenants.a!.rejected.overloaded;
    const rejectedB = rt.stats().tenants.b!.rejected.overloaded;
    expect(rejectedA + rejectedB).toBe(rejected);
    expect(one(samples, `${P}requests_total`, { tenant: 'a', outcome: 'rejected' })).toBe(rejectedA);
    expect(one(samples, `${P}requests_total`, { tenant: 'b', outcome: 'rejected' })).toBe(rejectedB);
    expect(reloads).toBeGreaterThan(0);
    expect(one(samples, `${P}tpu_reloads_total`, { tenant: 'a' })).toBe(reloads);
    expect(phases.get('switched')).toBe(1);
    for (const [phase, count] of phases)
      expect(one(samples, `${P}reconfigurations_total`, { phase })).toBe(count);

    // Histograms: every bucket, sum and count, per tenant, timing and stage, from the traces themselves.
    for (const name of ['a', 'b']) {
      for (const timing of ['emulated', 'measured'] as const) {
        const ts = byTenant(name).filter((t) => (t.tpu !== null ? 'emulated' : 'measured') === timing);
        if (ts.length === 0) {
          expect(find(samples, `${P}request_duration_seconds_count`, { tenant: name, timing })).toEqual([]);
          continue;
        }
        const labels = { tenant: name, timing };
        expectHistogram(
          samples,
          `${P}request_duration_seconds`,
          labels,
          ts.map((t) => t.latencyMs),
        );
        const withTpu = ts.filter((t) => t.tpu !== null);
        if (withTpu.length > 0) {
          expectHistogram(
            samples,
            `${P}stage_duration_seconds`,
            // Edge TPU stages carry the device that ran them (the runtime's one device here).
            { ...labels, stage: 'tpu_wait', device: 'tpu0' },
            withTpu.map((t) => t.tpu!.startMs - t.tpu!.enqueuedMs),
          );
          expectHistogram(
            samples,
            `${P}stage_duration_seconds`,
            { ...labels, stage: 'tpu', device: 'tpu0' },
            // Device time: the wait for the emulator's outputs after it is in emulation_lag_seconds.
            withTpu.map((t) => t.tpu!.deviceEndMs - t.tpu!.startMs),
          );
        }
      }
      // The functional emulator's host work, per tenant, from the traces' emulation parts.
      const emulated = byTenant(name).filter((t) => t.tpu?.emulation != null);
      expect(emulated.length).toBeGreaterThan(0);
      expectHistogram(
        samples,
        `${P}emulation_compute_seconds`,
        { tenant: name },
        emulated.map((t) => t.tpu!.emulation!.computeMs),
      );
      expectHistogram(
        samples,
        `${P}emulation_lag_seconds`,
        { tenant: name },
        emulated.map((t) => t.tpu!.emulation!.lagMs),
      );
      // CPU stages are always measured, whatever backend ran the head.
      const withCpu = byTenant(name).filter((t) => t.cpu !== null);
      expectHistogram(
        samples,
        `${P}stage_duration_seconds`,
        { tenant: name, stage: 'cpu_wait', timing: 'measured' },
        withCpu.map((t) => t.cpu!.startMs - t.cpu!.enqueuedMs),
      );
      expectHistogram(
        samples,
        `${P}stage_duration_seconds`,
        { tenant: name, stage: 'cpu', timing: 'measured' },
        withCpu.map((t) => t.cpu!.endMs - t.cpu!.startMs),
      );
      expect(
        find(samples, `${P}stage_duration_seconds_count`, { tenant: name, stage: 'cpu', timing: 'emulated' }),
      ).toEqual([]);
    }
    // b ran at k = 0 (no TPU stage: measured) and at k = 6 (emulated head): both label values are present.
    expect(
      one(samples, `${P}request_duration_seconds_count`, { tenant: 'b', timing: 'measured' }),
    ).toBeGreaterThan(0);
    expect(
      one(samples, `${P}request_duration_seconds_count`, { tenant: 'b', timing: 'emulated' }),
    ).toBeGreaterThan(0);
    expectHistogram(samples, `${P}controller_decision_seconds`, {}, [0.8, 30]);

    // Gauges, read from the source at scrape time.
    expect(one(samples, `${P}tenant_partition_point`, { tenant: 'a' })).toBe(4);
    expect(one(samples, `${P}tenant_partition_point`, { tenant: 'b' })).toBe(6);
    expect(one(samples, `${P}tenant_cpu_cores`, { tenant: 'a' })).toBe(1);
    expect(one(samples, `${P}tenant_in_flight`, { tenant: 'a' })).toBe(0);
    expect(one(samples, `${P}tenant_rate_per_second`, { tenant: 'a' })).toBe(12.5);
    expect(one(samples, `${P}tenant_predicted_latency_seconds`, { tenant: 'a' })).toBeCloseTo(0.0045, 12);
    // No prediction: no series (rather than a made-up value).
    expect(find(samples, `${P}tenant_predicted_latency_seconds`, { tenant: 'b' })).toEqual([]);
    expect(one(samples, `${P}tpu_queue_depth`)).toBe(0);
    expect(one(samples, `${P}backend_info`, { backend: 'emulated' })).toBe(1);
    expect(one(samples, `${P}emulation_lagging`)).toBe(rt.stats().emulation!.lagging > 0 ? 1 : 0);
    expect(one(samples, `${P}metrics_dropped_events_total`)).toBe(0);

    // Types, and prom-client's default process metrics in the same registry.
    expect(types.get(`${P}requests_total`)).toBe('counter');
    expect(types.get(`${P}request_duration_seconds`)).toBe('histogram');
    expect(types.get(`${P}stage_duration_seconds`)).toBe('histogram');
    expect(types.get(`${P}controller_decision_seconds`)).toBe('histogram');
    expect(types.get(`${P}tenant_partition_point`)).toBe('gauge');
    expect(types.get(`${P}tpu_queue_depth`)).toBe('gauge');
    expect(types.get(`${P}emulation_lag_seconds`)).toBe('histogram');
    expect(types.get(`${P}emulation_lagging`)).toBe('gauge');
    expect(one(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(find(samples, 'nodejs_heap_size_used_bytes').length).toBe(1);
    // Those whose cost grows with the open handles are left out.
    for (const name of EXCLUDED_DEFAULT_METRICS) expect(types.has(name), name).toBe(false);
    expect(types.has('nodejs_eventloop_lag_seconds')).toBe(true);

    // The route: real fastify on a loopback port, real HTTP.
    const app = Fastify();
    cleanups.push(() => app.close());
    await metricsRoutes(app, { metrics });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const served = parseExposition(await res.text()).samples;
    expect(one(served, `${P}requests_total`, { tenant: 'a', outcome: 'ok' })).toBe(byTenant('a').length);
    expect(one(served, `${P}tenant_partition_point`, { tenant: 'b' })).toBe(6);

    // A removed tenant stops being reported (its counters and histograms included); the other keeps its values.
    const okB = byTenant('b').length;
    await rt.removeTenant('a');
    const after = parseExposition(await metrics.text()).samples;
    expect(after.filter((s) => s.labels.tenant === 'a')).toEqual([]);
    expect(one(after, `${P}requests_total`, { tenant: 'b', outcome: 'ok' })).toBe(okB);
    expect(one(after, `${P}tenant_partition_point`, { tenant: 'b' })).toBe(6);
  });
});

describe('createMetrics over a real @swapless/service', () => {
  it('takes the Service itself as its source: request, decision and gauge series match the service', async () => {
    const previousCache = process.env.SWAPLESS_CACHE_DIR;
    process.env.SWAPLESS_CACHE_DIR = await mkdtemp(join(tmpdir(), 'swapless-prometheus-cache-'));
    cleanups.push(() => {
      if (previousCache === undefined) delete process.env.SWAPLESS_CACHE_DIR;
      else process.env.SWAPLESS_CACHE_DIR = previousCache;
    });
    const service = await createService({
      cores: 1,
      tickMs: 3_600_000,
      profiling: { repetitions: 3, maxCuts: 4 },
      emulator: { timeScale: 0 },
    });
    cleanups.push(() => service.close());
    const metrics = createMetrics({ source: service }); // no adapter object: the Service is a MetricsSource
    cleanups.push(() => metrics.close());
    await service.addTenant({
      name: 'cam',
      model: writeModel(buildTestNet(0)),
      source: 'test:net-0',
      rate: 20,
    });
    for (let i = 0; i < 25; i++) await service.infer('cam', [input(i)]);

    const { samples } = parseExposition(await metrics.text());
    const status = service.tenants()[0]!;
    expect(one(samples, `${P}requests_total`, { tenant: 'cam', outcome: 'ok' })).toBe(25);
    // No TPU stage at k = 0: the whole latency is measured, whatever the backend.
    const timing = status.k === 0 ? 'measured' : status.timing;
    expect(one(samples, `${P}request_duration_seconds_count`, { tenant: 'cam', timing })).toBe(25);
    expect(one(samples, `${P}tenant_partition_point`, { tenant: 'cam' })).toBe(status.k);
    expect(one(samples, `${P}tenant_cpu_cores`, { tenant: 'cam' })).toBe(status.cores);
    if (status.predictedMs !== null) {
      expect(one(samples, `${P}tenant_predicted_latency_seconds`, { tenant: 'cam' })).toBeCloseTo(
        status.predictedMs / 1000,
        12,
      );
    }
    expect(one(samples, `${P}controller_decision_seconds_count`)).toBe(service.history().length);
    expect(one(samples, `${P}backend_info`, { backend: 'emulated' })).toBe(1);

    await service.removeTenant('cam');
    const after = parseExposition(await metrics.text()).samples;
    expect(after.filter((x) => x.labels.tenant === 'cam')).toEqual([]);
  });
});

/** A hand-driven source: an EventEmitter whose gauges the test sets. */
function fakeSource(gauges: () => MetricsGauges) {
  return Object.assign(new EventEmitter(), { gauges });
}
const trace = (tenant: string, ms: number, extra: object = {}) => ({
  tenant,
  latencyMs: ms,
  tpu: { backend: 'edgetpu' as const, enqueuedMs: 0, startMs: 1, endMs: 2 },
  cpu: null,
  ...extra,
});

describe('createMetrics with a hand-driven source', () => {
  it('counts failed requests as outcome="error" (dropped by deadline: "expired") without observing their durations', async () => {
    const src = fakeSource(() => ({ tenants: [], tpuQueued: 0, backend: 'edgetpu' }));
    const m = createMetrics({ source: src, defaultMetrics: false });
    src.emit('request', trace('x', 3));
    src.emit('request', trace('x', 5, { error: 'boom' }));
    src.emit('request', trace('x', 7, { error: 'too late', expired: true }));
    src.emit('request', trace('x', 8, { error: 'too late', expired: true }));
    const { samples } = parseExposition(await m.text());
    expect(one(samples, `${P}requests_total`, { tenant: 'x', outcome: 'ok' })).toBe(1);
    expect(one(samples, `${P}requests_total`, { tenant: 'x', outcome: 'error' })).toBe(1);
    expect(one(samples, `${P}requests_total`, { tenant: 'x', outcome: 'expired' })).toBe(2);
    // The real delegate's head time is measured: timing="measured".
    expect(one(samples, `${P}request_duration_seconds_count`, { tenant: 'x', timing: 'measured' })).toBe(1);
    expect(
      one(samples, `${P}stage_duration_seconds_count`, { tenant: 'x', stage: 'tpu', timing: 'measured' }),
    ).toBe(1);
    expect(find(samples, 'process_cpu_user_seconds_total')).toEqual([]);
    m.close();
  });

  it('keeps slow requests out of +Inf: buckets reach 120 s, so a 17 s request reads as more than 10 s', async () => {
    expect(DEFAULT_BUCKETS.slice(-5)).toEqual([10, 15, 30, 60, 120]);
    const src = fakeSource(() => ({ tenants: [], tpuQueued: 0, backend: 'edgetpu' }));
    const m = createMetrics({ source: src, defaultMetrics: false });
    // What the issue saw: requests of 11–17 s, which a top bucket of 10 s lumped into +Inf.
    for (const s of [11, 12, 13, 14, 15, 16, 17]) src.emit('request', trace('slow', s * 1000));
    const { samples } = parseExposition(await m.text());
    const bucket = (le: string) =>
      one(samples, `${P}request_duration_seconds_bucket`, { tenant: 'slow', timing: 'measured', le });
    expect(bucket('10')).toBe(0);
    expect(bucket('15')).toBe(5);
    expect(bucket('30')).toBe(7);
    expect(bucket('+Inf')).toBe(7);
    // histogram_quantile(0.99, …) interpolates inside the (15, 30] bucket: above 15 s, not clipped at 10 s.
    const below = bucket('15');
    const rank = 0.99 * bucket('+Inf');
    const p99 = 15 + ((30 - 15) * (rank - below)) / (bucket('30') - below);
    expect(p99).toBeGreaterThan(15);
    expect(p99).toBeLessThanOrEqual(30);
    m.close();
  });

  it("registers prom-client's default metrics except the gauges named like counters", async () => {
    const src = fakeSource(() => ({ tenants: [], tpuQueued: 0, backend: 'edgetpu' }));
    const registry = new Registry();
    const m = createMetrics({ source: src, registry });
    const { types } = parseExposition(await m.text());
    // Every `_total` left is a counter (what `promtool check metrics` asks for)…
    const totals = [...types].filter(([name]) => name.endsWith('_total'));
    expect(totals.length).toBeGreaterThan(0);
    for (const [name, type] of totals) expect(type, name).toBe('counter');
    expect(types.has('nodejs_active_handles_total')).toBe(false);
    expect(types.has('nodejs_active_requests_total')).toBe(false);
    expect(types.has('nodejs_active_resources_total')).toBe(false);
    // …the per-type active handles are left out too (they walk every handle at each scrape), the rest stay.
    expect(types.get('process_cpu_seconds_total')).toBe('counter');
    expect(types.has('nodejs_active_handles')).toBe(false);
    expect(types.get('nodejs_heap_size_used_bytes')).toBe('gauge');
    expect(types.get('nodejs_eventloop_lag_p99_seconds')).toBe('gauge');
    m.close();
    // close() removes what it registered: nothing of the defaults is left behind.
    expect(registry.getMetricsAsArray().map((x) => x.name)).toEqual([]);
  });

  it('drops malformed events (counted) instead of throwing into the emitter', async () => {
    const src = fakeSource(() => ({ tenants: [], tpuQueued: 0, backend: 'emulated' }));
    const m = createMetrics({ source: src, defaultMetrics: false });
    expect(() => src.emit('request', null)).not.toThrow();
    expect(() => src.emit('request', { latencyMs: 1, tpu: null, cpu: null })).not.toThrow();
    expect(() => src.emit('reject', undefined)).not.toThrow();
    expect(() => src.emit('reload', { tenant: 3 })).not.toThrow();
    expect(() => src.emit('reconfigure', {})).not.toThrow();
    expect(() => src.emit('decision', { decisionMs: 'slow' })).not.toThrow();
    expect(m.droppedEvents).toBe(6);
    const { samples } = parseExposition(await m.text());
    expect(one(samples, `${P}metrics_dropped_events_total`)).toBe(6);
    m.close();
  });

  it('still serves the event series when gauges() throws, and skips bad gauge values', async () => {
    let fail = true;
    const src = fakeSource(() => {
      if (fail) throw new Error('closing');
      return {
        tenants: [{ name: 'x', k: Number.NaN, cores: 2, inFlight: 1, ratePerS: 1, predictedMs: null }],
        tpuQueued: 3,
        backend: 'emulated',
      };
    });
    const m = createMetrics({ source: src, defaultMetrics: false });
    src.emit('request', trace('x', 3));
    let samples = parseExposition(await m.text()).samples;
    expect(one(samples, `${P}requests_total`, { tenant: 'x', outcome: 'ok' })).toBe(1);
    expect(find(samples, `${P}tenant_cpu_cores`)).toEqual([]);
    fail = false;
    samples = parseExposition(await m.text()).samples;
    expect(one(samples, `${P}tenant_cpu_cores`, { tenant: 'x' })).toBe(2);
    expect(find(samples, `${P}tenant_partition_point`)).toEqual([]);
    expect(one(samples, `${P}tpu_queue_depth`)).toBe(3);
    m.close();
  });

  it('keeps a tenant seen only in events; drops one listed before and no longer listed', async () => {
    let listed = ['x', 'y'];
    const src = fakeSource(() => ({
      tenants: listed.map((name) => ({ name, k: 1, cores: 1, inFlight: 0, ratePerS: 0, predictedMs: null })),
      tpuQueued: 0,
      backend: 'emulated',
    }));
    const m = createMetrics({ source: src, defaultMetrics: false });
    src.emit('request', trace('x', 1));
    src.emit('request', trace('z', 1)); // never listed
    let samples = parseExposition(await m.text()).samples;
    // A listed tenant without requests yet shows zeros.
    expect(one(samples, `${P}requests_total`, { tenant: 'y', outcome: 'ok' })).toBe(0);
    listed = ['y'];
    samples = parseExposition(await m.text()).samples;
    expect(samples.filter((s) => s.labels.tenant === 'x')).toEqual([]);
    expect(one(samples, `${P}requests_total`, { tenant: 'z', outcome: 'ok' })).toBe(1);
    expect(one(samples, `${P}tenant_partition_point`, { tenant: 'y' })).toBe(1);
    m.close();
  });

  it('close() detaches from the source and removes its series; a second instance can then register', async () => {
    const src = fakeSource(() => ({ tenants: [], tpuQueued: 0, backend: 'emulated' }));
    const registry = new Registry();
    const m = createMetrics({ source: src, registry });
    expect(src.listenerCount('request')).toBe(1);
    expect(() => createMetrics({ source: src, registry })).toThrow(InvalidArgumentError);
    // A different prefix coexists, and the default process metrics are not registered twice.
    const other = createMetrics({ source: src, registry, prefix: 'edge_' });
    expect(registry.getSingleMetric('edge_requests_total')).toBeDefined();
    other.close();
    m.close();
    m.close();
    expect(src.listenerCount('request')).toBe(0);
    expect(registry.getMetricsAsArray()).toEqual([]);
    const again: Metrics = createMetrics({ source: src, registry });
    expect(registry.getSingleMetric(`${P}requests_total`)).toBeDefined();
    again.close();
  });

  it('rejects bad options with InvalidArgumentError and a house-style message', async () => {
    const src = fakeSource(() => ({ tenants: [], tpuQueued: 0, backend: 'emulated' }));
    const bad: [unknown, RegExp][] = [
      [undefined, /Expected an options object for createMetrics but received undefined/],
      [{ source: {} }, /Expected an object with on\(\) and gauges\(\) for createMetrics option source/],
      [{ source: src, prefix: '9x' }, /Expected a Prometheus metric name prefix .* but received "9x"/],
      [{ source: src, buckets: [1, 0.5] }, /Expected a non-empty ascending array/],
      [{ source: src, registry: {} }, /Expected a prom-client Registry/],
    ];
    for (const [options, message] of bad) {
      let error: unknown;
      try {
        createMetrics(options as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).code).toBe(ErrorCodes.INVALID_ARGUMENT);
      expect((error as Error).message).toMatch(message);
    }
    const app: FastifyInstance = Fastify();
    cleanups.push(() => app.close());
    await expect(metricsRoutes(app, { metrics: {} as never })).rejects.toThrow(InvalidArgumentError);
    const m = createMetrics({ source: src, defaultMetrics: false });
    await expect(metricsRoutes(app, { metrics: m, path: 'metrics' })).rejects.toThrow(
      /Expected a path starting with "\/" for metricsRoutes option path but received "metrics"/,
    );
    // As a fastify plugin at a custom path.
    await app.register(metricsRoutes, { metrics: m, path: '/custom' });
    const res = await app.inject({ method: 'GET', url: '/custom' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(m.contentType);
    expect(res.body).toContain(`# TYPE ${P}requests_total counter`);
    m.close();
  });
});

describe('closing the loop: divergence and re-plans', () => {
  it('exports the divergence ratio per tenant and counts decisions by reason', async () => {
    let ratio: number | null = 1.8;
    const src = fakeSource(() => ({
      tenants: [
        { name: 'a', k: 1, cores: 1, inFlight: 0, ratePerS: 1, predictedMs: 5, divergence: ratio },
        { name: 'b', k: 1, cores: 1, inFlight: 0, ratePerS: 1, predictedMs: 5, divergence: null },
        { name: 'c', k: 1, cores: 1, inFlight: 0, ratePerS: 1, predictedMs: 5 },
      ],
      tpuQueued: 0,
      backend: 'emulated',
    }));
    const m = createMetrics({ source: src, defaultMetrics: false });
    src.emit('decision', { decisionMs: 1, applied: true, trigger: 'initial' });
    src.emit('decision', { decisionMs: 1, applied: true, trigger: 'divergence' });
    src.emit('decision', { decisionMs: 1, applied: true, trigger: 'divergence' });
    src.emit('decision', { decisionMs: 1, applied: false, trigger: 'tick' });
    const { samples, types } = parseExposition(await m.text());
    expect(types.get(`${P}prediction_divergence_ratio`)).toBe('gauge');
    expect(types.get(`${P}replans_total`)).toBe('counter');
    expect(one(samples, `${P}prediction_divergence_ratio`, { tenant: 'a' })).toBe(1.8);
    // No ratio (too few completions, or a source that has none): no sample rather than a made-up value.
    expect(find(samples, `${P}prediction_divergence_ratio`, { tenant: 'b' })).toEqual([]);
    expect(find(samples, `${P}prediction_divergence_ratio`, { tenant: 'c' })).toEqual([]);
    expect(one(samples, `${P}replans_total`, { reason: 'divergence' })).toBe(2);
    expect(one(samples, `${P}replans_total`, { reason: 'initial' })).toBe(1);
    expect(one(samples, `${P}replans_total`, { reason: 'tick' })).toBe(1);
    ratio = 0.9;
    expect(
      one(parseExposition(await m.text()).samples, `${P}prediction_divergence_ratio`, { tenant: 'a' }),
    ).toBe(0.9);
    m.close();
  });
});
