// Worker thread of bench/fuzz-bench.mjs's reader target: reads mutants start, start + stride, … (below end)
// with readModel and posts one result per mutant. A mutant that never returns is detected by the parent,
// which terminates this worker and counts a hang.

import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { isSwapLessError } from '@swapless/core';
import { readModel } from '@swapless/tflite';
import { generateMutant } from './fuzz-mutants.mjs';

const { seed, start, stride, end, slowMs } = workerData;
const sources = workerData.sources.map((s) => ({ ...s, bytes: new Uint8Array(readFileSync(s.path)) }));

for (let index = start; index < end; index += stride) {
  const mutant = generateMutant({ seed, index, sources });
  const t0 = performance.now();
  let r;
  try {
    readModel(mutant.bytes);
    r = { outcome: 'ok' };
  } catch (e) {
    r = isSwapLessError(e)
      ? { outcome: 'rejected', code: e.code, rule: e.details?.rule }
      : { outcome: 'untyped', error: String(e?.stack ?? e).slice(0, 2000) };
  }
  const ms = performance.now() - t0;
  if (ms > slowMs && r.outcome !== 'untyped') r = { outcome: 'hang', error: `took ${ms.toFixed(0)} ms` };
  parentPort.postMessage({ index, kind: mutant.kind, ms, ...r });
}
