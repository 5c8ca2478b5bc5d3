// Live runtime benchmark (run after `npm run build`): `npm run bench:live [-- --json] [-- --only live|overload]
// [-- --duration 60] [-- --policy alternate|rate-rule] [-- --controller ./my-policy.mjs]`.
//
// Two tenants (zoo mobilenet_v1 and mobilenet_v2 at 128 px, int8) share one emulated usb3 Edge TPU that runs in
// real time (the device model's modelled duration is waited out), in functional mode (heads are computed on the
// CPU so every output is the real output), with real TFLite CPU stages on worker threads (1 core each, mg1).
//
// 1. live: Poisson open-loop arrivals for `duration` s with a rate step at duration/2; a decision source
//    reconfigures every ~2.5 s (default: alternate between two good cuts per tenant; `--policy rate-rule` picks
//    the cut from the observed rates; `--controller file.mjs` imports `export function decide(observation,
//    state) → decision | null`). Checks: every request completes exactly once, none lost or duplicated, every
//    output bit-identical to the unsplit model's output on the same input. Prints latency per tenant.
// 2. overload: measures the sustainable rate with a short saturating run, then offers 2× that rate (Poisson)
//    for `duration` s with a queue limit: every request must end in a result or a typed rejection, nothing may
//    hang, and RSS must stay bounded (printed over time).
//
// Latencies are measured end to end on this machine; the TPU part is emulated (device model, real-time wait).

import { availableParallelism, loadavg } from 'node:os';
import { createInterpreter } from '@swapless/edgetpu';
import { createRuntime } from '@swapless/runtime';
import { SeededRandom, writeModel } from '@swapless/tflite';
import { buildZooModel } from '@swapless/zoo';

const args = process.argv.slice(2);
const json = args.includes('--json');
const opt = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args[at + 1];
};
const durationS = Number(opt('--duration', 60));
const only = opt('--only', 'both');
const policyName = opt('--policy', 'alternate');
const controllerPath = opt('--controller', undefined);
const RECONFIGURE_EVERY_MS = 2500;

const log = (...a) => {
  if (!json) console.log(...a);
};

// --- tenants: models, good cuts, inputs and their reference outputs (unsplit model, XNNPACK, 1 thread)
const TENANTS = [
  { name: 'mnv1', zoo: 'mobilenet_v1', cuts: [8, 16], rates: [60, 110] },
  { name: 'mnv2', zoo: 'mobilenet_v2', cuts: [17, 33], rates: [60, 60] },
];
const INPUTS_PER_TENANT = 12;
for (const t of TENANTS) {
  t.bytes = writeModel(buildZooModel(t.zoo, { inputSize: 128 }));
  const ref = createInterpreter(t.bytes, { threads: 1 });
  const rng = new SeededRandom(t.name.length * 7919);
  t.inputs = [];
  t.expected = [];
  for (let i = 0; i < INPUTS_PER_TENANT; i += 1) {
    const x = new Int8Array(ref.inputs[0].byteSize);
    rng.fillUniformInt8(x);
    ref.setInput(0, x);
    ref.invoke();
    t.inputs.push(x);
    t.expected.push(ref.outputs.map((_, j) => Buffer.from(ref.getOutput(j).buffer)));
  }
  ref.dispose();
}

// --- decision sources (pluggable: anything with decide(observation, state) → decision | null)
const policies = {
  /** Alternates every tenant between its two cuts. */
  alternate: {
    decide(_obs, state) {
      return {
        tenants: TENANTS.map((t) => ({ name: t.name, k: t.cuts[state.round % 2], cores: 1, mode: 'mg1' })),
      };
    },
  },
  /** More of the model on the TPU for a tenant whose observed rate is above the median tenant rate. */
  'rate-rule': {
    decide(obs, state) {
      const seconds = (obs.toMs - obs.fromMs) / 1000;
      const rates = TENANTS.map((t) => (obs.tenants[t.name]?.arrivalsMs.length ?? 0) / seconds);
      const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
      // The alternation bit keeps reconfigurations happening in steady state too (the point of this bench).
      return {
        tenants: TENANTS.map((t, i) => ({
          name: t.name,
          k: rates[i] > mean || state.round % 2 === 1 ? t.cuts[1] : t.cuts[0],
          cores: 1,
          mode: 'mg1',
        })),
      };
    },
  },
};
const policy = controllerPath
  ? await import(new URL(controllerPath, `file://${process.cwd()}/`).href)
  : policies[policyName];
