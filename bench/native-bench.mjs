// Native binding benchmark (run after `npm run build`): `npm run bench:native [-- --json] [-- --tiny-model f]`.
//
// (a) the N-API round trip: setInput + invoke + getOutput(into a caller array) on a tiny model, next to the
//     invoke time of the same model measured from C++ alone (Interpreter.benchmarkInvoke), so the JS
//     overhead is visible as a difference and a ratio;
// (b) invoke time of a larger real model with XNNPACK at 1 and 2 threads, and the 1-vs-2 speed-up.
// Every latency is measured on the real TFLite CPU runtime on this machine ("measured"), never emulated.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterpreter, runtimeInfo } from '@swapless/edgetpu';
import { tinyAddModel } from '../native/tflite-addon/test/tiny-model.mjs';

const args = process.argv.slice(2);
const json = args.includes('--json');
const flag = (name) => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args[at + 1];
};

/**
 * The model for the round-trip figure: as small as possible so invoke costs ~nothing. `--tiny-model <file>`
 * wins; otherwise the hand-encoded one-op model. This is the one place to plug in a model built with
 * @swapless/tflite's GraphBuilder/writeModel once that package exports them.
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

function benchLarge(path, runs) {
  const result = { model: path, runs, source: 'measured', threads: {} };
  for (const threads of [1, 2]) {
    const interpreter = createInterpreter(path, { threads, xnnpack: true });
    const info = interpreter.inputs[0];
    interpreter.setInput(0, new Float32Array(info.byteSize / 4).fill(0.5));
    interpreter.benchmarkInvoke(10); // warm-up
    const cppMs = median(interpreter.benchmarkInvoke(runs)) / 1e6;
    const js = [];
    for (let i = 0; i < runs; i += 1) {
      const start = process.hrtime.bigint();
      interpreter.invoke();
      js.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    result.threads[threads] = { medianMs: median(js), cppMedianMs: cppMs };
    interpreter.dispose();
  }
  result.speedup1to2 = result.threads[1].medianMs / result.threads[2].medianMs;
  return result;
}

const mediapipe = dirname(createRequire(import.meta.url).resolve('@mediapipe/face_detection/package.json'));
const largeModel = join(mediapipe, 'face_detection_full_range.tflite');
const runs = Number(flag('--runs') ?? 200);

const info = runtimeInfo();
const tiny = benchTiny();
const large = benchLarge(largeModel, runs);
const report = {
  tflite: info.tfliteVersion,
  cores: availableParallelism(),
  node: process.version,
  // Other processes on a 2-core machine make the 2-thread figure slower than 1 thread: keep the context.
  loadAverage1m: loadavg()[0],
  roundTrip: tiny,
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
  console.log(`(b) ${largeModel.split('/').pop()}, XNNPACK, median of ${runs} invokes`);
  for (const t of [1, 2]) {
    const r = large.threads[t];
    console.log(
      `    ${t} thread${t > 1 ? 's' : ' '}: ${f(r.medianMs, 3)} ms from JS, ${f(r.cppMedianMs, 3)} ms from C++ (measured)`,
    );
  }
  console.log(
    `    1→2 threads speed-up: ${f(large.speedup1to2)}× (measured; 1-min load average before: ${f(report.loadAverage1m)})`,
  );
}
