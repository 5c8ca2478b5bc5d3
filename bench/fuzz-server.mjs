// Hostile registrations against a running server (run after `npm run build`):
// `npm run bench:fuzz-server [-- --count N] [-- --seed S] [-- --rate R] [-- --vet-timeout MS] [-- --json] [-- --keep]`
//
// Starts the real server (apps/server/bin/swapless-server.js) in a child process with a temporary model repository
// and a private cache, and one good tenant (`good`: the 10-op int8 test network) that a steady load of `--rate`
// inferences per second (default 20, one at a time) keeps busy for the whole run. Then performs N hostile
// registrations (`--count`, default 100): each writes a model into the repository as `m<i>/model.tflite` and
// registers it with `POST /api/v1/tenants`; one that is accepted is unregistered again, and its folder is removed.
// The first five are the hostile fixtures (fixtures/models/hostile, each killed a TFLite process); the others are
// seeded mutants (`--seed`, default 1) of real models — Coral's test models (fixtures/models/coral), MediaPipe's
// face and hand models — and of two int8 models the server serves whole, so that their mutants get past every
// check that is not vetting: the 10-op test network and the zoo's MobileNet v1 (generated once, cached).
//
// It counts server deaths (the target is 0; a dead server is restarted, and the model that killed it is written to
// the work directory as a reproducer), the registrations' outcomes by HTTP status and error code, and the good
// tenant's answers and failures during the run. Before the run it measures how long vetting one model takes (a
// small and a large one, uncached, then cached), side by side in this process.
//
// `--vet-timeout MS` is the server's vetting timeout (default 10000); `--no-vetting` runs the server without
// vetting, for comparison (expect deaths); `--keep` keeps the work directory (the server's log is `server.log`
// there; it is also kept, with the reproducers, whenever the server died); `--json` prints one JSON object instead
// of the report. The exit status is 1 when the server died.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { progressBar, stderrSink } from '@swapless/core';
import { Vetter } from '@swapless/edgetpu';
import { buildTestNet } from '@swapless/int8-builder';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { generateZooModel } from '@swapless/zoo';
import { generateMutants as sharedMutants } from './fuzz-mutants.mjs';
import { benchArgs, spawnReady } from './server-bench-support.mjs';

const { args, opt } = await benchArgs(import.meta.url);
function intOpt(name, fallback, min, max) {
  const raw = opt(name, String(fallback));
  const n = Number(raw);
  if (!/^\d+$/.test(String(raw)) || n < min || n > max) {
    console.error(`fuzz-server: expected an integer from ${min} to ${max} for ${name} but received ${raw}`);
    process.exit(2);
  }
  return n;
}
const count = intOpt('--count', 100, 1, 1_000_000);
const seed = intOpt('--seed', 1, 0, 2 ** 32 - 1);
const rate = intOpt('--rate', 20, 1, 1000);
const vetTimeoutMs = intOpt('--vet-timeout', 10_000, 100, 3_600_000);
const json = args.includes('--json');
const keep = args.includes('--keep');
const vetting = !args.includes('--no-vetting');

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'apps/server/bin/swapless-server.js');
const require = createRequire(import.meta.url);
const mediapipe = (pkg, file) => join(dirname(require.resolve(`${pkg}/package.json`)), file);
const log = (...a) => {
  if (!json) console.log(...a);
};

// ---------------------------------------------------------------------------------------------------------------
// Mutants: the seeded generator shared with bench/fuzz-bench.mjs (mutations from @swapless/tflite/testing).