if (typeof policy?.decide !== 'function')
  throw new Error(`no decide() in policy ${controllerPath ?? policyName}`);

function summary(values) {
  const s = Float64Array.from(values).sort();
  const q = (p) => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]);
  const mean = s.length === 0 ? 0 : s.reduce((a, b) => a + b, 0) / s.length;
  const r = (x) => Number(x.toFixed(2));
  return {
    count: s.length,
    meanMs: r(mean),
    p50Ms: r(q(0.5)),
    p95Ms: r(q(0.95)),
    p99Ms: r(q(0.99)),
    maxMs: r(q(1)),
  };
}

const rssMiB = () => Number((process.memoryUsage().rss / 2 ** 20).toFixed(1));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function makeRuntime(queueLimit) {
  const rt = await createRuntime({ device: 'usb3', mode: 'functional', cores: 2, queueLimit });
  for (const t of TENANTS)
    await rt.addTenant({ name: t.name, model: t.bytes, choice: { k: t.cuts[0], cores: 1 } });
  return rt;
}

/**
 * Poisson open-loop load: `rateAt(tenantIndex, tSeconds)` req/s. Returns the per-request records once every
 * request has settled (or `hangTimeoutMs` elapsed after the end: those are reported as hung).
 */
async function openLoop(rt, { seconds, rateAt, seed, onTick, tickMs = 5000 }) {
  const rng = new SeededRandom(seed);
  const exp = (rate) => -Math.log(1 - rng.nextFloat()) / rate;
  const records = [];
  const pending = new Set();
  const t0 = performance.now();
  const next = TENANTS.map((_, i) => exp(rateAt(i, 0)));
  let nextTick = tickMs;
  let seq = 0;
  for (;;) {
    const now = (performance.now() - t0) / 1000;
    if (now >= seconds) break;
    if (now * 1000 >= nextTick) {
      onTick?.(nextTick / 1000, records);
      nextTick += tickMs;
    }
    for (let i = 0; i < TENANTS.length; i += 1) {
      while (next[i] <= now) {
        const t = TENANTS[i];
        const input = seq % INPUTS_PER_TENANT;
        const rec = {
          seq: seq++,
          tenant: t.name,
          tenantIndex: i,
          input,
          phase: next[i] < seconds / 2 ? 0 : 1,
          settled: 0,
        };
        records.push(rec);
        const p = rt.submit(t.name, [t.inputs[input]]).then(
          (res) => {
            // Checked at once and only the figures kept, so the bench's own memory does not grow with the run.
            rec.settled += 1;
            rec.ok = true;
            rec.correct = sameOutputs(res.outputs, t.expected[input]);
            const tr = res.trace;
            rec.trace = {
              latencyMs: tr.latencyMs,
              config: tr.config,
              tpu: tr.tpu && { stageMs: tr.tpu.endMs - tr.tpu.startMs, modelledMs: tr.tpu.modelledMs },
              cpu: tr.cpu && { computeMs: tr.cpu.computeMs },
            };
          },
          (error) => {
            rec.settled += 1;
            rec.code = error?.code ?? String(error);
          },
        );
        pending.add(p);
        p.finally(() => pending.delete(p));
        next[i] += exp(rateAt(i, next[i]));
      }
    }
    const soonest = Math.min(...next) - (performance.now() - t0) / 1000;
    await sleep(Math.max(0, Math.min(soonest * 1000, nextTick - (performance.now() - t0))));
  }
  const hang = sleep(30_000).then(() => 'timeout');
  const outcome = await Promise.race([Promise.all([...pending]).then(() => 'done'), hang]);
  return { records, hung: outcome === 'timeout' ? pending.size : 0 };
}

function sameOutputs(outputs, want) {
  return (
    outputs.length === want.length &&
    outputs.every((o, j) => Buffer.compare(Buffer.from(o.buffer, o.byteOffset, o.byteLength), want[j]) === 0)
  );
}

