// CPU profile calibration (run after `npm run build`): `npm run bench:cpu-profile [-- --json]`.
//
// Every published CPU-only latency of PUBLISHED_CPU_FIGURES (Coral's "Embedded CPU" column: quad Cortex-A53 at
// 1.5 GHz) against the devboard-a53 model of the zoo's reproduction of that architecture: model, role
// (calibration = fit the parameters, held-out = only checked), published ms, modelled ms, ratio. Then the
// modelled whole-model time of every zoo model at 1..4 threads on devboard-a53 and rpi4-a72. Nothing is
// measured: the times come from the model's ops (docs/cpu-profiles.md). Exit status 1 when a held-out figure
// is off by more than ±25 %.

import { CPU_MODEL_PROFILES } from '@swapless/core';
import { HELD_OUT_TOLERANCE, modelledModelMs, PUBLISHED_CPU_FIGURES } from '@swapless/profiler';
import { buildZooModel, ZOO_MODEL_NAMES } from '@swapless/zoo';

const json = process.argv.includes('--json');
const built = new Map();
const model = (name) => {
  if (!built.has(name)) built.set(name, buildZooModel(name));
  return built.get(name);
};

const figures = PUBLISHED_CPU_FIGURES.map((f) => {
  const modelled = modelledModelMs(model(f.model), f.cpu);
  return {
    model: f.model,
    label: f.label,
    cpu: f.cpu,
    role: f.role,
    publishedMs: f.ms,
    modelledMs: modelled,
    ratio: modelled / f.ms,
  };
});
const threads = [1, 2, 3, 4];
const scaling = ZOO_MODEL_NAMES.map((name) => ({
  model: name,
  ...Object.fromEntries(
    Object.keys(CPU_MODEL_PROFILES).map((cpu) => [
      cpu,
      threads.map((t) => modelledModelMs(model(name), cpu, t)),
    ]),
  ),
}));
const heldOut = figures.filter((f) => f.role === 'held-out');
const worst = Math.max(...heldOut.map((f) => Math.abs(f.ratio - 1)));
const pass = worst <= HELD_OUT_TOLERANCE;

if (json) {
  console.log(
    JSON.stringify(
      { figures, heldOutMaxAbsError: worst, tolerance: HELD_OUT_TOLERANCE, pass, scaling },
      null,
      2,
    ),
  );
} else {
  const pad = (s, n) => String(s).padEnd(n);
  const num = (x, n) => x.toFixed(0).padStart(n);
  console.log('published quad Cortex-A53 CPU-only latency vs the devboard-a53 model (1 thread)');
  console.log(
    `${pad('model', 24)}${pad('role', 13)}${'published'.padStart(10)}${'modelled'.padStart(10)}${'ratio'.padStart(7)}`,
  );
  for (const f of figures) {
    console.log(
      `${pad(f.model, 24)}${pad(f.role, 13)}${num(f.publishedMs, 10)}${num(f.modelledMs, 10)}${f.ratio.toFixed(2).padStart(7)}`,
    );
  }
  console.log(
    `held-out max |error| ${(worst * 100).toFixed(1)} % (target ±${HELD_OUT_TOLERANCE * 100} %): ${pass ? 'pass' : 'FAIL'}`,
  );
  console.log('');
  console.log('modelled whole model, ms at 1/2/3/4 threads');
  console.log(`${pad('model', 24)}${pad('devboard-a53', 26)}rpi4-a72`);
  for (const s of scaling) {
    const cell = (xs) => xs.map((x) => x.toFixed(0)).join(' / ');
    console.log(`${pad(s.model, 24)}${pad(cell(s['devboard-a53']), 26)}${cell(s['rpi4-a72'])}`);
  }
}
process.exitCode = pass ? 0 : 1;
