// What the bearer-token guard costs (run after building @swapless/server and its dependencies):
//   node bench/auth-bench.mjs [--json] [--duration 3] [--warmup 1] [--rounds 3] [--concurrency 16]
//
// Two fastify apps in this process with @swapless/adapter-kserve's routes over the same backend (the tiny FP32
// [1,4] ADD model on a real TFLite interpreter, about a microsecond per invoke, so the figures are the HTTP layer's):
// `open` without authentication, `guarded` with @swapless/server's installAuth and an inference token, the client
// sending it. The client (KServeClient + runClosedLoop, keep-alive) runs in a forked child; the rows alternate
// open/guarded so machine noise hits both alike. Printed side by side: requests/s, latency percentiles (measured
// client-side round trips) and the server's CPU time per request (user + system of this process over the row,
// divided by the requests it served), with the guarded/open ratios. Before that, in-process and without HTTP, the
// guard's own work per request: the route's access class (`accessOf`) and the token check (SHA-256 of the token
// sent, `timingSafeEqual` against the inference and the admin token's digests), in ns of CPU time per request.

import { fork } from 'node:child_process';
import { createHash, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { KServeClient, kserveRoutes, randomInputs, runClosedLoop } from '@swapless/adapter-kserve';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args[at + 1];
};
const TOKEN = 'bench-inference-token-0123456789abcdef0123456789abcdef';

if (args[0] === '--client') {
  const [, openUrl, guardedUrl, durationS, warmupS, rounds, concurrency] = args;
  const clients = {
    open: new KServeClient(openUrl),
    guarded: new KServeClient(guardedUrl, { token: TOKEN }),
  };
  const inputs = randomInputs(await clients.open.metadata('tiny'), () => 0.5);
  const rows = [];
  for (let round = 0; round < Number(rounds); round++) {
    for (const kind of ['open', 'guarded']) {
      await new Promise((resolve) => process.send({ mark: 'start', kind }, resolve));
      const r = await runClosedLoop(clients[kind], 'tiny', inputs, {
        concurrency: Number(concurrency),
        durationMs: Number(durationS) * 1000,
        warmupMs: Number(warmupS) * 1000,
      });
      await new Promise((resolve) => process.send({ mark: 'end' }, resolve));
      rows.push({ kind, round, requestsPerS: r.requestsPerS, latency: r.latency, errors: r.errors });
    }
  }
  for (const c of Object.values(clients)) c.close();
  process.send({ rows });
  process.exit(0);
}

const json = args.includes('--json');
const durationS = Number(opt('--duration', 3));
const warmupS = Number(opt('--warmup', 1));
const rounds = Number(opt('--rounds', 3));
const concurrency = Number(opt('--concurrency', 16));

const { default: Fastify } = await import('fastify');
const { createInterpreter } = await import('@swapless/edgetpu');
const { writeModel } = await import('@swapless/tflite');
const { tinyModel } = await import('@swapless/int8-builder');
const { accessOf, bearerToken, installAuth } = await import('@swapless/server');

const micro = (fn) => {
  for (let i = 0; i < 50_000; i++) fn();
  // CPU time, not wall time: on a shared machine the process may wait for a core.
  const n = 500_000;
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const used = process.cpuUsage(t0);
  return ((used.user + used.system) * 1e3) / n;
};
const digests = [
  createHash('sha256').update(TOKEN).digest(),
  createHash('sha256').update(`${TOKEN}-admin`).digest(),
];
const header = `Bearer ${TOKEN}`;
const guardNs = {
  accessOf: micro(() => accessOf('POST', '/v2/models/:name/infer')),
  tokenCheck: micro(() => {
    const found = bearerToken(header);
    const d = createHash('sha256').update(found.token, 'utf8').digest();
    let ok = false;
    for (const a of digests) ok = timingSafeEqual(d, a) || ok;
    return ok;
  }),
};

