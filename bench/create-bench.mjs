// What creating interpreters costs on SwapLess's hot paths: `node bench/create-bench.mjs [--rounds N] [--json]`.
//
// Coral's uint8 mobilenet_v2 (its CPU parts run as their int8 rewrite on XNNPACK), on the real TFLite 2.9 runtime:
//   runtime      a functional emulated runtime with one tenant, reconfigured back and forth between cuts, cores and
//                modes (`--rounds` switches): the `prepared` time of each reconfiguration is the time to load the
//                new configuration's interpreters (tail executors in worker threads, the emulator's head);
//   profiler     the profiler's per-part creations: `defaultInterpreterFactory(part, threads)` for the prefix and
//                suffix of every cut below, at 1 and 2 threads, as `profileModel` creates them (parts written
//                from the verified model by `splitModel` + `writeModel`); the median of 3 runs;
//   steps        what one default `createInterpreter` of the whole model does, step by step.
// Every figure is a time measured here, in ms; run it on an idle machine and compare runs side by side.

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterpreter } from '@swapless/edgetpu';
import { defaultInterpreterFactory } from '@swapless/profiler';
import { createRuntime } from '@swapless/runtime';
import {
  planInt8Rewrite,
  readModel,
  rewriteToInt8,
  runnability,
  splitModel,
  writeModel,
} from '@swapless/tflite';

const args = process.argv.slice(2);
const json = args.includes('--json');
const at = args.indexOf('--rounds');
const rounds = at === -1 ? 12 : Number(args[at + 1]);
if (!Number.isSafeInteger(rounds) || rounds < 2) {
  console.error(`Expected an integer ≥ 2 for --rounds but received ${JSON.stringify(args[at + 1])}`);
  process.exit(2);
}

const MODEL = new URL('../fixtures/models/coral/mobilenet_v2_1.0_224_quant.tflite', import.meta.url);
const bytes = new Uint8Array(readFileSync(MODEL));
const CUTS = [20, 40, 60];
const THREADS = [1, 2];

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const time = (fn) => {
  const t0 = performance.now();
  const value = fn();
  return [performance.now() - t0, value];
};

/** One default createInterpreter of the whole model, step by step (the steps it ran on main at 7401db6). */
function stepsOnce() {
  const [read, model] = time(() => readModel(bytes));
  const [runnable] = time(() => runnability(model));
  const [plan] = time(() => planInt8Rewrite(model));
  const [rewrite, rewritten] = time(() => rewriteToInt8(model));
  const [write, out] = time(() => writeModel(rewritten.model));
  const [create, it] = time(() => createInterpreter(out, { uint8: 'as-is', verify: false }));
  it.dispose();
  const [whole, again] = time(() => createInterpreter(bytes));
  again.dispose();
  return {
    readModel: read,
    runnability: runnable,
    planInt8Rewrite: plan,
    rewriteToInt8: rewrite,
    writeModel: write,
    nativeCreate: create,
    createInterpreter: whole,
  };
}

/** Medians of 5 rounds of {@link stepsOnce} (the first rounds also warm up the JIT). */
function steps() {
  const all = Array.from({ length: 5 }, stepsOnce);
  return Object.fromEntries(Object.keys(all[0]).map((key) => [key, median(all.map((s) => s[key]))]));
}

/** The profiler's creations: every part of every cut, at every thread count. */
function profilerOnce() {
  const model = readModel(bytes);
  const parts = [];
  for (const k of CUTS) {
    const { head, tail } = splitModel(model, k);
    parts.push(writeModel(head), writeModel(tail));
  }
  const perCreation = [];
  const t0 = performance.now();
  for (const part of parts) {
    for (const t of THREADS) {
      const [ms, it] = time(() => defaultInterpreterFactory(part, t));
      perCreation.push(ms);
      it.dispose();
    }
  }
  return {
    parts: parts.length,
    creations: perCreation.length,
    totalMs: performance.now() - t0,
    medianMs: median(perCreation),
    firstMs: perCreation[0],
  };
}

/** {@link profilerOnce} three times (fresh parts each time, as a new profile has): the run with the median total. */
function profiler() {
  const runs = [profilerOnce(), profilerOnce(), profilerOnce()].sort((a, b) => a.totalMs - b.totalMs);
  return runs[1];
}

/** Reconfigurations of a functional emulated runtime; the `prepared` time of each. */
async function runtime() {
  const rt = await createRuntime({ device: 'usb3', mode: 'functional', cores: 2 });
  const choices = [
    { k: 20, cores: 1, mode: 'mg1' },
    { k: 40, cores: 2, mode: 'mgc' },
    { k: 20, cores: 2, mode: 'mg1' },
    { k: 60, cores: 1, mode: 'mg1' },
  ];
  const prepared = [];
  rt.on('reconfigure', (e) => {
    if (e.phase === 'prepared') prepared.push(e.elapsedMs);
  });
  try {
    const [add] = [performance.now()];
    await rt.addTenant({ name: 'v2', model: bytes, choice: { k: 60, cores: 1, mode: 'mg1' } });
    const addMs = performance.now() - add;
    for (let r = 0; r < rounds; r++) {
      await rt.reconfigure({ tenants: [{ name: 'v2', ...choices[r % choices.length] }] });
    }
    // The first visit of each choice also splits the model (the variant is cached after that).
    const later = prepared.slice(choices.length);
    return {
      addTenantMs: addMs,
      reconfigurations: prepared.length,
      firstMs: prepared[0],
      medianMs: median(prepared),
      medianAfterFirstVisitsMs: median(later.length > 0 ? later : prepared),
    };
  } finally {
    await rt.close();
  }
}

const result = {
  model: 'mobilenet_v2_1.0_224_quant.tflite',
  loadavg: loadavg()[0],
  steps: steps(),
  profiler: profiler(),
  runtime: await runtime(),
};
if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const f = (x) => x.toFixed(1);
  const s = result.steps;
  console.log(`${result.model} (load average ${result.loadavg.toFixed(2)} at start; times in ms)`);
  console.log(
    `  one createInterpreter, step by step: readModel ${f(s.readModel)}, runnability ${f(s.runnability)}, planInt8Rewrite ${f(s.planInt8Rewrite)}, rewriteToInt8 ${f(s.rewriteToInt8)}, writeModel ${f(s.writeModel)}, native create ${f(s.nativeCreate)}; createInterpreter(bytes) ${f(s.createInterpreter)}`,
  );
  const p = result.profiler;
  console.log(
    `  profiler: ${p.creations} creations of ${p.parts} parts (cuts ${CUTS.join(', ')} × threads ${THREADS.join(', ')}): total ${f(p.totalMs)}, median ${f(p.medianMs)} per creation`,
  );
  const r = result.runtime;
  console.log(
    `  runtime: addTenant ${f(r.addTenantMs)}; ${r.reconfigurations} reconfigurations: prepared median ${f(r.medianMs)} (first ${f(r.firstMs)}; once every choice was visited ${f(r.medianAfterFirstVisitsMs)})`,
  );
}
