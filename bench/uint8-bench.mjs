// uint8 models at full speed: `npm run bench:uint8 [-- --count N] [-- --seed S] [-- --repeat N] [-- --json]`.
//
// Coral's classic uint8 MobileNets, 1 thread, side by side in one run:
//   reference  the uint8 model as it is on TFLite's reference kernels (`xnnpack: false`): what ran before, since the
//              XNNPACK of this TFLite build refuses uint8 compute;
//   int8       what `createInterpreter` does by default: the int8 rewrite (`rewriteToInt8`) on XNNPACK.
// Timing: medians of interleaved blocks of invokes (target: int8 ≥ 4× faster on mobilenet_v2).
// Accuracy, on `--count` (default 100) seeded inputs of two kinds — uniform noise, and smooth random images
// (an 8×8 grid of random colours, bilinearly upsampled, ±8 noise) — the largest output difference, the share of
// bit-identical output elements and outputs, and top-1 agreement (target ≥ 99 %): strict (first index of the
// largest value, as argmax takes it) and counting a shared top class when an output's largest value is tied, with
// how decisive the reference was (share of tied inputs, median lead of its top class in output LSBs).
// Calibration: the same comparison for Coral's int8 MobileNet v2 (no rewrite involved), XNNPACK against
// reference kernels, shows how far XNNPACK's own arithmetic strays from TFLite's. Every time is measured on the
// real TFLite 2.9 runtime of this machine.

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterpreter, runtimeInfo } from '@swapless/edgetpu';
import { readModel, rewriteToInt8, SeededRandom } from '@swapless/tflite';

const args = process.argv.slice(2);
const json = args.includes('--json');
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isSafeInteger(value) || value < 1) {
    console.error(`Expected a positive integer for ${name} but received ${JSON.stringify(args[at + 1])}`);
    process.exit(2);
  }
  return value;
};
const count = flag('--count', 100);
const seed = flag('--seed', 1);
const repeat = flag('--repeat', 30);

const MODELS = ['mobilenet_v2_1.0_224_quant.tflite', 'mobilenet_v1_0.25_128_quant.tflite'];
const CALIBRATION = 'tf2_mobilenet_v2_1.0_224_ptq.tflite';
const BLOCK = 5;

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Seeded uint8 inputs of one kind for an NHWC input of `shape`. */
const INPUTS = {
  noise(shape, rng) {
    const input = new Uint8Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < input.length; i++) input[i] = rng.int(0, 255);
    return input;
  },
  smooth(shape, rng) {
    const [, height, width, channels] = shape;
    const g = 8;
    const grid = Array.from({ length: (g + 1) * (g + 1) * channels }, () => rng.int(0, 255));
    const at = (y, x, c) => grid[(y * (g + 1) + x) * channels + c];
    const input = new Uint8Array(height * width * channels);
    for (let y = 0; y < height; y++) {
      const fy = (y / (height - 1)) * g;
      const y0 = Math.min(g - 1, Math.floor(fy));
      const ty = fy - y0;
      for (let x = 0; x < width; x++) {
        const fx = (x / (width - 1)) * g;
        const x0 = Math.min(g - 1, Math.floor(fx));
        const tx = fx - x0;
        for (let c = 0; c < channels; c++) {
          const top = (1 - tx) * at(y0, x0, c) + tx * at(y0, x0 + 1, c);
          const bottom = (1 - tx) * at(y0 + 1, x0, c) + tx * at(y0 + 1, x0 + 1, c);
          const v = Math.round((1 - ty) * top + ty * bottom + rng.int(-8, 8));
          input[(y * width + x) * channels + c] = Math.max(0, Math.min(255, v));
        }
      }
    }
    return input;
  },
};

/** Indices of the largest value (several when it is tied: quantized outputs often are). */
function topClasses(values) {
  let max = values[0];
  for (let i = 1; i < values.length; i++) if (values[i] > max) max = values[i];
  const top = [];
  for (let i = 0; i < values.length; i++) if (values[i] === max) top.push(i);
  return top;
}

