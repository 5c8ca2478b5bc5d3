// Small, fast networks on the Edge TPU device model (run after `npm run build`): `npm run bench:tpu-small
// [-- --json]`. Prints every published figure of the small-model table (calibration, held-out, larger
// networks) against the emulator, with ratios, and the calibration figures (fidelity report) beside it.
// Deterministic: no wall clock is involved; every emulated figure comes from the device model.

import { fidelityReport, profilesV1, smallModelReport } from '@swapless/tpu-emulator';
import { buildZooModel } from '@swapless/zoo';

const json = process.argv.includes('--json');
const small = smallModelReport({ buildModel: buildZooModel });
const facts = fidelityReport({ buildModel: buildZooModel, tolerancePct: 10 });
// The same tables with the chip constants of device-model version 1 (before the small-layer revision).
const v1 = profilesV1();
const smallBefore = smallModelReport({ buildModel: buildZooModel, profiles: v1 });
const factsBefore = fidelityReport({ buildModel: buildZooModel, tolerancePct: 10, profiles: v1 });
const before = new Map([...smallBefore.rows, ...factsBefore.rows].map((r) => [r.id, r]));

if (json) {
  console.log(JSON.stringify({ small, facts, before: { small: smallBefore, facts: factsBefore } }, null, 2));
} else {
  const pad = (s, n) => String(s).padEnd(n);
  const num = (x, d) => x.toFixed(d).padStart(8);
  const sign = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`.padStart(7);
  console.log('Small, fast models: published vs emulated Edge TPU latency (zoo models, seed 0; emulated)');
  const head = `published    before   ratio  emulated   ratio  error %  ok`;
  console.log(`${pad('set', 12)}${pad('model', 30)}${pad('profile', 10)}${head}`);
  const was = (r) => {
    const b = before.get(r.id);
    return `${num(b.emulatedMs, 2)}  ${(b.emulatedMs / b.publishedMs).toFixed(2).padStart(6)}`;
  };
  for (const r of small.rows) {
    console.log(
      `${pad(r.set, 12)}${pad(r.label, 30)}${pad(r.profile, 10)}${num(r.publishedMs, 2)}  ${was(r)}  ${num(r.emulatedMs, 2)}  ${r.ratio.toFixed(2).padStart(6)}  ${sign(r.errorPct)}  ${r.acceptance ? (r.withinTolerance ? 'yes' : `NO (±${r.tolerancePct})`) : '(info)'}`,
    );
  }
  const m = small.maxAbsErrorPct;
  console.log(
    `max |error|: calibration ${m.calibration} %, held-out ${m['held-out']} %, large ${m.large} % — ${small.pass ? 'pass' : 'FAIL'}`,
  );
  console.log('\nCalibration figures (fidelity report, target ±10 %)');
  for (const r of facts.rows) {
    console.log(
      `${pad(`${r.kind} ${r.models.join('+')}`, 42)}${pad(r.profile, 10)}${num(r.publishedMs, 2)}  ${was(r)}  ${num(r.emulatedMs, 2)}  ${(r.emulatedMs / r.publishedMs).toFixed(2).padStart(6)}  ${sign(r.errorPct)}  ${r.acceptance ? (r.withinTolerance ? 'yes' : 'NO') : '(info)'}`,
    );
  }
  console.log(`max |error| (acceptance rows): ${facts.maxAbsErrorPct} % — ${facts.pass ? 'pass' : 'FAIL'}`);
}
process.exitCode = small.pass && facts.pass ? 0 : 1;
