// Native binding benchmark (run after `npm run build`): `npm run bench:native [-- --json] [-- --tiny-model f]`.
//
// (a) the N-API round trip: setInput + invoke + getOutput(into a caller array) on a tiny model, next to the
//     invoke time of the same model measured from C++ alone (Interpreter.benchmarkInvoke), so the JS
//     overhead is visible as a difference and a ratio;
// (b) RSS over rounds of 10,000 create/invoke/dispose cycles (a leak grows every round; warm-up plateaus);
// (c) invoke time of a large generated int8 model (and a real float model) with XNNPACK at 1 and 2 threads,
//     interleaved, and the 1-vs-2 speed-up.
// Every latency is measured on the real TFLite CPU runtime on this machine ("measured"), never emulated.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterpreter, runtimeInfo } from '@swapless/edgetpu';
import { GraphBuilder } from '@swapless/int8-builder';
import { writeModel } from '@swapless/tflite';
import { tinyAddModel } from '../native/tflite-addon/test/tiny-model.mjs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const flag = (name) => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};

/**
 * The model for the round-trip figure: as small as possible so invoke costs ~nothing. `--tiny-model <file>`
 * wins; otherwise the one-op ADD fixture.
 * @returns {{ bytes: Uint8Array, label: string }}
 */
function tinyModel() {
  const file = flag('--tiny-model');
  if (file !== undefined) return { bytes: readFileSync(file), label: file };
  return {
    bytes: tinyAddModel(4),
    label: 'ADD float32 [1,4] (native/tflite-addon/test/fixtures/tiny-add-4.tflite)',
  };
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Median over `batches` of the mean cost (µs) of one round trip within a batch of `perBatch`. */
function roundTrip(interpreter, input, target, batches, perBatch) {
  const means = [];
  for (let b = 0; b < batches; b += 1) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i += 1) {
      interpreter.setInput(0, input);
      interpreter.invoke();
      interpreter.getOutput(0, target);
    }
    means.push(Number(process.hrtime.bigint() - start) / 1e3 / perBatch);
  }
  return median(means);
}

function benchTiny() {
  const { bytes, label } = tinyModel();
  const interpreter = createInterpreter(bytes, { threads: 1 });
  const inInfo = interpreter.inputs[0];
  const outInfo = interpreter.outputs[0];
  const arrays = { Float32Array, Int8Array, Uint8Array, Int32Array, Int16Array };
  const input = new arrays[inInfo.arrayType](inInfo.byteSize / arrays[inInfo.arrayType].BYTES_PER_ELEMENT);
  const target = new arrays[outInfo.arrayType](
    outInfo.byteSize / arrays[outInfo.arrayType].BYTES_PER_ELEMENT,
  );
  roundTrip(interpreter, input, target, 5, 20_000); // warm-up (JIT, caches)
  const jsUs = roundTrip(interpreter, input, target, 21, 50_000);
  interpreter.benchmarkInvoke(20_000);
  const cppUs = median(interpreter.benchmarkInvoke(200_000)) / 1e3;
  interpreter.dispose();
  return {
    model: label,
    roundTripUs: jsUs,
    cppInvokeUs: cppUs,
    overheadUs: jsUs - cppUs,
    ratio: jsUs / cppUs,
    targetUs: 5,
    source: 'measured',
  };
}

/**
 * A large generated int8 model: MobileNet-v1-shaped (224×224×3, 13 depthwise-separable blocks, 1000 classes),
 * built with @swapless/int8-builder's GraphBuilder (deterministic weights; latency depends on shapes, not values).
 */
function mobilenetLikeInt8() {
  const b = new GraphBuilder({ seed: 7, name: 'bench_mobilenet_v1_like' });
  let x = b.input('input', [1, 224, 224, 3]);
  x = b.conv2d(x, { filters: 32, kernel: 3, stride: 2, padding: 'same', activation: 'relu6' });
  const blocks = [
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
    [256, 1],
    [512, 2],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [1024, 2],
    [1024, 1],
  ];
  for (const [filters, stride] of blocks) {
    x = b.depthwiseConv2d(x, { kernel: 3, stride, padding: 'same', activation: 'relu6' });
    x = b.conv2d(x, { filters, kernel: 1, padding: 'same', activation: 'relu6' });
  }
  x = b.avgPool2d(x, { size: 7, stride: 1, padding: 'valid' });
  x = b.reshape(x, [1, 1024]);
  x = b.fullyConnected(x, { units: 1000 });
  b.output(b.softmax(x));
  return {
    bytes: writeModel(b.build()),
    label: 'generated int8 MobileNet-v1-like 224 (GraphBuilder, seed 7)',
  };
}

function filledInput(interpreter) {
  const info = interpreter.inputs[0];
  const arrays = { Float32Array, Int8Array, Uint8Array };
  const Ctor = arrays[info.arrayType];
  return new Ctor(info.byteSize / Ctor.BYTES_PER_ELEMENT).fill(info.arrayType === 'Float32Array' ? 0.5 : 3);
}

/**
 * Invoke time at 1 and 2 threads. The two interpreters take turns invoke by invoke, so a change in the
 * machine's load hits both thread counts alike and the ratio stays meaningful.
 */
