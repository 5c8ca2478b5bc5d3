// KServe adapter ceiling (run after building @swapless/adapter-kserve, @swapless/edgetpu, @swapless/tflite):
//   node bench/kserve-adapter-bench.mjs [--json] [--duration 5] [--warmup 1] [--concurrency 1,8,64]
//
// The cost of the HTTP layer alone: a plain fastify app (no logger) with @swapless/adapter-kserve's routes over
// a backend that runs a real TFLite interpreter on the main thread — the tiny FP32 [1,4] ADD model, whose invoke
// takes about a microsecond, so the figures are those of fastify + the adapter, not of inference. No runtime, no
// emulator, no controller: `bench:server` measures the real service on top of this.
//
// The server runs in this process; the client (KServeClient + runClosedLoop, node:http keep-alive) runs in a
// forked child process, so on a 2-core machine each side has a core. Closed loop: N requests always in flight.
// Every latency is a measured client-side round trip.
//
// A second section compares where the request validation happens, each as a route that parses + validates the
// same inference request and answers `{}`: (none) raw body only, (precompiled) raw body + JSON.parse + the
// adapter's precompiled ajv validator (what the adapter does), (fastify-schema) fastify's JSON parser
// (secure-json-parse) + the same JSON Schema as the route's `schema.body` (fastify's own ajv instance).

import { fork } from 'node:child_process';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  INFERENCE_REQUEST_SCHEMA,
  KServeClient,
  kserveRoutes,
  randomInputs,
  runClosedLoop,
  summarizeLatencies,
} from '@swapless/adapter-kserve';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args[at + 1];
};

if (args[0] === '--client') {
  // ---------------------------------------------------------------------------------------------- client process
  const [, url, durationS, warmupS, concurrencyList] = args;
  const client = new KServeClient(url);
  const meta = await client.metadata('tiny');
  let seed = 7;
  const inputs = randomInputs(meta, () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  });
  const levels = concurrencyList.split(',').map(Number);
  const results = [];
  for (const binary of [false, true]) {
    for (const concurrency of levels) {
      process.send({ mark: 'start' });
      const r = await runClosedLoop(client, 'tiny', inputs, {
        concurrency,
        durationMs: Number(durationS) * 1000,
        warmupMs: Number(warmupS) * 1000,
        binary,
      });
      await new Promise((resolve) => process.send({ mark: 'end' }, resolve));
      results.push(r);
    }
  }
  // Validation placement: same request body to three routes answering {}.
  const body = client.encodeInfer(inputs).body;
  const compare = [];
  for (const path of ['/cmp/none', '/cmp/precompiled', '/cmp/fastify-schema']) {
    const concurrency = 8;
    process.send({ mark: 'start' });
    const end = performance.now() + Number(warmupS) * 1000 + Number(durationS) * 1000;
    const start = performance.now() + Number(warmupS) * 1000;
    const lat = [];
    let bad = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          const res = await client.request('POST', path, body, { 'content-type': 'application/json' });
          const t1 = performance.now();
          if (t0 < start) continue;
          if (res.status === 200) lat.push(t1 - t0);
          else bad++;
        }
      }),
    );
    await new Promise((resolve) => process.send({ mark: 'end' }, resolve));
    compare.push({
      route: path,
      concurrency,
      requestsPerS: lat.length / ((end - start) / 1000),
      bad,
      latency: summarizeLatencies(lat),
    });
  }
  client.close();
  process.send({ results, compare });
  process.exit(0);
}

// ------------------------------------------------------------------------------------------------ server process
const json = args.includes('--json');
const durationS = Number(opt('--duration', 5));
const warmupS = Number(opt('--warmup', 1));
const concurrency = opt('--concurrency', '1,8,64');

const { default: Fastify } = await import('fastify');
const { Ajv } = await import('ajv');
const { createInterpreter } = await import('@swapless/edgetpu');
const { writeModel } = await import('@swapless/tflite');
const { tinyModel } = await import('@swapless/int8-builder');

const interpreter = createInterpreter(writeModel(tinyModel({ shape: [1, 4] })));
const metadata = Object.freeze({
  name: 'tiny',
  versions: ['1'],
  platform: 'tflite',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 4] }],
});
let served = 0;
const backend = {
  isLive: () => true,
  isReady: () => true,
  modelNames: () => ['tiny'],
  modelMetadata: (name) => (name === 'tiny' ? metadata : undefined),
  isModelReady: (name) => name === 'tiny',
  async infer(_name, inputs) {
    interpreter.setInput(0, inputs[0]);
    interpreter.invoke();
    served++;
    return { outputs: [interpreter.getOutput(0)] };
  },
};

const app = Fastify({ logger: false });
await kserveRoutes(app, { backend });
const validate = new Ajv({ allErrors: false, strict: true }).compile(INFERENCE_REQUEST_SCHEMA);
app.register(async (scope) => {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, b, done) => done(null, b));
  scope.post('/cmp/none', async () => '{}');
  scope.post('/cmp/precompiled', async (request, reply) => {
    const value = JSON.parse(request.body.toString('utf8'));
    if (!validate(value)) return reply.code(400).send({ error: 'invalid' });
    return '{}';
  });
});
app.post('/cmp/fastify-schema', { schema: { body: INFERENCE_REQUEST_SCHEMA } }, async () => '{}');
const url = await app.listen({ port: 0, host: '127.0.0.1' });
let httpRequests = 0;
app.server.on('request', () => {
  httpRequests++;
});

