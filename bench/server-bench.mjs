// Server benchmark (run after `npm run build`): `npm run bench:server [-- --duration 5] [-- --warmup 1]
// [-- --policies baseline,swapless,default,cpu] [-- --concurrency 1,8,64] [-- --encodings json,binary]
// [-- --rounds 1] [-- --before DIR] [-- --mode functional|timing-only] [-- --json] [-- --profile]`.
//
// Starts the real server (apps/server/bin/swapless-server.js) in a child process — so the load generator does not
// share its event loop — with one tenant, a tiny int8 model (one ADD over [1, 16]) in a temporary model
// repository, on the embedded default device (emulated usb3 Edge TPU, real time) in functional mode. Then drives
// `POST /v2/models/tiny/infer` in a closed loop (runClosedLoop/KServeClient from @swapless/adapter-kserve) at each
// concurrency, with JSON and with binary tensor data, and prints throughput and client-side p50/p99 side by side.
//
// One server per policy, all started first, because the policy decides where the tiny model runs:
//   swapless  what the controller chooses (printed: its cut k and cores)
//   default   the whole model on the Edge TPU (k = n): the TPU path; the emulator serialises calls on one device
//   cpu       the whole model on the CPU (k = 0): the CPU path (a worker thread per tenant)
//   baseline  not SwapLess: a bare fastify server answering the same route with a canned response (no parsing, no
//             model) — the HTTP ceiling of this machine with this client, for scale
// The servers take turns: each round runs every encoding and concurrency against every server in a row (the
// others idle meanwhile), so a change of the machine's load hits them alike; with `--rounds N` the figures are the
// medians over N rounds. Printed per run: throughput, client-side p50/p99, and the server process's CPU time per
// request (all its threads, from /proc on Linux). Then SwapLess's throughput as a multiple of bare fastify's, per
// encoding at concurrency 64 (target ≥ 0.75 ×), and the absolute target: ≥ 5,000 req/s with p99 < 20 ms at
// concurrency 64 on this machine (2 cores: the client and the server share them). With --profile the server of the
// first non-baseline policy runs under --cpu-prof and the bench prints where its busy time went (self time by
// function, top 25). `--before DIR` adds, for every SwapLess policy P, a server `P@before` started from another
// built checkout (e.g. a worktree of the previous commit), taking its turns with the others: a before/after
// comparison under the same load.
//
// Latencies are measured end to end by the client; the TPU stage's duration is emulated (device model, waited
// out in real time), the CPU stage is measured.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KServeClient, randomInputs, runClosedLoop } from '@swapless/adapter-kserve';
import { tinyModel } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { benchArgs, printProfile, profileSummary, spawnReady } from './server-bench-support.mjs';

const { args, opt } = await benchArgs(import.meta.url);
const json = args.includes('--json');
const profile = args.includes('--profile');
const durationMs = Number(opt('--duration', 5)) * 1000;
const warmupMs = Number(opt('--warmup', 1)) * 1000;
const policies = opt('--policies', 'baseline,swapless,default,cpu').split(',');
if (args.includes('--before')) {
  for (const p of [...policies]) if (p !== 'baseline') policies.push(`${p}@before`);
}
const concurrencies = opt('--concurrency', '1,8,64').split(',').map(Number);
const mode = opt('--mode', 'functional');
const encodingsArg = opt('--encodings', 'json,binary');
const encodings = encodingsArg.split(',');
const rounds = Number(opt('--rounds', 1));
const beforeRoot = opt('--before', undefined);
const TARGET = { requestsPerS: 5000, p99Ms: 20, concurrency: 64, ratioToBare: 0.75 };

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'apps/server/bin/swapless-server.js');
const log = (...a) => {
  if (!json) console.log(...a);
};

const work = await mkdtemp(join(tmpdir(), 'swapless-server-bench-'));
await mkdir(join(work, 'models', 'tiny'), { recursive: true });
await writeFile(
  join(work, 'models', 'tiny', 'model.tflite'),
  writeModel(tinyModel({ type: 'int8', shape: [1, 16] })),
);

/** Starts the SwapLess server with `policy` (the real bin, `--json` startup summary). */
async function startServer(name, { cpuProfDir } = {}) {
  const [policy, before] = name.split('@');
  const config = {
    port: 0,
    logLevel: 'warn',
    policy,
    mode,
    repository: join(work, 'models'),
    stateDir: join(work, 'state'),
    examples: false,
    // The bench's queue bound must not reject: 64 in flight is exactly the highest concurrency.
    queueLimit: 256,
    tenants: [{ name: 'tiny', model: 'tiny', rate: 5000 }],
  };
  const configPath = join(work, `config-${name}.json`);
  await writeFile(configPath, JSON.stringify(config));
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const serverBin = before === undefined ? bin : join(beforeRoot, 'apps/server/bin/swapless-server.js');
  return spawnReady([...nodeArgs, serverBin, '--config', configPath, '--json']);
}

async function stopServer(server) {
  server.child.kill('SIGTERM');
  const { code, signal } = await server.exited;
  if (code !== 0)
    throw new Error(`server did not exit cleanly (code ${code}, signal ${signal}):\n${server.stderr()}`);
}

