// Cost of the Prometheus adapter on the request path (run after `npx tsup` here and in packages/runtime):
//   node bench.mjs [--json] [--events 2000000] [--rounds 7]
//
// What a request costs the process once @swapless/adapter-prometheus listens: the adapter's 'request' listener
// (tenant lookup, outcome counter, request histogram, four stage histograms). The traces are real: captured from
// a real @swapless/runtime run (two tenants of the 10-op int8 test network, one at k = 4 with an emulated head,
// one at k = 0 on the CPU only), then replayed through an EventEmitter in a tight loop.
//
// Paths, in alternating rounds so load changes of a busy machine hit all of them alike:
//   noop         emit to one empty listener — the dispatch cost a runtime pays for any listener (the baseline);
//   adapter      emit to the adapter's listener (createMetrics) — the figure reported is adapter − noop;
//   prom-client  emit to a listener doing the same work with prom-client's own Counter/Histogram children
//                (`.labels()` resolved once per tenant) — the design the adapter replaces, for comparison.
// Also: minor GCs during each path (allocation shows up as scavenges) and the time of one scrape (`text()`).

import { EventEmitter } from 'node:events';
import { PerformanceObserver } from 'node:perf_hooks';
import { buildTestNet } from '@swapless/int8-builder';
import { createRuntime } from '@swapless/runtime';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { Counter, Histogram, Registry } from 'prom-client';
import { createMetrics, DEFAULT_BUCKETS } from './dist/index.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const EVENTS = flag('events', 2_000_000);
const ROUNDS = flag('rounds', 7);

// 1. Real traces.
const rt = await createRuntime({ cores: 2, emulator: { timeScale: 0 } });
await rt.addTenant({ name: 'vision', model: writeModel(buildTestNet(0)), choice: { k: 4, cores: 1 } });
await rt.addTenant({ name: 'audio', model: writeModel(buildTestNet(7)), choice: { k: 0, cores: 1 } });
const traces = [];
rt.on('request', (t) => traces.push(t));
const input = new Int8Array(16 * 16 * 3);
new SeededRandom(1).fillUniformInt8(input);
for (let i = 0; i < 64; i++) {
  await Promise.all([
    rt.submit('vision', [input]),
    rt.submit('audio', [input]),
    rt.submit('vision', [input]),
  ]);
}
await rt.close();
const T = traces.length;

// 2. The listeners.
const gauges = () => ({
  tenants: ['vision', 'audio'].map((name) => ({
    name,
    k: 4,
    cores: 1,
    inFlight: 0,
    ratePerS: 1,
    predictedMs: 2,
  })),
  tpuQueued: 0,
  backend: 'emulated',
});
const make = (path) => {
  const src = Object.assign(new EventEmitter(), { gauges });
  let close = () => {};
  let text = async () => '';
  if (path === 'noop') src.on('request', () => {});
  else if (path === 'adapter') {
    const m = createMetrics({ source: src, defaultMetrics: false });
    close = () => m.close();
    text = () => m.text();
  } else {
    const registry = new Registry();
    const total = new Counter({
      name: 'r',
      help: 'r',
      labelNames: ['tenant', 'outcome'],
      registers: [registry],
    });
    const dur = new Histogram({
      name: 'd',
      help: 'd',
      labelNames: ['tenant', 'timing'],
      buckets: [...DEFAULT_BUCKETS],
      registers: [registry],
    });
    const stage = new Histogram({
      name: 's',
      help: 's',
      labelNames: ['tenant', 'stage', 'timing'],
      buckets: [...DEFAULT_BUCKETS],
      registers: [registry],
    });
    const children = new Map();
    src.on('request', (t) => {
      let c = children.get(t.tenant);
      if (c === undefined) {
        const timing = t.tpu !== null && t.tpu.backend === 'emulated' ? 'emulated' : 'measured';
        c = {
          ok: total.labels(t.tenant, 'ok'),
          dur: dur.labels(t.tenant, timing),
          tw: stage.labels(t.tenant, 'tpu_wait', timing),
          tpu: stage.labels(t.tenant, 'tpu', timing),
          cw: stage.labels(t.tenant, 'cpu_wait', 'measured'),
          cpu: stage.labels(t.tenant, 'cpu', 'measured'),
        };
        children.set(t.tenant, c);
      }
      c.ok.inc();
      c.dur.observe(t.latencyMs / 1000);
      if (t.tpu !== null) {
        c.tw.observe(Math.max(0, t.tpu.startMs - t.tpu.enqueuedMs) / 1000);
        c.tpu.observe((t.tpu.endMs - t.tpu.startMs) / 1000);
      }
      if (t.cpu !== null) {
        c.cw.observe(Math.max(0, t.cpu.startMs - t.cpu.enqueuedMs) / 1000);
        c.cpu.observe((t.cpu.endMs - t.cpu.startMs) / 1000);
      }
    });
    text = () => registry.metrics();
  }
  return { src, close, text };
};