function benchThreads({ bytes, label }, runs) {
  const result = { model: label, runs, source: 'measured', threads: {} };
  const interpreters = [1, 2].map((threads) => createInterpreter(bytes, { threads, xnnpack: true }));
  const samples = interpreters.map(() => []);
  for (const i of interpreters) {
    i.setInput(0, filledInput(i));
    i.benchmarkInvoke(3); // warm-up: XNNPACK packs weights on the first invoke
  }
  for (let r = 0; r < runs; r += 1) {
    interpreters.forEach((i, t) => {
      const start = process.hrtime.bigint();
      i.invoke();
      samples[t].push(Number(process.hrtime.bigint() - start) / 1e6);
    });
  }
  interpreters.forEach((i, t) => {
    result.threads[t + 1] = {
      medianMs: median(samples[t]),
      cppMedianMs: median(i.benchmarkInvoke(Math.max(5, runs >> 2))) / 1e6,
    };
    i.dispose();
  });
  result.speedup1to2 = result.threads[1].medianMs / result.threads[2].medianMs;
  return result;
}

/**
 * RSS over rounds of `cycles` create/invoke/dispose cycles of the tiny model (16 KiB constant). A leak grows
 * every round by the same amount (a leaked model copy alone would be 160 MiB a round); allocator and V8 heap
 * warm-up grow the first rounds and then plateau. With --expose-gc, garbage is collected between rounds.
 */
async function benchLeak(cycles, rounds) {
  const bytes = tinyAddModel(4096);
  const input = new Float32Array(4096).fill(1);
  const output = new Float32Array(4096);
  const settle = async () => {
    for (let r = 0; r < 2; r += 1) {
      globalThis.gc?.();
      await new Promise(setImmediate);
    }
  };
  const run = async (n) => {
    for (let c = 0; c < n; c += 1) {
      const i = createInterpreter(bytes, { threads: 1 });
      i.setInput(0, input);
      i.invoke();
      i.getOutput(0, output);
      i.dispose();
      if (c % 500 === 499) await new Promise(setImmediate);
    }
  };
  await run(cycles / 5);
  await settle();
  const rssMiB = [process.memoryUsage().rss / 2 ** 20];
  for (let r = 0; r < rounds; r += 1) {
    await run(cycles);
    await settle();
    rssMiB.push(process.memoryUsage().rss / 2 ** 20);
  }
  const growthMiB = rssMiB.slice(1).map((x, i) => x - rssMiB[i]);
  return { cycles, rounds, gc: globalThis.gc !== undefined, rssMiB, growthMiB, source: 'measured' };
}

const mediapipe = dirname(createRequire(import.meta.url).resolve('@mediapipe/face_detection/package.json'));
const faceModel = join(mediapipe, 'face_detection_full_range.tflite');
const runs = Number(flag('--runs') ?? 40);

const info = runtimeInfo();
const tiny = benchTiny();
const leak = await benchLeak(10_000, 6);
const large = [
  benchThreads(mobilenetLikeInt8(), runs),
  benchThreads(
    { bytes: readFileSync(faceModel), label: 'face_detection_full_range.tflite (float32, real)' },
    runs * 4,
  ),
];
const report = {
  tflite: info.tfliteVersion,
  cores: availableParallelism(),
  node: process.version,
  // Other processes on a 2-core machine make the 2-thread figure slower than 1 thread: keep the context.
  loadAverage1m: loadavg()[0],
  roundTrip: tiny,
  leak,
  large,
};

if (json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const f = (x, d = 2) => x.toFixed(d);
  console.log(
    `SwapLess native bench — TFLite ${info.tfliteVersion}, ${report.cores} cores, Node ${process.version}`,
  );
  console.log(`(a) N-API round trip, model: ${tiny.model}`);
  console.log(
    `    setInput+invoke+getOutput(target): ${f(tiny.roundTripUs)} µs (measured; target ≤ ${tiny.targetUs} µs: ${
      tiny.roundTripUs <= tiny.targetUs ? 'met' : 'NOT met'
    })`,
  );
  console.log(`    invoke from C++ alone:              ${f(tiny.cppInvokeUs, 3)} µs (measured)`);
  console.log(
    `    JS overhead: ${f(tiny.overheadUs)} µs per round trip, ${f(tiny.ratio, 1)}× the pure invoke`,
  );
  console.log(
    `(b) RSS, ${leak.rounds} rounds of ${leak.cycles.toLocaleString('en-US')} create/invoke/dispose cycles${leak.gc ? ' (gc between rounds)' : ''}: ` +
      `${leak.rssMiB.map((x) => f(x, 1)).join(' → ')} MiB`,
  );
  console.log(
    `    growth per round: ${leak.growthMiB.map((x) => f(x, 1)).join(', ')} MiB (measured; a leak grows every round alike)`,
  );
  console.log(
    `(c) invoke time with XNNPACK, 1 vs 2 threads (interleaved; 1-min load average before: ${f(report.loadAverage1m)})`,
  );
  for (const r of large) {
    console.log(`    ${r.model}, median of ${r.runs}:`);
    for (const t of [1, 2]) {
      const x = r.threads[t];
      console.log(
        `      ${t} thread${t > 1 ? 's' : ' '}: ${f(x.medianMs, 3)} ms from JS, ${f(x.cppMedianMs, 3)} ms from C++ (measured)`,
      );
    }
    console.log(`      1→2 threads speed-up: ${f(r.speedup1to2)}× (measured)`);
  }
}
