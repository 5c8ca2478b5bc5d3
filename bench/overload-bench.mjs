// Overload benchmark (run after `npm run build`): `npm run bench:overload [-- --duration 60] [-- --measure 5]
// [-- --factor 2] [-- --deadline 1000] [-- --queue-limit 4096] [-- --encoding binary|json] [-- --shape 32768]
// [-- --device usb2] [-- --seed 1] [-- --before DIR] [-- --json] [-- --keep] [-- --profile]`.
//
// Starts the real server (apps/server/bin/swapless-server.js) in a child process with one tenant whose whole model
// runs on the emulated Edge TPU (policy `default`, functional mode): a tiny int8 ADD over [1, --shape] on the
// `--device` profile (default [1, 32768] on usb2: ~5.4 ms per call, nearly all of it the host link), so the device
// — one FIFO queue — is the bottleneck and the machine's cores have room for the HTTP traffic of twice its rate.
// (The question is what the server does with more requests than its device can serve. A server whose cores are
// the bottleneck, sharing them with the load generator, cannot answer twice its capacity however cheap a refusal:
// see docs/benchmarks.md.) The server runs with `--deadline` ms (default 1000) and `--queue-limit` (default 4096,
// high enough that the deadline, not the bound, decides), logs at `info` to a file. Then, with a real HTTP client
// in this process:
//
//   1. the sustainable rate: closed loops at concurrency 16 and 64 (`--measure` s each, default 5) — the goodput
//      plateau is the higher of the two (the two are printed; a gap between them means no plateau yet);
//   2. overload: open-loop Poisson arrivals (seeded, `--seed`) at `--factor` × that rate (default 2) for
//      `--duration` s (default 60), every request answered or not, while a second client scrapes `/metrics`,
//      `/v2/health/live` and `/v2/health/ready` once a second.
//
// Printed: goodput (200 answers per second) as a fraction of the sustainable rate (target ≥ 0.90), requests
// unanswered past their deadline + 1 s (target 0; requests with no answer at all count), other 5xx (target 0: any
// 5xx but 503/504, and network errors), the statuses, the latency of the 200s, bytes the server logged during the
// overload (target < 1 MB), its peak RSS (VmHWM) against its RSS before the overload, and the p99 and max of the
// scrapes (target < 100 ms each). `--json` prints one JSON object instead; `--keep` keeps the work directory (the
// server's log is `server.log` there); `--profile` runs the server under --cpu-prof and prints where its main
// thread's time went during the overload; `--before DIR` runs the same against the server of another built
// checkout with that server's own defaults for the queue bound and without a deadline (a checkout from before
// deadlines existed: the comparison). A short fixed-seed sample of this bench runs in the server's tests
// (apps/server/src/overload-bench.test.ts).

import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { KServeClient, randomInputs, runClosedLoop, summarizeLatencies } from '@swapless/adapter-kserve';
import { tinyModel } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';
import {
  benchArgs,
  printProfile,
  profileClockUs,
  profileSummary,
  spawnReady,
} from './server-bench-support.mjs';

const { args, opt } = await benchArgs(import.meta.url);
const json = args.includes('--json');
const keep = args.includes('--keep');
const beforeRoot = opt('--before', undefined);
const profile = args.includes('--profile');
const durationS = Number(opt('--duration', 60));
const measureS = Number(opt('--measure', 5));
const factor = Number(opt('--factor', 2));
const deadlineMs = Number(opt('--deadline', 1000));
const queueLimit = Number(opt('--queue-limit', 4096));
const encoding = opt('--encoding', 'binary');
const width = Number(opt('--shape', 32768));
const device = opt('--device', 'usb2');
const seed = Number(opt('--seed', 1));
for (const [name, v] of Object.entries({
  durationS,
  measureS,
  factor,
  deadlineMs,
  queueLimit,
  width,
  seed,
})) {
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`overload-bench: expected a positive number for ${name} but received ${v}`);
    process.exit(2);
  }
}
if (encoding !== 'binary' && encoding !== 'json') {
  console.error(`overload-bench: expected --encoding binary or json but received ${encoding}`);
  process.exit(2);
}
const TARGET = {
  goodputFraction: 0.9,
  unansweredPastDeadline: 0,
  other5xx: 0,
  logBytes: 1e6,
  scrapeP99Ms: 100,
};
const GRACE_MS = 1000;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(beforeRoot ?? root, 'apps/server/bin/swapless-server.js');
const log = (...a) => {
  if (!json) console.log(...a);
};