/** Seeded mutants of `sources` (`{ name, bytes }` of valid models), as `{ bytes, seed, mutation }`. */
function* generateMutants({ seed: first, count: n, sources }) {
  for (const m of sharedMutants({ seed: first, count: n, sources })) {
    yield { bytes: m.bytes, seed: m.seed, mutation: `${m.source}: ${m.detail}` };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The run.

const work = await mkdtemp(join(tmpdir(), 'swapless-fuzz-server-'));
const repo = join(work, 'models');
const cache = join(work, 'cache');
const good = writeModel(buildTestNet(3));
await mkdir(join(repo, 'good'), { recursive: true });
await writeFile(join(repo, 'good', 'model.tflite'), good);

const coral = join(root, 'fixtures/models/coral');
const hostileDir = join(root, 'fixtures/models/hostile');
const HOSTILE = [
  'coral_keras_lstm_mnist_ptq-s1347-crash-SIGSEGV.tflite',
  'coral_keras_lstm_mnist_ptq-s2295-crash-SIGSEGV.tflite',
  'coral_keras_lstm_mnist_ptq-s1034-crash-SIGABRT.tflite',
  'coral_keras_lstm_mnist_ptq-s4573-crash-SIGABRT.tflite',
  'coral_mobilenet_v1_0.25_128_quant-s1425-crash-SIGABRT.tflite',
];
const SOURCES = [
  ['coral/keras_lstm_mnist_ptq', join(coral, 'keras_lstm_mnist_ptq.tflite')],
  ['coral/mobilenet_v1_0.25_128_quant', join(coral, 'mobilenet_v1_0.25_128_quant.tflite')],
  ['coral/mobilenet_v2_1.0_224_quant', join(coral, 'mobilenet_v2_1.0_224_quant.tflite')],
  ['coral/tf2_mobilenet_v2_1.0_224_ptq', join(coral, 'tf2_mobilenet_v2_1.0_224_ptq.tflite')],
  ['coral/movenet_single_pose_lightning_ptq', join(coral, 'movenet_single_pose_lightning_ptq.tflite')],
  [
    'mediapipe/face_detection_short_range',
    mediapipe('@mediapipe/face_detection', 'face_detection_short_range.tflite'),
  ],
  ['mediapipe/hand_landmark_lite', mediapipe('@mediapipe/hands', 'hand_landmark_lite.tflite')],
];
const sources = [];
for (const [name, path] of SOURCES) sources.push({ name, bytes: new Uint8Array(await readFile(path)) });
sources.push({ name: 'swapless/testnet', bytes: writeModel(buildTestNet(5)) });
const zoo = await generateZooModel('mobilenet_v1');
sources.push({ name: 'zoo/mobilenet_v1', bytes: new Uint8Array(await readFile(zoo.path)) });

/** Vetting cost, measured here: a small and a large model uncached, then a cached verdict. */
async function vetTimes() {
  const vetter = new Vetter({ cacheDir: join(work, 'vet-timing') });
  const small = mediapipe('@mediapipe/face_detection', 'face_detection_short_range.tflite');
  const large = mediapipe('@mediapipe/hands', 'hand_landmark_full.tflite');
  const row = async (label, path) => {
    const bytes = new Uint8Array(await readFile(path));
    const uncached = await vetter.vet(bytes);
    const cached = await vetter.vet(bytes);
    return {
      model: label,
      bytes: bytes.byteLength,
      uncachedMs: uncached.ms,
      childMs: uncached.childMs,
      cachedMs: cached.ms,
    };
  };
  return [await row('face_detection_short_range', small), await row('hand_landmark_full', large)];
}

/** Starts the server; resolves once it printed its JSON startup summary. */
async function startServer(generation) {
  const config = {
    port: 0,
    logLevel: 'warn',
    logDestination: join(work, 'server.log'),
    repository: repo,
    stateDir: join(work, 'state'),
    examples: false,
    profiling: { repetitions: 2, maxCuts: 3 },
    vetting: { enabled: vetting, timeoutMs: vetTimeoutMs },
    tenants: [{ name: 'good', model: 'good', rate: rate }],
  };
  const configPath = join(work, `config-${generation}.json`);
  await writeFile(configPath, JSON.stringify(config));
  const { child, summary, exited } = await spawnReady([bin, '--config', configPath, '--json'], {
    env: { ...process.env, SWAPLESS_CACHE_DIR: cache },
  });
  const server = { child, base: summary.urls.base, exited, dead: null };
  exited.then((how) => {
    server.dead = how;
  });
  return server;
}

const times = await vetTimes();
log('Vetting one model (load + one invoke + dispose in a child process), measured here:');
for (const t of times) {
  log(
    `  ${t.model.padEnd(28)} ${(t.bytes / 1e6).toFixed(2).padStart(5)} MB  uncached ${t.uncachedMs.toFixed(0).padStart(5)} ms` +
      ` (child work ${t.childMs.toFixed(0)} ms)  cached ${t.cachedMs.toFixed(1)} ms`,
  );
}

let generation = 0;
let server = await startServer(generation);
const deaths = [];
const outcomes = {};
/** The first error message of each outcome, for the report. */
const examples = {};
const goodTenant = { ok: 0, failed: 0, byOutcome: {} };
const t0 = performance.now();

// The steady load on the good tenant, one request at a time at `rate` per second, for the whole run.
const x = new Int8Array(16 * 16 * 3);
new SeededRandom(seed).fillUniformInt8(x);
const inferBody = JSON.stringify({
  inputs: [{ name: 'input', datatype: 'INT8', shape: [1, 16, 16, 3], data: Array.from(x) }],
});
let loading = true;
const load = (async () => {
  const period = 1000 / rate;
  let next = performance.now();
  while (loading) {
    next += period;
    let key;
    try {
      const r = await fetch(`${server.base}/v2/models/good/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: inferBody,
        signal: AbortSignal.timeout(30_000),
      });
      const body = await r.json();
      key = r.status === 200 ? null : `${r.status} ${body.code ?? ''}`.trim();
    } catch (error) {
      key = `no answer (${error.cause?.code ?? error.name})`;
    }
    if (key === null) goodTenant.ok++;
    else {
      goodTenant.failed++;
      goodTenant.byOutcome[key] = (goodTenant.byOutcome[key] ?? 0) + 1;
    }
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else next = performance.now();
  }
})();

async function register(i, bytes) {
  const dir = join(repo, `m${i}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'model.tflite'), bytes);
  let outcome;
  try {
    const r = await fetch(`${server.base}/api/v1/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: `t${i}`, model: `m${i}` }),
      signal: AbortSignal.timeout(300_000),
    });
    const body = await r.json();
    outcome = r.status === 201 ? '201 registered' : `${r.status} ${body.code ?? ''}`.trim();
    if (r.status !== 201) examples[outcome] ??= { registration: i, error: body.error, reason: body.reason };
    if (r.status === 201) {
      await fetch(`${server.base}/api/v1/tenants/t${i}`, { method: 'DELETE' }).catch(() => undefined);
    }
  } catch (error) {
    outcome = `no answer (${error.cause?.code ?? error.name})`;
  }
  await rm(dir, { recursive: true, force: true });
  return outcome;
}

async function* everything() {
  let i = 0;
  for (const file of HOSTILE.slice(0, count)) {
    yield {
      bytes: new Uint8Array(await readFile(join(hostileDir, file))),
      seed: null,
      mutation: `fixture ${file}`,
    };
    i++;
  }
  yield* generateMutants({ seed, count: count - i, sources });
}

const bar = progressBar(stderrSink);
let i = 0;
for await (const mutant of everything()) {
  const outcome = await register(i, mutant.bytes);
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  // A moment for an exit to be noticed: a crash during the request shows as "no answer", then as an exit.
  if (outcome.startsWith('no answer'))
    await Promise.race([server.exited, new Promise((r) => setTimeout(r, 500))]);
  if (server.dead !== null) {
    const file = join(work, `reproducer-${i}.tflite`);
    await writeFile(file, mutant.bytes);
    deaths.push({ registration: i, ...server.dead, mutation: mutant.mutation, reproducer: file });
    bar.done();
    console.error(
      `fuzz-server: the server died (code ${server.dead.code}, signal ${server.dead.signal}) on ${mutant.mutation}; restarting`,
    );
    server = await startServer(++generation);
  }
  i++;
  bar({
    phase: 'registrations',
    done: i,
    total: count,
    label: `deaths ${deaths.length}, good ${goodTenant.ok} ok / ${goodTenant.failed} failed`,
  });
}
bar.done();
loading = false;
await load;
const seconds = (performance.now() - t0) / 1000;
server.child.kill('SIGTERM');
const stopped = await server.exited;
// Reproducers live in the work directory: it is kept whenever the server died.
const kept = keep || deaths.length > 0;
if (!kept) await rm(work, { recursive: true, force: true });

const report = {
  count,
  seed,
  vetting: vetting ? { timeoutMs: vetTimeoutMs } : false,
  seconds: Math.round(seconds * 10) / 10,
  serverDeaths: deaths.length,
  deaths,
  registrations: Object.fromEntries(Object.entries(outcomes).sort((a, b) => b[1] - a[1])),
  examples,
  goodTenant: { rate, answered: goodTenant.ok, failed: goodTenant.failed, failures: goodTenant.byOutcome },
  vetTimes: times,
  shutdown: stopped,
  workDir: kept ? work : null,
};
if (json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  log(
    `\n${count} hostile registrations (seed ${seed}) in ${report.seconds} s against one server process` +
      `${vetting ? '' : ' WITHOUT vetting'}:`,
  );
  log(`  server deaths: ${deaths.length} (target 0)`);
  for (const d of deaths)
    log(`    #${d.registration}: code ${d.code}, signal ${d.signal}: ${d.mutation} → ${d.reproducer}`);
  log('  registrations by outcome:');
  for (const [k, n] of Object.entries(report.registrations)) {
    const e = examples[k];
    const example =
      e === undefined
        ? ''
        : `  e.g. #${e.registration}: ${e.error.length > 160 ? `${e.error.slice(0, 157)}...` : e.error}`;
    log(`    ${String(n).padStart(6)}  ${k}${example}`);
  }
  log(`  good tenant (${rate} req/s, one at a time): ${goodTenant.ok} answered, ${goodTenant.failed} failed`);
  for (const [k, n] of Object.entries(goodTenant.byOutcome)) log(`    ${String(n).padStart(6)}  ${k}`);
  log(
    `  clean shutdown: ${stopped.code === 0 ? 'yes' : `no (code ${stopped.code}, signal ${stopped.signal})`}`,
  );
  if (kept) log(`  work directory kept: ${work}`);
}
process.exitCode = deaths.length === 0 ? 0 : 1;