async function tenantStatus(base) {
  const res = await fetch(`${base}/api/v1/tenants/tiny`);
  return res.json();
}

/**
 * The HTTP ceiling of this machine with this client: a bare fastify server (same version, no logger) answering the
 * same route with a canned response of the same shape, no parsing, no model. What the real server gets is
 * bounded by this (the client and the server share the cores).
 */
const BASELINE_SERVER = [
  "import Fastify from 'fastify';",
  'const app = Fastify({ logger: false });',
  "const out = JSON.stringify({ model_name: 'tiny', model_version: '1', outputs: [{ name: 'out', datatype: 'INT8', shape: [1, 16], data: new Array(16).fill(0) }] });",
  'app.removeAllContentTypeParsers();',
  "app.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, body, done) => done(null, body));",
  "app.post('/v2/models/tiny/infer', async (_req, reply) => reply.header('content-type', 'application/json').send(out));",
  "await app.listen({ host: '127.0.0.1', port: 0 });",
  "process.stdout.write(JSON.stringify({ urls: { base: 'http://127.0.0.1:' + app.server.address().port } }) + '\\n');",
  "process.on('SIGTERM', () => app.close().then(() => process.exit(0)));",
].join('\n');

/** Starts the bare-HTTP baseline server. */
function startBaseline() {
  return spawnReady(['--input-type=module', '-e', BASELINE_SERVER], { cwd: root });
}