/** Medians (ms) of `repeat` invokes each, in interleaved blocks of BLOCK after a lead-in invoke per block. */
function timeBoth(reference, fast) {
  const samples = [[], []];
  const both = [reference, fast];
  for (const it of both) for (let w = 0; w < 3; w++) it.invoke();
  for (let b = 0; samples[0].length < repeat; b++) {
    for (let j = 0; j < 2; j++) {
      const which = (b + j) % 2;
      const it = both[which];
      it.invoke();
      for (let r = 0; r < BLOCK && samples[which].length < repeat; r++) {
        const start = process.hrtime.bigint();
        it.invoke();
        samples[which].push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
  }
  return samples.map(median);
}

/** Runs both interpreters on `count` seeded inputs of one kind and compares their first output. */
function compare(reference, fast, kind) {
  const rng = new SeededRandom(seed);
  const shape = reference.inputs[0].shape;
  let maxDiff = 0;
  let identicalElements = 0;
  let elements = 0;
  let identicalOutputs = 0;
  let top1 = 0;
  let top1Shared = 0;
  let tied = 0;
  const leads = [];
  for (let n = 0; n < count; n++) {
    const input = INPUTS[kind](shape, rng);
    reference.setInput(0, input);
    fast.setInput(0, input);
    reference.invoke();
    fast.invoke();
    const a = reference.getOutput(0);
    const b = fast.getOutput(0);
    let same = 0;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      if (d > maxDiff) maxDiff = d;
      if (d === 0) same++;
    }
    identicalElements += same;
    elements += a.length;
    if (same === a.length) identicalOutputs++;
    const ta = topClasses(a);
    const tb = topClasses(b);
    if (ta[0] === tb[0]) top1++; // argmax as numpy/TFLite's examples take it: the first of tied classes
    if (ta.some((c) => tb.includes(c))) top1Shared++;
    if (ta.length > 1) tied++;
    const sorted = [...a].sort((x, y) => y - x);
    leads.push(sorted[0] - sorted[1]);
  }
  return {
    kind,
    inputs: count,
    maxDiffLsb: maxDiff,
    identicalElements: identicalElements / elements,
    identicalOutputs: identicalOutputs / count,
    top1Agreement: top1 / count,
    top1SharedAgreement: top1Shared / count,
    referenceTied: tied / count,
    referenceLeadLsb: median(leads),
  };
}

const load = (name) =>
  new Uint8Array(readFileSync(new URL(`../fixtures/models/coral/${name}`, import.meta.url)));

function measure(name) {
  const bytes = load(name);
  const { report } = rewriteToInt8(readModel(bytes));
  const reference = createInterpreter(bytes, { threads: 1, xnnpack: false });
  const int8 = createInterpreter(bytes, { threads: 1 });
  if (int8.backend.kernels !== 'xnnpack' || int8.backend.int8 === undefined) {
    throw new Error(
      `${name}: the default path did not run the int8 rewrite on XNNPACK: ${int8.backend.note}`,
    );
  }
  const accuracy = Object.keys(INPUTS).map((kind) => compare(reference, int8, kind));
  const [referenceMs, int8Ms] = timeBoth(reference, int8);
  const out = reference.outputs[0];
  reference.dispose();
  int8.dispose();
  return {
    model: name,
    referenceMs,
    int8Ms,
    speedup: referenceMs / int8Ms,
    output: { name: out.name, type: out.type, shape: out.shape, scale: out.quantization?.scale ?? null },
    accuracy,
    rewrite: {
      opsRewritten: report.opsRewritten,
      keptUint8: report.kept.map((k) => k.type),
      conversions: report.conversions,
      requantizedChannels: report.requantizedChannels,
      channels: report.channels,
      maxWeightErrorLsb: report.maxWeightErrorLsb,
      maxBiasErrorLsb: report.maxBiasErrorLsb,
    },
  };
}

/** XNNPACK against reference kernels on Coral's int8 model: the divergence XNNPACK brings without any rewrite. */
function calibrate() {
  const bytes = load(CALIBRATION);
  const reference = createInterpreter(bytes, { threads: 1, xnnpack: false });
  const fast = createInterpreter(bytes, { threads: 1 });
  const accuracy = Object.keys(INPUTS).map((kind) => compare(reference, fast, kind));
  reference.dispose();
  fast.dispose();
  return { model: CALIBRATION, accuracy };
}

const results = MODELS.map(measure);
const calibration = calibrate();
const [load1] = loadavg();
if (json) {
  const report = {
    tflite: runtimeInfo().tfliteVersion,
    threads: 1,
    seed,
    repeat,
    load1,
    results,
    calibration,
  };
  console.log(JSON.stringify(report, null, 2));
} else {
  const pct = (x) => `${(x * 100).toFixed(1)} %`;
  const accuracyLines = (list, scale) =>
    list.flatMap((a) => [
      `    ${a.kind.padEnd(7)} largest difference ${a.maxDiffLsb} LSB (${(a.maxDiffLsb * (scale ?? 1)).toPrecision(2)}); ` +
        `bit-identical ${pct(a.identicalElements)} of elements, ${pct(a.identicalOutputs)} of outputs`,
      `            top-1 agreement ${pct(a.top1Agreement)}, ${pct(a.top1SharedAgreement)} counting a shared top class ` +
        `(reference tied in ${pct(a.referenceTied)} of inputs, its top class leads by ${a.referenceLeadLsb} LSB median)`,
    ]);
  console.log(
    `uint8 models at full speed — TFLite ${runtimeInfo().tfliteVersion}, 1 thread, measured on this machine`,
  );
  console.log(
    `(load average ${load1.toFixed(2)}; medians of ${repeat} invokes each, interleaved in blocks of ${BLOCK})\n`,
  );
  for (const r of results) {
    const target = r.model.startsWith('mobilenet_v2') ? '  (target ≥ 4×)' : '';
    console.log(r.model);
    console.log(`  uint8 on reference kernels   median ${r.referenceMs.toFixed(2)} ms`);
    console.log(`  int8 rewrite on XNNPACK      median ${r.int8Ms.toFixed(2)} ms`);
    console.log(`  speed-up                     ${r.speedup.toFixed(1)}×${target}`);
    console.log(
      `  accuracy on ${count} seeded inputs of each kind (seed ${seed}), output ${r.output.type}[${r.output.shape}] ` +
        '(top-1 target ≥ 99 %):',
    );
    for (const line of accuracyLines(r.accuracy, r.output.scale)) console.log(line);
    const w = r.rewrite;
    console.log(
      `  rewrite: ${w.opsRewritten} ops as int8 (kept uint8: ${w.keptUint8.join(', ') || 'none'}), ${w.conversions} conversions, ` +
        `${w.requantizedChannels} of ${w.channels} weight channels requantized, largest weight change ${w.maxWeightErrorLsb.toFixed(3)} LSB, ` +
        `bias ${w.maxBiasErrorLsb.toFixed(3)} LSB\n`,
    );
  }
  console.log(`calibration: ${calibration.model} (int8, no rewrite), XNNPACK against reference kernels:`);
  for (const line of accuracyLines(calibration.accuracy, 1 / 256)) console.log(line);
}