const interpreter = createInterpreter(writeModel(tinyModel({ shape: [1, 4] })));
const metadata = Object.freeze({
  name: 'tiny',
  versions: ['1'],
  platform: 'tflite',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }],
  outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 4] }],
});
const backend = {
  isLive: () => true,
  isReady: () => true,
  modelNames: () => ['tiny'],
  modelMetadata: (name) => (name === 'tiny' ? metadata : undefined),
  isModelReady: (name) => name === 'tiny',
  async infer(_name, inputs) {
    interpreter.setInput(0, inputs[0]);
    interpreter.invoke();
    return { outputs: [interpreter.getOutput(0)] };
  },
};

let served = 0;
async function app(guarded) {
  const a = Fastify({ logger: false });
  if (guarded) {
    installAuth(a, {
      tokens: { admin: null, inference: TOKEN, metrics: null },
      host: '127.0.0.1',
      tls: false,
    });
  }
  await kserveRoutes(a, { backend });
  const url = await a.listen({ port: 0, host: '127.0.0.1' });
  a.server.on('request', () => served++);
  return { app: a, url };
}
const open = await app(false);
const guarded = await app(true);

const child = fork(fileURLToPath(import.meta.url), [
  '--client',
  open.url,
  guarded.url,
  String(durationS),
  String(warmupS),
  String(rounds),
  String(concurrency),
]);
const cpu = [];
let mark = null;
const { rows } = await new Promise((resolve, reject) => {
  child.on('message', (m) => {
    if (m.mark === 'start') mark = { cpu: process.cpuUsage(), n: served, t: performance.now() };
    else if (m.mark === 'end') {
      const used = process.cpuUsage(mark.cpu);
      cpu.push(((used.user + used.system) / Math.max(1, served - mark.n)).toFixed(1));
    } else resolve(m);
  });
  child.on('error', reject);
});
await open.app.close();
await guarded.app.close();
interpreter.dispose();

const table = rows.map((r, i) => ({ ...r, serverCpuUsPerRequest: Number(cpu[i]) }));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const of = (kind, f) => median(table.filter((r) => r.kind === kind).map(f));
const summary = {
  requestsPerS: { open: of('open', (r) => r.requestsPerS), guarded: of('guarded', (r) => r.requestsPerS) },
  p50Ms: { open: of('open', (r) => r.latency.p50Ms), guarded: of('guarded', (r) => r.latency.p50Ms) },
  serverCpuUsPerRequest: {
    open: of('open', (r) => r.serverCpuUsPerRequest),
    guarded: of('guarded', (r) => r.serverCpuUsPerRequest),
  },
};
if (json) {
  console.log(
    JSON.stringify(
      { durationS, warmupS, rounds, concurrency, guardNs, rows: table, medians: summary },
      null,
      2,
    ),
  );
} else {
  console.log(
    `auth guard cost: JSON inference on the tiny model, closed loop at concurrency ${concurrency}, ${durationS} s per row after ${warmupS} s warm-up, ${rounds} rounds alternating`,
  );
  console.log(
    `the guard's own work per request (in-process): accessOf ${guardNs.accessOf.toFixed(0)} ns, bearer token check ${guardNs.tokenCheck.toFixed(0)} ns`,
  );
  console.log('');
  console.log('round  app       req/s     p50 ms   p99 ms   server CPU µs/req   errors');
  for (const r of table) {
    console.log(
      `${String(r.round).padStart(5)}  ${r.kind.padEnd(8)} ${r.requestsPerS.toFixed(0).padStart(7)}  ${r.latency.p50Ms.toFixed(2).padStart(7)}  ${r.latency.p99Ms.toFixed(2).padStart(7)}  ${r.serverCpuUsPerRequest.toFixed(1).padStart(18)}   ${JSON.stringify(r.errors)}`,
    );
  }
  const ratio = (o) => (o.guarded / o.open).toFixed(3);
  console.log('');
  console.log(
    `medians — req/s: open ${summary.requestsPerS.open.toFixed(0)}, guarded ${summary.requestsPerS.guarded.toFixed(0)} (guarded/open ${ratio(summary.requestsPerS)} ×); server CPU per request: open ${summary.serverCpuUsPerRequest.open} µs, guarded ${summary.serverCpuUsPerRequest.guarded} µs (${ratio(summary.serverCpuUsPerRequest)} ×)`,
  );
}