// Validation cost in-process (no HTTP): ns per parse + validate of the same body.
const sample = JSON.stringify({
  inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0.1, -0.2, 0.3, -0.4] }],
});
const sampleBuf = Buffer.from(sample);
const { default: sjson } = await import('secure-json-parse');
const fastifyAjv = new Ajv({
  coerceTypes: 'array',
  useDefaults: true,
  removeAdditional: true,
  uriResolver: undefined,
  allErrors: false,
}).compile({
  ...INFERENCE_REQUEST_SCHEMA,
  $id: undefined,
});
const micro = (label, fn) => {
  for (let i = 0; i < 20000; i++) fn();
  const n = 200000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return { path: label, nsPerOp: ((performance.now() - t0) * 1e6) / n };
};
const microResults = [
  micro('JSON.parse + precompiled ajv (adapter)', () => validate(JSON.parse(sampleBuf.toString('utf8')))),
  micro('secure-json-parse + ajv with fastify options', () =>
    fastifyAjv(sjson.parse(sampleBuf.toString('utf8'))),
  ),
  micro('JSON.parse only', () => JSON.parse(sampleBuf.toString('utf8'))),
];

const child = fork(
  fileURLToPath(import.meta.url),
  ['--client', url, String(durationS), String(warmupS), concurrency],
  {
    stdio: 'inherit',
  },
);
// Server CPU per request for each row (user + system of this process over the row, warm-up included, divided by
// the requests served meanwhile): the adapter's own cost, independent of how busy the client's core is.
const serverCpu = [];
let mark = null;
const { results, compare } = await new Promise((resolve, reject) => {
  child.on('message', (m) => {
    if (m.mark === 'start') mark = { cpu: process.cpuUsage(), n: httpRequests, t: performance.now() };
    else if (m.mark === 'end') {
      const cpu = process.cpuUsage(mark.cpu);
      const n = httpRequests - mark.n;
      serverCpu.push({
        usPerRequest: (cpu.user + cpu.system) / n,
        busy: (cpu.user + cpu.system) / 1000 / (performance.now() - mark.t),
      });
    } else resolve(m);
  });
  child.on('exit', (code) => code !== 0 && reject(new Error(`client exited with ${code}`)));
});
await app.close();
interpreter.dispose();

const report = {
  machine: {
    cpus: availableParallelism(),
    model: cpus()[0]?.model ?? 'unknown',
    loadavg: loadavg(),
    node: process.version,
  },
  timing: 'measured (client-side HTTP round trip, client in a separate process)',
  durationS,
  warmupS,
  served,
  results: results.map((r, i) => ({
    mode: r.binary ? 'binary' : 'json',
    serverCpuUsPerRequest: serverCpu[i].usPerRequest,
    serverCpuBusy: serverCpu[i].busy,
    concurrency: r.concurrency,
    requestsPerS: r.requestsPerS,
    ok: r.ok,
    errors: r.errors,
    latency: r.latency,
  })),
  validation: {
    http: compare.map((c, i) => ({
      ...c,
      serverCpuUsPerRequest: serverCpu[results.length + i].usPerRequest,
    })),
    inProcess: microResults,
  },
};

if (json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const f = (v, d = 2) => (v === null || v === undefined ? '—' : v.toFixed(d));
  console.log(
    `KServe adapter ceiling: fastify + routes + tiny TFLite interpreter, ${report.machine.cpus} CPUs (${report.machine.model}), ${process.version}`,
  );
  console.log(
    `closed loop, ${durationS} s per row after ${warmupS} s warm-up; latency = measured client round trip\n`,
  );
  console.log(
    'mode    conc   req/s     mean ms  p50 ms  p95 ms  p99 ms  max ms  server CPU µs/req (busy)  errors',
  );
  for (const r of report.results) {
    const l = r.latency;
    console.log(
      `${r.mode.padEnd(6)}  ${String(r.concurrency).padStart(4)}  ${r.requestsPerS.toFixed(0).padStart(7)}  ${f(l.meanMs).padStart(8)}  ${f(l.p50Ms).padStart(6)}  ${f(l.p95Ms).padStart(6)}  ${f(l.p99Ms).padStart(6)}  ${f(l.maxMs).padStart(6)}  ${f(r.serverCpuUsPerRequest, 0).padStart(8)} (${(100 * r.serverCpuBusy).toFixed(0)} %)        ${JSON.stringify(r.errors)}`,
    );
  }
  console.log('\nvalidation placement over HTTP (concurrency 8, answer {}):');
  for (const c of report.validation.http)
    console.log(
      `  ${c.route.padEnd(20)} ${c.requestsPerS.toFixed(0).padStart(7)} req/s  p99 ${f(c.latency.p99Ms)} ms  server CPU ${f(c.serverCpuUsPerRequest, 1)} µs/req`,
    );
  console.log('validation in-process (tiny request body):');
  for (const m of microResults)
    console.log(`  ${m.path.padEnd(46)} ${m.nsPerOp.toFixed(0).padStart(6)} ns/op`);
  console.log(
    `\nload average at the end: ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  );
}
