// Runtime overhead benchmark (run after `npm run build`):
//   npm run bench:runtime [-- --json] [-- --rounds 24] [-- --per-round 150] [-- --compare path/to/other/index.js]
//
// The per-request cost of @swapless/runtime over a bare native invoke, for a ~1 ms model
// (face_detection_short_range from @mediapipe/face_detection, float32 [1,128,128,3], XNNPACK, 1 thread), as a
// CPU-only tenant (k = 0, 1 core, mg1). Every figure is measured on the real TFLite CPU runtime (no Edge TPU at
// k = 0). Paths, all in one process:
//
//   bare         setInput + invoke + getOutput (both outputs, into preallocated arrays) on the main thread,
//                sequentially — the reference;
//   bare-async   the same with `await invokeAsync()` (libuv pool): the floor of an executor that would run a
//                1-core mg1 stage on the libuv pool instead of a worker thread (without any runtime bookkeeping);
//   sequential   `await rt.submit()` one at a time: validation, admission, trace, the copy of the input into a
//                staging buffer, two thread hand-offs (main → worker, worker → main), setInput + invoke +
//                getOutput in the worker, output arrays handed back, promise resolution. A latency figure:
//                every hand-off is on the critical path;
//   pipelined N  a closed loop keeping N requests in flight (a new submit when one completes): the worker
//                never waits for the main thread, so the figure is the cost per request of the runtime's
//                bottleneck (throughput: wall time / requests);
//   … reuse      the same, each completion's output arrays handed back to the next submit
//                (`submit(name, inputs, { reuse: previous.outputs })`: opt-in output buffer reuse).
//
// Figures per request: wall µs (wall time / requests) and process CPU µs (process.cpuUsage() user + system over
// all threads / requests; for the bare path ≈ wall). Overhead = (path − bare) / bare.
//
// Method: the paths take turns in short rounds (bare, bare-async, sequential, pipelined 2, pipelined 4, bare, …),
// so load changes of a busy machine hit all of them alike; each round's overhead is taken against the bare round
// just before it, and the figure reported is the median over rounds (absolute figures: median of round means).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterpreter } from '@swapless/edgetpu';
import { createRuntime } from '@swapless/runtime';

const args = process.argv.slice(2);
const json = args.includes('--json');
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : args[at + 1];
};
const rounds = Number(flag('--rounds', 24));
const perRound = Number(flag('--per-round', 150));
const compare = flag('--compare', null);
// The worker spin is opt-in (it costs throughput when the machine is busy): `--spin-us 150` measures with it.
const spinUs = Number(flag('--spin-us', 0));

const mediapipe = dirname(createRequire(import.meta.url).resolve('@mediapipe/face_detection/package.json'));
const modelPath = join(mediapipe, 'face_detection_short_range.tflite');
const bytes = new Uint8Array(readFileSync(modelPath));

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const input = new Float32Array(128 * 128 * 3);
for (let i = 0; i < input.length; i += 1) input[i] = Math.sin(i) * 0.5;

/** Runs `body(n)` and returns wall and process-CPU µs per request. */
async function timed(n, body) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await body(n);
  const wall = ((performance.now() - t0) * 1000) / n;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / n };
}

const bare = createInterpreter(bytes, { threads: 1 });
const targets = bare.outputs.map((o) => new Float32Array(o.byteSize / 4));
const bareLoop = (n) => {
  for (let i = 0; i < n; i += 1) {
    bare.setInput(0, input);
    bare.invoke();
    bare.getOutput(0, targets[0]);
    bare.getOutput(1, targets[1]);
  }
};
const bareAsync = createInterpreter(bytes, { threads: 1 });
const asyncTargets = bareAsync.outputs.map((o) => new Float32Array(o.byteSize / 4));
const bareAsyncLoop = async (n) => {
  for (let i = 0; i < n; i += 1) {
    bareAsync.setInput(0, input);
    await bareAsync.invokeAsync();
    bareAsync.getOutput(0, asyncTargets[0]);
    bareAsync.getOutput(1, asyncTargets[1]);
  }
};

async function runtimeFrom(create, name) {
  const rt = await create({ cores: 1, device: 'usb3', workerSpinUs: spinUs });
  await rt.addTenant({ name: 'face', model: bytes, choice: { k: 0, cores: 1, mode: 'mg1' } });
  const sequential = async (n) => {
    for (let i = 0; i < n; i += 1) await rt.submit('face', [input]);
  };
  // `reuse`: each completion's output arrays are handed back to the next submit (SubmitOptions.reuse).
  const pipelined = (inFlight, reuse) => (n) =>
    new Promise((done, fail) => {
      let started = 0;
      let finished = 0;
      const next = (spare) => {
        if (started === n) {
          if (finished === n) done();
          return;
        }
        started += 1;
        rt.submit('face', [input], reuse && spare ? { reuse: spare } : undefined).then((r) => {
          finished += 1;
          next(r.outputs);
        }, fail);
      };
      for (let i = 0; i < inFlight; i += 1) next(null);
    });
  return {
    name,
    rt,
    sequential,
    pipelined2: pipelined(2, false),
    pipelined4: pipelined(4, false),
    pipelined2reuse: pipelined(2, true),
    pipelined4reuse: pipelined(4, true),
  };
}

const runtimes = [await runtimeFrom(createRuntime, 'runtime')];
if (compare !== null) {
  const other = await import(pathToFileURL(resolve(compare)).href);
  runtimes.push(await runtimeFrom(other.createRuntime, 'compare'));
}