/** CPU time of a process so far (user + system, all threads), ms; null where /proc is not there. */
async function cpuMsOf(pid) {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
    // utime and stime (fields 14 and 15 of the line) in clock ticks of 10 ms (USER_HZ = 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const runs = [];
const chosen = {};
let profiled = null;
log(
  `SwapLess server bench — tiny int8 ADD [1,16], ${availableParallelism()} cores (${cpus()[0]?.model ?? 'cpu'}), ` +
    `${durationMs / 1000} s per run after ${warmupMs / 1000} s warm-up, ${rounds} round(s); client in this process, ` +
    'servers in children',
);
const profiledPolicy = profile ? policies.find((p) => p !== 'baseline') : undefined;
const servers = new Map();
for (const policy of policies) {
  const cpuProfDir = policy === profiledPolicy ? join(work, 'cpuprof') : undefined;
  const server = policy === 'baseline' ? await startBaseline() : await startServer(policy, { cpuProfDir });
  const base = server.summary.urls.base;
  const meta =
    policy === 'baseline'
      ? { inputs: [{ name: 'x', datatype: 'INT8', shape: [1, 16] }] }
      : await (await fetch(`${base}/v2/models/tiny`)).json();
  servers.set(policy, {
    server,
    base,
    client: new KServeClient(base),
    inputs: randomInputs(meta),
    cpuProfDir,
  });
}
for (let round = 0; round < rounds; round++) {
  for (const encoding of encodings) {
    for (const concurrency of concurrencies) {
      for (const policy of policies) {
        const { server, base, client, inputs } = servers.get(policy);
        const baseline = policy === 'baseline';
        const cpu0 = await cpuMsOf(server.child.pid);
        const r = await runClosedLoop(client, 'tiny', inputs, {
          concurrency,
          durationMs,
          warmupMs,
          binary: encoding === 'binary',
        });
        const cpu1 = await cpuMsOf(server.child.pid);
        // Over the warm-up too: CPU per request of everything the server answered meanwhile.
        const answered = r.requests * ((durationMs + warmupMs) / durationMs);
        const cpuUs = cpu0 === null || cpu1 === null ? null : ((cpu1 - cpu0) * 1000) / answered;
        const status = baseline ? { k: null, ops: null } : await tenantStatus(base);
        chosen[policy] = { k: status.k, ops: status.ops, cores: status.cores, timing: status.timing };
        runs.push({
          round,
          policy,
          encoding,
          concurrency,
          k: status.k,
          ops: status.ops,
          serverCpuUsPerRequest: cpuUs,
          ...r,
        });
        log(
          `  ${policy.padEnd(8)} ${encoding.padEnd(6)} c=${String(concurrency).padStart(2)}  ` +
            `${r.requestsPerS.toFixed(0).padStart(6)} req/s  p50 ${r.latency.p50Ms?.toFixed(2)} ms  ` +
            `p99 ${r.latency.p99Ms?.toFixed(2)} ms` +
            (cpuUs === null ? '' : `  server CPU ${cpuUs.toFixed(0)} µs/req`) +
            (baseline ? '' : `  k=${status.k}/${status.ops}`) +
            (Object.keys(r.errors).length ? `  errors ${JSON.stringify(r.errors)}` : ''),
        );
      }
    }
  }
}
for (const [policy, { server, client, cpuProfDir }] of servers) {
  client.close?.();
  await stopServer(server);
  if (cpuProfDir) {
    const summary = await profileSummary(cpuProfDir, root);
    if (summary !== null) profiled = { policy, ...summary };
  }
}
await rm(work, { recursive: true, force: true });

/** One figure per policy, encoding and concurrency: the medians over the rounds. */
const results = [];
for (const policy of policies) {
  for (const encoding of encodings) {
    for (const concurrency of concurrencies) {
      const mine = runs.filter(
        (r) => r.policy === policy && r.encoding === encoding && r.concurrency === concurrency,
      );
      const cpu = mine.map((r) => r.serverCpuUsPerRequest).filter((v) => v !== null);
      results.push({
        policy,
        encoding,
        concurrency,
        k: mine[0].k,
        ops: mine[0].ops,
        requestsPerS: median(mine.map((r) => r.requestsPerS)),
        latency: {
          p50Ms: median(mine.map((r) => r.latency.p50Ms)),
          p99Ms: median(mine.map((r) => r.latency.p99Ms)),
        },
        serverCpuUsPerRequest: cpu.length > 0 ? median(cpu) : null,
        errors: Object.assign({}, ...mine.map((r) => r.errors)),
      });
    }
  }
}
/** SwapLess over bare fastify at the target concurrency: throughput ratio, per round then the median. */
const ratios = [];
if (policies.includes('baseline')) {
  for (const policy of policies.filter((p) => p !== 'baseline')) {
    for (const encoding of encodings) {
      const per = [];
      for (let round = 0; round < rounds; round++) {
        const at = (p) =>
          runs.find(
            (r) =>
              r.round === round &&
              r.policy === p &&
              r.encoding === encoding &&
              r.concurrency === TARGET.concurrency,
          );
        const mine = at(policy);
        const bare = at('baseline');
        if (mine && bare) per.push(mine.requestsPerS / bare.requestsPerS);
      }
      if (per.length > 0) ratios.push({ policy, encoding, ratio: median(per), perRound: per });
    }
  }
}

const pathOf = (policy) => {
  if (policy === 'baseline') return 'bare HTTP (ceiling)';
  const c = chosen[policy];
  if (!c) return policy;
  const where = c.k === 0 ? 'CPU path' : c.k === c.ops ? 'TPU path' : `split k=${c.k}`;
  return `${policy} (${where})`;
};
if (json) {
  console.log(JSON.stringify({ target: TARGET, chosen, results, ratios, runs, profile: profiled }, null, 2));
} else {
  const cell = (r) =>
    r
      ? `${r.requestsPerS.toFixed(0).padStart(6)}/s ${r.latency.p50Ms?.toFixed(1).padStart(5)} ${r.latency.p99Ms?.toFixed(1).padStart(5)}` +
        (r.serverCpuUsPerRequest === null ? '' : ` ${r.serverCpuUsPerRequest.toFixed(0).padStart(4)}µs`)
      : '—';
  const header = [
    'policy (where the model runs)'.padEnd(30),
    'enc   ',
    ...concurrencies.map((c) => `c=${c}  req/s  p50   p99  CPU/req`.padEnd(30)),
  ];
  console.log('');
  console.log(header.join(' '));
  for (const policy of policies) {
    for (const encoding of encodings) {
      const cells = concurrencies.map((c) =>
        cell(
          results.find((r) => r.policy === policy && r.encoding === encoding && r.concurrency === c),
        ).padEnd(30),
      );
      console.log([pathOf(policy).padEnd(30), encoding.padEnd(6), ...cells].join(' '));
    }
  }
  console.log(
    `\nTarget at c=${TARGET.concurrency}: ≥ ${TARGET.requestsPerS} req/s with p99 < ${TARGET.p99Ms} ms (latencies in ms, ` +
      'client-side round trip; TPU stage emulated, CPU stage measured; CPU/req: the server process, all threads).',
  );
  for (const policy of policies) {
    for (const encoding of encodings) {
      const r = results.find(
        (x) => x.policy === policy && x.encoding === encoding && x.concurrency === TARGET.concurrency,
      );
      if (!r) continue;
      const ok = r.requestsPerS >= TARGET.requestsPerS && (r.latency.p99Ms ?? Infinity) < TARGET.p99Ms;
      console.log(
        `  ${pathOf(policy).padEnd(30)} ${encoding.padEnd(6)} ${ok ? 'meets' : 'misses'} the target`,
      );
    }
  }
  if (ratios.length > 0) {
    console.log(
      `\nThroughput as a multiple of bare fastify at c=${TARGET.concurrency} (target ≥ ${TARGET.ratioToBare} ×; median of ` +
        `${rounds} round(s), each against the bare run just before it):`,
    );
    for (const r of ratios) {
      console.log(
        `  ${pathOf(r.policy).padEnd(30)} ${r.encoding.padEnd(6)} ${r.ratio.toFixed(2)} ×  ` +
          `${r.ratio >= TARGET.ratioToBare ? 'meets' : 'misses'}` +
          (r.perRound.length > 1 ? `  (rounds: ${r.perRound.map((x) => x.toFixed(2)).join(', ')})` : ''),
      );
    }
  }
  if (profiled) printProfile(`Server CPU profile (${profiled.policy}, whole run)`, profiled);
}
