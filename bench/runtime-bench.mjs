// Runtime overhead benchmark (run after `npm run build`): `npm run bench:runtime [-- --json] [-- --rounds 12]`.
//
// The per-request cost of @swapless/runtime over a bare native invoke, for a ~1 ms model
// (face_detection_short_range from @mediapipe/face_detection, float32 [1,128,128,3], XNNPACK, 1 thread):
//
//   bare     setInput + invoke + getOutput (both outputs) on the main thread, sequentially;
//   runtime  the same bytes as a CPU-only tenant (k = 0, 1 core, mg1), `await rt.submit()` sequentially:
//            input validation, admission, trace, postMessage of the input to the tenant's worker thread
//            (structured clone = one copy), setInput + invoke + getOutput in the worker, transfer of the outputs
//            back, output assembly, promise resolution.
//
// The two take turns in rounds (bare, runtime, bare, …) so machine load hits both alike; the figure per side is
// the median over rounds of the mean per-request time in a round. Every figure is measured on the real TFLite
// CPU runtime; no Edge TPU is involved (k = 0).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterpreter } from '@swapless/edgetpu';
import { createRuntime } from '@swapless/runtime';

const args = process.argv.slice(2);
const json = args.includes('--json');
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at === -1 ? fallback : Number(args[at + 1]);
};
const rounds = flag('--rounds', 12);
const perRound = flag('--per-round', 300);

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

const bare = createInterpreter(bytes, { threads: 1 });
const targets = bare.outputs.map((o) => new Float32Array(o.byteSize / 4));
function bareRound(n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1) {
    bare.setInput(0, input);
    bare.invoke();
    bare.getOutput(0, targets[0]);
    bare.getOutput(1, targets[1]);
  }
  return ((performance.now() - t0) * 1000) / n;
}

const rt = await createRuntime({ cores: 1, device: 'usb3' });
await rt.addTenant({ name: 'face', model: bytes, choice: { k: 0, cores: 1, mode: 'mg1' } });
async function runtimeRound(n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1) await rt.submit('face', [input]);
  return ((performance.now() - t0) * 1000) / n;
}

// Same outputs from both paths (a sanity check, not a timing).
const check = await rt.submit('face', [input]);
bareRound(1);
const same = check.outputs.every(
  (o, i) => Buffer.compare(Buffer.from(o.buffer), Buffer.from(targets[i].buffer)) === 0,
);

// Warm-up (thread pools, caches, JIT).
bareRound(100);
await runtimeRound(100);

const bareUs = [];
const runtimeUs = [];
const workerUs = [];
for (let r = 0; r < rounds; r += 1) {
  bareUs.push(bareRound(perRound));
  const before = rt.observe();
  void before;
  runtimeUs.push(await runtimeRound(perRound));
  const obs = rt.observe().tenants.face;
  workerUs.push((obs.cpuServiceMs.reduce((a, b) => a + b, 0) / obs.cpuServiceMs.length) * 1000);
}
await rt.close();
bare.dispose();

const b = median(bareUs);
const w = median(runtimeUs);
const inWorker = median(workerUs);
const result = {
  model: 'face_detection_short_range.tflite (float32 [1,128,128,3], 164 ops), XNNPACK, 1 thread',
  rounds,
  perRound,
  bareUsPerRequest: Number(b.toFixed(1)),
  runtimeUsPerRequest: Number(w.toFixed(1)),
  overheadUs: Number((w - b).toFixed(1)),
  overheadPct: Number((((w - b) / b) * 100).toFixed(2)),
  workerInvokeUs: Number(inWorker.toFixed(1)),
  outputsIdentical: same,
  source: 'measured (real TFLite CPU runtime; no Edge TPU involved at k = 0)',
  loadavg: loadavg().map((x) => Number(x.toFixed(2))),
  cores: availableParallelism(),
};
if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  console.log(`runtime overhead over a bare native invoke — ${result.model}`);
  console.log(`  rounds ${rounds} × ${perRound} sequential requests, median of round means`);
  console.log(`  bare setInput+invoke+getOutput (main thread): ${result.bareUsPerRequest} µs`);
  console.log(`  runtime submit → result (k = 0, worker thread):  ${result.runtimeUsPerRequest} µs`);
  console.log(`    of which setInput+invoke+getOutput in the worker: ${result.workerInvokeUs} µs`);
  console.log(`  overhead: ${result.overheadUs} µs = ${result.overheadPct} %   (target ≤ 3 %)`);
  console.log(
    `  outputs identical: ${same}; load average ${result.loadavg.join(' ')} on ${result.cores} cores`,
  );
}