// Same outputs from every path (a sanity check, not a timing).
bareLoop(1);
let same = true;
for (const r of runtimes) {
  const check = await r.rt.submit('face', [input]);
  same &&= check.outputs.every(
    (o, i) => Buffer.compare(Buffer.from(o.buffer), Buffer.from(targets[i].buffer)) === 0,
  );
  const again = await r.rt.submit('face', [input], { reuse: check.outputs });
  same &&= again.outputs.every(
    (o, i) => Buffer.compare(Buffer.from(o.buffer), Buffer.from(targets[i].buffer)) === 0,
  );
}

const paths = [['bare-async', bareAsyncLoop]];
for (const r of runtimes) {
  const p = r.name === 'runtime' ? '' : `${r.name} `;
  paths.push(
    [`${p}sequential`, r.sequential],
    [`${p}pipelined 2`, r.pipelined2],
    [`${p}pipelined 4`, r.pipelined4],
    [`${p}pipelined 2 reuse`, r.pipelined2reuse],
    [`${p}pipelined 4 reuse`, r.pipelined4reuse],
  );
}

// Warm-up (thread pools, caches, JIT).
await timed(100, bareLoop);
for (const [, body] of paths) await timed(100, body);

const samples = { bare: { wall: [], cpu: [] } };
for (const [name] of paths) samples[name] = { wall: [], cpu: [], wallPct: [], cpuPct: [] };
const workerUs = [];
for (let r = 0; r < rounds; r += 1) {
  for (const [name, body] of paths) {
    const b = await timed(perRound, bareLoop);
    samples.bare.wall.push(b.wall);
    samples.bare.cpu.push(b.cpu);
    const m = await timed(perRound, body);
    const s = samples[name];
    s.wall.push(m.wall);
    s.cpu.push(m.cpu);
    s.wallPct.push(((m.wall - b.wall) / b.wall) * 100);
    s.cpuPct.push(((m.cpu - b.cpu) / b.cpu) * 100);
    if (name === 'sequential') {
      const obs = runtimes[0].rt.observe().tenants.face;
      workerUs.push((obs.cpuServiceMs.reduce((a, x) => a + x, 0) / obs.cpuServiceMs.length) * 1000);
    }
  }
  runtimes[0].rt.observe();
}
for (const r of runtimes) await r.rt.close();
bare.dispose();
bareAsync.dispose();

const fix = (x) => Number(x.toFixed(1));
const pct = (x) => Number(x.toFixed(2));
const rows = [{ path: 'bare', wallUs: fix(median(samples.bare.wall)), cpuUs: fix(median(samples.bare.cpu)) }];
for (const [name] of paths) {
  const s = samples[name];
  rows.push({
    path: name,
    wallUs: fix(median(s.wall)),
    cpuUs: fix(median(s.cpu)),
    wallOverheadPct: pct(median(s.wallPct)),
    cpuOverheadPct: pct(median(s.cpuPct)),
  });
}
const row = (name) => rows.find((x) => x.path === name);
const result = {
  model: 'face_detection_short_range.tflite (float32 [1,128,128,3], 164 ops), XNNPACK, 1 thread',
  tenant: 'k = 0, 1 core, mg1',
  rounds,
  perRound,
  rows,
  workerInvokeUs: fix(median(workerUs)),
  target: {
    limitPct: 3,
    sequentialPct: row('sequential').wallOverheadPct,
    pipelinedPct: row('pipelined 2').wallOverheadPct,
    metBySequential: row('sequential').wallOverheadPct <= 3,
    metByPipelined: row('pipelined 2').wallOverheadPct <= 3,
  },
  outputsIdentical: same,
  source: 'measured (real TFLite CPU runtime; no Edge TPU involved at k = 0)',
  loadavg: loadavg().map((x) => Number(x.toFixed(2))),
  cores: availableParallelism(),
};
if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log(`runtime overhead over a bare native invoke — ${result.model}; tenant ${result.tenant}`);
  console.log(
    `  ${rounds} rounds × ${perRound} requests per path, paths interleaved with a bare round before each;`,
  );
  console.log(
    '  overhead = median over rounds of (path − preceding bare) / bare; µs = median of round means',
  );
  console.log(
    `  ${'path'.padEnd(24)}${'wall µs/req'.padStart(12)}${'overhead'.padStart(10)}${'CPU µs/req'.padStart(12)}${'overhead'.padStart(10)}`,
  );
  for (const x of rows) {
    const o = (v) => (v === undefined ? '' : `${v >= 0 ? '+' : ''}${v.toFixed(1)} %`);
    console.log(
      `  ${x.path.padEnd(24)}${x.wallUs.toFixed(1).padStart(12)}${o(x.wallOverheadPct).padStart(10)}${x.cpuUs.toFixed(1).padStart(12)}${o(x.cpuOverheadPct).padStart(10)}`,
    );
  }
  console.log(`  setInput+invoke+getOutput inside the worker (sequential): ${result.workerInvokeUs} µs`);
  console.log(
    `  target ≤ 3 %: sequential latency ${result.target.metBySequential ? 'met' : 'not met'} (${result.target.sequentialPct} %), pipelined throughput (2 in flight) ${result.target.metByPipelined ? 'met' : 'not met'} (${result.target.pipelinedPct} %)`,
  );
  console.log(
    `  outputs identical: ${same}; load average ${result.loadavg.join(' ')} on ${result.cores} cores`,
  );
}