function verify(records) {
  let wrong = 0;
  let duplicated = 0;
  let lost = 0;
  for (const r of records) {
    if (r.settled === 0) lost += 1;
    if (r.settled > 1) duplicated += 1;
    if (r.ok && !r.correct) wrong += 1;
  }
  return { lost, duplicated, wrong };
}

function perTenant(records, filter = () => true) {
  const out = {};
  for (const t of TENANTS) {
    const mine = records.filter((r) => r.tenant === t.name && r.trace !== undefined && filter(r));
    out[t.name] = {
      latency: summary(mine.map((r) => r.trace.latencyMs)),
      tpuStageMs: summary(mine.filter((r) => r.trace.tpu).map((r) => r.trace.tpu.stageMs)),
      tpuModelledMs: summary(mine.filter((r) => r.trace.tpu).map((r) => r.trace.tpu.modelledMs)),
      cpuComputeMs: summary(mine.filter((r) => r.trace.cpu).map((r) => r.trace.cpu.computeMs)),
    };
  }
  return out;
}

// --- 1. live run with reconfigurations
async function liveRun() {
  const rt = await makeRuntime(256);
  const reconf = { switched: 0, failed: 0, retired: 0, prepareMs: [] };
  rt.on('reconfigure', (e) => {
    if (e.phase === 'switched') {
      reconf.switched += 1;
      reconf.prepareMs.push(e.elapsedMs);
    } else if (e.phase === 'failed') reconf.failed += 1;
    else if (e.phase === 'retired') reconf.retired += 1;
  });
  let round = 0;
  let stopped = false;
  const controllerLoop = (async () => {
    rt.observe();
    while (!stopped) {
      await sleep(RECONFIGURE_EVERY_MS);
      if (stopped) break;
      round += 1;
      const decision = policy.decide(rt.observe(), { round, stats: rt.stats() });
      if (decision) await rt.reconfigure(decision).catch(() => undefined);
    }
  })();
  const rss = [];
  log(
    `live: ${durationS} s, rates ${TENANTS.map((t) => `${t.name} ${t.rates[0]}→${t.rates[1]}/s`).join(', ')}, step at ${durationS / 2} s, policy ${controllerPath ?? policyName}`,
  );
  const { records, hung } = await openLoop(rt, {
    seconds: durationS,
    seed: 1,
    rateAt: (i, t) => TENANTS[i].rates[t < durationS / 2 ? 0 : 1],
    onTick: (s, records) => {
      rss.push({ atS: s, rssMiB: rssMiB() });
      log(`  t=${s}s rss ${rssMiB()} MiB, completed ${records.filter((r) => r.settled).length}`);
    },
  });
  stopped = true;
  await controllerLoop;
  const stats = rt.stats();
  await rt.close();
  const v = verify(records);
  const rejected = records.filter((r) => r.code === 'SWAPLESS_OVERLOADED').length;
  const failed = records.filter((r) => r.code !== undefined && r.code !== 'SWAPLESS_OVERLOADED').length;
  return {
    durationS,
    submitted: records.length,
    completed: records.filter((r) => r.ok).length,
    rejected,
    failed,
    hung,
    ...v,
    correct: records.filter((r) => r.ok).length - v.wrong,
    reconfigurations: reconf.switched,
    reconfigurationsFailed: reconf.failed,
    configurationsRetired: reconf.retired,
    prepareToSwitchMs: summary(reconf.prepareMs),
    configsUsed: new Set(records.filter((r) => r.ok).map((r) => `${r.tenant}#${r.trace.config}`)).size,
    tpuReloads: stats.tpu.reloads,
    latency: {
      all: perTenant(records),
      beforeStep: perTenant(records, (r) => r.phase === 0),
      afterStep: perTenant(records, (r) => r.phase === 1),
    },
    rss,
  };
}