const work = await mkdtemp(join(tmpdir(), 'swapless-overload-bench-'));
await mkdir(join(work, 'models', 'tiny'), { recursive: true });
await writeFile(
  join(work, 'models', 'tiny', 'model.tflite'),
  writeModel(tinyModel({ type: 'int8', shape: [1, width] })),
);
const logPath = join(work, 'server.log');

/** Starts the server (the real bin, `--json` startup summary); resolves once it is ready. */
async function startServer() {
  const config = {
    port: 0,
    logLevel: 'info',
    logDestination: logPath,
    device,
    policy: 'default',
    mode: 'functional',
    repository: join(work, 'models'),
    stateDir: join(work, 'state'),
    examples: false,
    // A server from before deadlines knows neither setting (its schema refuses unknown keys).
    ...(beforeRoot === undefined ? { deadlineMs, queueLimit } : {}),
    tenants: [{ name: 'tiny', model: 'tiny', rate: 500 }],
  };
  const configPath = join(work, 'config.json');
  await writeFile(configPath, JSON.stringify(config));
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${join(work, 'cpuprof')}`] : [];
  return spawnReady([...nodeArgs, bin, '--config', configPath, '--json'], {
    env: { ...process.env, SWAPLESS_CACHE_DIR: join(work, 'cache') },
  });
}

/** Resident set now and at its peak, bytes (Linux /proc; null elsewhere). */
async function memoryOf(pid) {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (key) =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return { rss: null, peak: null };
  }
}

async function fileSize(path) {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * The scraper: a worker thread with its own event loop, so its timings are not delayed by the load generator's
 * (which shares this process). Once a second it GETs /metrics and the health endpoints on their own keep-alive
 * connections and records each round trip; the worker posts its samples when told to stop.
 */
const SCRAPER = `
const { parentPort, workerData } = require('node:worker_threads');
const { Agent, request } = require('node:http');
const agent = new Agent({ keepAlive: true, maxSockets: 3 });
const paths = ['/metrics', '/v2/health/live', '/v2/health/ready'];
const samples = Object.fromEntries(paths.map((p) => [p, []]));
const failed = Object.fromEntries(paths.map((p) => [p, 0]));
let rssMax = 0;
// The server's own view: the longest event-loop delay between two scrapes (prom-client's histogram, reset at
// each scrape) and the GC time.
const loopMaxMs = [];
let gcSeconds = 0;
let stopped = false;
parentPort.on('message', () => { stopped = true; });
const get = (path) => new Promise((resolve) => {
  const t0 = performance.now();
  const req = request(workerData.base + path, { agent, timeout: 10000 }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t0, body: Buffer.concat(chunks).toString() }));
    res.on('error', () => resolve({ status: 0, ms: performance.now() - t0, body: '' }));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => resolve({ status: 0, ms: performance.now() - t0, body: '' }));
  req.end();
});
(async () => {
  while (!stopped) {
    const t = performance.now();
    const results = await Promise.all(paths.map(get));
    results.forEach((r, i) => {
      samples[paths[i]].push(r.ms);
      if (r.status !== 200) failed[paths[i]]++;
      const rss = i === 0 ? Number(/^process_resident_memory_bytes (\\S+)$/m.exec(r.body)?.[1]) : NaN;
      if (Number.isFinite(rss)) rssMax = Math.max(rssMax, rss);
      if (i === 0) {
        const lag = Number(/^nodejs_eventloop_lag_max_seconds (\\S+)$/m.exec(r.body)?.[1]);
        if (Number.isFinite(lag)) loopMaxMs.push(lag * 1000);
        let gc = 0;
        for (const m of r.body.matchAll(/^nodejs_gc_duration_seconds_sum\\{[^}]*\\} (\\S+)$/gm)) gc += Number(m[1]);
        if (gc > 0) gcSeconds = gc;
      }
    });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (performance.now() - t))));
  }
  agent.destroy();
  parentPort.postMessage({ samples, failed, rssMax, loopMaxMs, gcSeconds });
})();
`;

/** Starts the scraper; the returned function stops it and resolves with the latency summaries. */
function startScraper(base) {
  const worker = new Worker(SCRAPER, { eval: true, workerData: { base } });
  return async () => {
    const result = new Promise((resolve) => worker.once('message', resolve));
    worker.postMessage('stop');
    const { samples, failed, rssMax, loopMaxMs, gcSeconds } = await result;
    await worker.terminate();
    return {
      endpoints: Object.fromEntries(
        Object.keys(samples).map((p) => [p, { ...summarizeLatencies(samples[p]), failed: failed[p] }]),
      ),
      rssMaxFromMetrics: rssMax,
      eventLoopDelayMaxMs: loopMaxMs.length > 0 ? Math.max(...loopMaxMs) : null,
      eventLoopDelayMaxP50Ms: loopMaxMs.length > 0 ? summarizeLatencies(loopMaxMs).p50Ms : null,
      gcSecondsTotal: gcSeconds,
    };
  };
}

/**
 * Open-loop Poisson arrivals at `rate` per second for `durationMs`: every request is sent at its scheduled time
 * whatever happened to the earlier ones, on a keep-alive agent without a socket bound (a bound would queue
 * requests in the client, closing the loop).
 */
async function openLoop(base, encoded, rate, durationMs) {
  // Sockets are kept however many are free at a time: closing and reopening them would cost both sides.
  const agent = new Agent({
    keepAlive: true,
    maxSockets: Number.POSITIVE_INFINITY,
    maxFreeSockets: Number.POSITIVE_INFINITY,
  });
  const random = new SeededRandom(seed);
  const url = new URL(`${base}/v2/models/tiny/infer`);
  const headers = { ...encoded.headers, 'content-length': String(encoded.body.length) };
  const capacity = Math.ceil(rate * (durationMs / 1000) * 1.2) + 1024;
  const sentAt = new Float64Array(capacity);
  const latency = new Float64Array(capacity).fill(Number.NaN);
  const status = new Int16Array(capacity);
  let n = 0;
  let pending = 0;
  let drained = null;
  let lagMax = 0;
  /** Requests without an answer, by error (code). */
  const failures = {};
  const send = (i, scheduled) => {
    pending++;
    sentAt[i] = performance.now();
    lagMax = Math.max(lagMax, sentAt[i] - scheduled);
    const req = httpRequest(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => done(i, res.statusCode));
        res.on('error', (e) => done(i, 0, e));
      },
    );
    req.setTimeout(deadlineMs + 10_000, () =>
      req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
    );
    req.on('error', (e) => done(i, 0, e));
    req.end(encoded.body);
  };
  const done = (i, code, error) => {
    if (!Number.isNaN(latency[i])) return;
    latency[i] = performance.now() - sentAt[i];
    status[i] = code;
    if (error !== undefined) {
      const key = error.code ?? error.message;
      failures[key] = (failures[key] ?? 0) + 1;
    }
    pending--;
    if (pending === 0 && drained !== null) drained();
  };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = t0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next <= now && next - t0 < durationMs && n < capacity) {
        send(n++, next);
        // Exponential inter-arrival times: a Poisson process.
        next += (-Math.log(1 - random.nextFloat()) * 1000) / rate;
      }
      if (next - t0 >= durationMs || n >= capacity) resolve();
      else setTimeout(tick, Math.max(0, Math.min(5, next - performance.now())));
    };
    tick();
  });
  const sendEnd = performance.now();
  if (pending > 0) await new Promise((resolve) => (drained = resolve));
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  const end = performance.now();
  return {
    n,
    sentAt,
    latency,
    status,
    t0,
    sendEnd,
    end,
    clientCpu: (cpu.user + cpu.system) / 1000 / (end - t0),
    clientLagMaxMs: lagMax,
    failures,
  };
}

const server = await startServer();
const base = server.summary.urls.base;
const pid = server.child.pid;
const client = new KServeClient(base);
const meta = await (await fetch(`${base}/v2/models/tiny`)).json();
const inputs = randomInputs(meta);
log(
  `SwapLess overload bench${beforeRoot === undefined ? '' : ` (server of ${beforeRoot}, its defaults, no deadline)`} — ` +
    `tiny int8 ADD [1,${width}] whole on the emulated ${device} Edge TPU, ${availableParallelism()} cores ` +
    `(${cpus()[0]?.model ?? 'cpu'}); ` +
    (beforeRoot === undefined
      ? `server deadline ${deadlineMs} ms, queue limit ${queueLimit}, `
      : `answers counted late after ${deadlineMs} ms + 1 s, `) +
    `${encoding} tensors; ` +
    'client in this process, server in a child',
);

// 1. The sustainable rate: the goodput plateau of closed loops.
const plateau = [];
for (const concurrency of [16, 64]) {
  const r = await runClosedLoop(client, 'tiny', inputs, {
    concurrency,
    durationMs: measureS * 1000,
    warmupMs: 1000,
    binary: encoding === 'binary',
  });
  plateau.push({ concurrency, okPerS: r.requestsPerS, p99Ms: r.latency.p99Ms, errors: r.errors });
  log(
    `  closed loop c=${String(concurrency).padStart(2)}: ${r.requestsPerS.toFixed(0)} ok/s, p99 ${r.latency.p99Ms?.toFixed(1)} ms` +
      (Object.keys(r.errors).length ? `, errors ${JSON.stringify(r.errors)}` : ''),
  );
}
client.close();
const sustainable = Math.max(...plateau.map((p) => p.okPerS));
const offered = factor * sustainable;
log(
  `  sustainable: ${sustainable.toFixed(0)} ok/s → offering ${offered.toFixed(0)} req/s open-loop for ${durationS} s`,
);

// 2. Overload.
const logBefore = await fileSize(logPath);
const memBefore = await memoryOf(pid);
const stopScraper = startScraper(base);
const encoded = new KServeClient(base).encodeInfer(inputs, { binary: encoding === 'binary' });
const window = { fromUs: profileClockUs() };
const run = await openLoop(base, encoded, offered, durationS * 1000);
window.toUs = profileClockUs();
const scrapes = await stopScraper();
const memAfter = await memoryOf(pid);
const logBytes = (await fileSize(logPath)) - logBefore;

const statuses = {};
let ok = 0;
let unanswered = 0;
let other5xx = 0;
const okLatencies = [];
for (let i = 0; i < run.n; i++) {
  const code = run.status[i];
  const key = code === 0 ? 'network' : String(code);
  statuses[key] = (statuses[key] ?? 0) + 1;
  if (code === 200) {
    ok++;
    okLatencies.push(run.latency[i]);
  }
  if (code === 0 || (code >= 500 && code !== 503 && code !== 504)) other5xx++;
  if (code === 0 || run.latency[i] > deadlineMs + GRACE_MS) unanswered++;
}
const windowS = (run.sendEnd - run.t0) / 1000;
const goodput = ok / windowS;
const scrapeWorst = Math.max(
  ...Object.values(scrapes.endpoints).map((e) => e.p99Ms ?? Number.POSITIVE_INFINITY),
);

server.child.kill('SIGTERM');
const exit = await server.exited;
const profiled = profile ? await profileSummary(join(work, 'cpuprof'), root, 25, window) : null;
if (!keep) await rm(work, { recursive: true, force: true });

const result = {
  setup: {
    device,
    width,
    encoding,
    deadlineMs,
    queueLimit,
    factor,
    durationS,
    measureS,
    seed,
    before: beforeRoot ?? null,
  },
  target: TARGET,
  sustainable: { okPerS: sustainable, closedLoops: plateau },
  overload: {
    offeredPerS: run.n / windowS,
    clientCpuShare: run.clientCpu,
    clientLagMaxMs: run.clientLagMaxMs,
    networkErrors: run.failures,
    sent: run.n,
    statuses,
    goodputPerS: goodput,
    goodputFraction: goodput / sustainable,
    unansweredPastDeadline: unanswered,
    other5xx,
    okLatency: summarizeLatencies(okLatencies),
    logBytes,
    rss: {
      before: memBefore.rss,
      after: memAfter.rss,
      peak: memAfter.peak,
      maxFromMetrics: scrapes.rssMaxFromMetrics,
    },
    scrapes: scrapes.endpoints,
    serverEventLoop: {
      delayMaxMs: scrapes.eventLoopDelayMaxMs,
      medianOfPerSecondMaxMs: scrapes.eventLoopDelayMaxP50Ms,
      gcSecondsSinceStart: scrapes.gcSecondsTotal,
    },
  },
  serverExit: exit,
  ...(profiled !== null ? { profile: profiled } : {}),
  ...(keep ? { work } : {}),
};

if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const mb = (b) => (b === null || !Number.isFinite(b) ? '—' : `${(b / 2 ** 20).toFixed(1)} MiB`);
  const verdict = (good) => (good ? 'meets' : 'misses');
  const o = result.overload;
  console.log('');
  console.log(
    `offered        ${o.offeredPerS.toFixed(0)} req/s for ${windowS.toFixed(1)} s (${o.sent} requests, seed ${seed}); ` +
      `the load generator used ${(100 * o.clientCpuShare).toFixed(0)} % of a core and sent up to ` +
      `${o.clientLagMaxMs.toFixed(0)} ms late`,
  );
  console.log(`statuses       ${JSON.stringify(o.statuses)}`);
  console.log(
    `goodput        ${o.goodputPerS.toFixed(0)} ok/s = ${o.goodputFraction.toFixed(2)} × sustainable (target ≥ ${TARGET.goodputFraction}) — ${verdict(o.goodputFraction >= TARGET.goodputFraction)}`,
  );
  console.log(
    `unanswered     ${o.unansweredPastDeadline} past deadline + ${GRACE_MS / 1000} s (target 0) — ${verdict(o.unansweredPastDeadline === 0)}`,
  );
  console.log(
    `other 5xx      ${o.other5xx} (target 0) — ${verdict(o.other5xx === 0)}` +
      (Object.keys(o.networkErrors).length > 0 ? `; no answer: ${JSON.stringify(o.networkErrors)}` : ''),
  );
  console.log(
    `200 latency    p50 ${o.okLatency.p50Ms?.toFixed(1)} ms, p99 ${o.okLatency.p99Ms?.toFixed(1)} ms, max ${o.okLatency.maxMs?.toFixed(1)} ms (measured by the client; the Edge TPU's time in it is emulated)`,
  );
  console.log(
    `log            ${o.logBytes} bytes during the overload (target < ${TARGET.logBytes / 1e6} MB) — ${verdict(o.logBytes < TARGET.logBytes)}`,
  );
  console.log(
    `RSS            ${mb(o.rss.before)} before, peak ${mb(o.rss.peak)} (VmHWM), ${mb(o.rss.after)} after`,
  );
  for (const [path, s] of Object.entries(o.scrapes)) {
    console.log(
      `${path.padEnd(18)} ${String(s.count).padStart(3)} scrapes, p50 ${s.p50Ms?.toFixed(1)} ms, p99 ${s.p99Ms?.toFixed(1)} ms, max ${s.maxMs?.toFixed(1)} ms${s.failed ? `, ${s.failed} failed` : ''}`,
    );
  }
  const loop = o.serverEventLoop;
  if (loop.delayMaxMs !== null) {
    console.log(
      `server loop    longest event-loop delay ${loop.delayMaxMs.toFixed(1)} ms (median of the per-second maxima ` +
        `${loop.medianOfPerSecondMaxMs.toFixed(1)} ms); GC ${loop.gcSecondsSinceStart.toFixed(2)} s since start`,
    );
  }
  console.log(
    `scrapes        worst p99 ${scrapeWorst.toFixed(1)} ms (target < ${TARGET.scrapeP99Ms} ms) — ${verdict(scrapeWorst < TARGET.scrapeP99Ms)}`,
  );
  if (profiled !== null) printProfile('Server main thread during the overload', profiled);
  if (keep) console.log(`work directory: ${work}`);
}
if (exit.code !== 0) {
  console.error(
    `server did not exit cleanly (code ${exit.code}, signal ${exit.signal}):\n${server.stderr()}`,
  );
  process.exitCode = 1;
}