let gcs = 0;
const obs = new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
});
obs.observe({ entryTypes: ['gc'] });

const paths = ['noop', 'adapter', 'prom-client'];
const results = Object.fromEntries(paths.map((p) => [p, { ns: [], gcs: [], scrapeMs: [] }]));
const run = async (path, events) => {
  const { src, close, text } = make(path);
  await new Promise((r) => setTimeout(r, 50)); // deliver pending GC entries of the previous path
  const g0 = gcs;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < events; i++) src.emit('request', traces[i % T]);
  const ns = Number(process.hrtime.bigint() - t0) / events;
  await new Promise((r) => setTimeout(r, 50)); // GC entries arrive asynchronously
  const s0 = performance.now();
  await text();
  const scrapeMs = performance.now() - s0;
  close();
  return { ns, gcs: gcs - g0, scrapeMs };
};
for (const p of paths) await run(p, EVENTS / 10); // warm-up: optimised code for every path
for (let r = 0; r < ROUNDS; r++) {
  for (const p of paths) {
    const x = await run(p, EVENTS);
    results[p].ns.push(x.ns);
    results[p].gcs.push(x.gcs);
    results[p].scrapeMs.push(x.scrapeMs);
  }
}
obs.disconnect();

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const noop = median(results.noop.ns);
const summary = {
  events: EVENTS,
  rounds: ROUNDS,
  traces: T,
  node: process.version,
  perEventNs: {
    noop,
    adapter: median(results.adapter.ns),
    promClient: median(results['prom-client'].ns),
  },
  listenerNs: {
    adapter: median(results.adapter.ns) - noop,
    promClient: median(results['prom-client'].ns) - noop,
  },
  minorGcsPerMillionEvents: Object.fromEntries(
    paths.map((p) => [p, (median(results[p].gcs) * 1e6) / EVENTS]),
  ),
  scrapeMs: { adapter: median(results.adapter.scrapeMs) },
  cpuShareAt5000Rps: (5000 * (median(results.adapter.ns) - noop)) / 1e9,
};
if (json) console.log(JSON.stringify(summary, null, 2));
else {
  console.log(
    `Prometheus adapter cost per request event (${EVENTS} events × ${ROUNDS} rounds, ${T} real traces)`,
  );
  console.log(
    `  emit, empty listener        ${summary.perEventNs.noop.toFixed(1)} ns (baseline; minor GCs per 1M events: ${summary.minorGcsPerMillionEvents.noop.toFixed(1)})`,
  );
  console.log(
    `  adapter listener          + ${summary.listenerNs.adapter.toFixed(1)} ns  (minor GCs per 1M events: ${summary.minorGcsPerMillionEvents.adapter.toFixed(1)})`,
  );
  console.log(
    `  prom-client children      + ${summary.listenerNs.promClient.toFixed(1)} ns  (minor GCs per 1M events: ${summary.minorGcsPerMillionEvents['prom-client'].toFixed(1)})`,
  );
  console.log(`  share of one core at 5,000 req/s: ${(summary.cpuShareAt5000Rps * 100).toFixed(3)} %`);
  console.log(`  one scrape (2 tenants, text()): ${summary.scrapeMs.adapter.toFixed(2)} ms`);
}