// --- 2. overload at 2× the sustainable rate
async function overloadRun() {
  const rt = await makeRuntime(64);
  // Sustainable rate: throughput of a saturating closed loop (32 outstanding per tenant) for 4 s.
  let done = 0;
  let stop = false;
  const worker = async (t) => {
    let i = 0;
    while (!stop) {
      await rt.submit(t.name, [t.inputs[i++ % INPUTS_PER_TENANT]]).catch(() => undefined);
      done += 1;
    }
  };
  const loops = TENANTS.flatMap((t) => Array.from({ length: 32 }, () => worker(t)));
  await sleep(1000);
  const d0 = done;
  await sleep(4000);
  const sustainable = (done - d0) / 4;
  stop = true;
  await Promise.all(loops);
  const offered = 2 * sustainable;
  log(
    `overload: sustainable ≈ ${sustainable.toFixed(0)} req/s (closed loop), offering ${offered.toFixed(0)} req/s for ${durationS} s`,
  );
  const rss = [{ atS: 0, rssMiB: rssMiB() }];
  const { records, hung } = await openLoop(rt, {
    seconds: durationS,
    seed: 2,
    rateAt: () => offered / TENANTS.length,
    onTick: (s, records) => {
      rss.push({ atS: s, rssMiB: rssMiB() });
      log(`  t=${s}s rss ${rssMiB()} MiB, submitted ${records.length}`);
    },
  });
  const stats = rt.stats();
  await rt.close();
  const v = verify(records);
  const typed = records.filter((r) => r.code === 'SWAPLESS_OVERLOADED').length;
  const untyped = records.filter((r) => r.code !== undefined && r.code !== 'SWAPLESS_OVERLOADED').length;
  return {
    durationS,
    sustainableReqPerS: Number(sustainable.toFixed(1)),
    offeredReqPerS: Number(offered.toFixed(1)),
    submitted: records.length,
    completed: records.filter((r) => r.ok).length,
    rejectedOverloaded: typed,
    otherErrors: untyped,
    hung,
    ...v,
    queueLimitPerTenant: 64,
    tpuReloads: stats.tpu.reloads,
    latency: perTenant(records),
    rss,
  };
}

const result = {
  source:
    'measured end to end; TPU stage emulated in real time (usb3 device model), heads computed on the CPU (functional mode)',
  machine: { cores: availableParallelism(), loadavgBefore: loadavg().map((x) => Number(x.toFixed(2))) },
};
if (only === 'both' || only === 'live') result.live = await liveRun();
if (only === 'both' || only === 'overload') result.overload = await overloadRun();

if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const fmt = (s) => `mean ${s.meanMs} p50 ${s.p50Ms} p95 ${s.p95Ms} p99 ${s.p99Ms} ms (n=${s.count})`;
  if (result.live) {
    const l = result.live;
    console.log(`\nlive run (${result.source})`);
    console.log(
      `  requests ${l.submitted}: completed ${l.completed}, rejected ${l.rejected}, failed ${l.failed}, hung ${l.hung}`,
    );
    console.log(
      `  lost ${l.lost}, duplicated ${l.duplicated}, wrong outputs ${l.wrong} (all outputs compared bit for bit with the unsplit model)`,
    );
    console.log(
      `  reconfigurations ${l.reconfigurations} (failed ${l.reconfigurationsFailed}, configs retired ${l.configurationsRetired}, configs that served requests ${l.configsUsed}), TPU reloads ${l.tpuReloads}`,
    );
    console.log(`  call → switch: ${fmt(l.prepareToSwitchMs)}`);
    for (const [phase, per] of Object.entries(l.latency)) {
      for (const [name, s] of Object.entries(per)) {
        console.log(
          `  ${phase.padEnd(10)} ${name}: latency ${fmt(s.latency)}; TPU stage mean ${s.tpuStageMs.meanMs} (modelled ${s.tpuModelledMs.meanMs}), CPU compute mean ${s.cpuComputeMs.meanMs}`,
        );
      }
    }
  }
  if (result.overload) {
    const o = result.overload;
    console.log(
      `\noverload run: sustainable ${o.sustainableReqPerS} req/s, offered ${o.offeredReqPerS} req/s`,
    );
    console.log(
      `  requests ${o.submitted}: completed ${o.completed}, rejected (SWAPLESS_OVERLOADED) ${o.rejectedOverloaded}, other errors ${o.otherErrors}, hung ${o.hung}, lost ${o.lost}, duplicated ${o.duplicated}, wrong ${o.wrong}`,
    );
    console.log(`  RSS MiB over time: ${o.rss.map((r) => `${r.atS}s ${r.rssMiB}`).join(', ')}`);
    for (const [name, s] of Object.entries(o.latency)) console.log(`  ${name}: latency ${fmt(s.latency)}`);
  }
}
