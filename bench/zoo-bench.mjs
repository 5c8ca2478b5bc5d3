// Zoo generation benchmark (run after `npm run build`): `npm run bench:zoo [-- --json]`.
//
// (a) per model: build time (GraphBuilder, weights included), analysis, writeModel time, file size, params and
//     MACs, each model generated from scratch in this process;
// (b) generateZoo() of all twelve models into an empty temporary cache (build + analyse + write + hash + atomic
//     file writes), then again (every entry re-hashed and reused), so the cache's cost is visible too.
// Timings are wall-clock on this machine; the target is < 60 s for all twelve from scratch.

import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeModel, writeModel } from '@swapless/tflite';
import { buildZooModel, generateZoo, ZOO_MODEL_NAMES } from '@swapless/zoo';

const json = process.argv.includes('--json');
const ms = (t0) => performance.now() - t0;

const rows = [];
for (const name of ZOO_MODEL_NAMES) {
  let t0 = performance.now();
  const model = buildZooModel(name);
  const buildMs = ms(t0);
  t0 = performance.now();
  const { totals } = analyzeModel(model);
  const analyzeMs = ms(t0);
  t0 = performance.now();
  const bytes = writeModel(model);
  const writeMs = ms(t0);
  rows.push({
    name,
    buildMs,
    analyzeMs,
    writeMs,
    fileBytes: bytes.byteLength,
    params: totals.params,
    macs: totals.macs,
  });
}

const dir = await mkdtemp(join(tmpdir(), 'swapless-zoo-bench-'));
let generateMs;
let cachedMs;
try {
  let t0 = performance.now();
  const fresh = await generateZoo(ZOO_MODEL_NAMES, { cacheDir: dir });
  generateMs = ms(t0);
  if (fresh.some((r) => r.cached)) throw new Error('expected an empty cache');
  t0 = performance.now();
  const again = await generateZoo(ZOO_MODEL_NAMES, { cacheDir: dir });
  cachedMs = ms(t0);
  if (!again.every((r) => r.cached)) throw new Error('expected every model from the cache');
} finally {
  await rm(dir, { recursive: true, force: true });
}

const total = rows.reduce(
  (a, r) => ({
    buildMs: a.buildMs + r.buildMs,
    writeMs: a.writeMs + r.writeMs,
    fileBytes: a.fileBytes + r.fileBytes,
    params: a.params + r.params,
    macs: a.macs + r.macs,
  }),
  { buildMs: 0, writeMs: 0, fileBytes: 0, params: 0, macs: 0 },
);

if (json) {
  console.log(
    JSON.stringify({ cores: availableParallelism(), models: rows, total, generateMs, cachedMs }, null, 2),
  );
} else {
  const f = (v, d = 0) => v.toFixed(d).padStart(9);
  console.log(`zoo generation on ${availableParallelism()} cores (Node ${process.version})`);
  console.log('model                      build ms  write ms     MB     params M    GMACs');
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(24)}${f(r.buildMs)} ${f(r.writeMs)} ${f(r.fileBytes / 1e6, 1).slice(2)} ${f(r.params / 1e6, 3)} ${f(r.macs / 1e9, 3)}`,
    );
  }
  console.log(
    `${'total'.padEnd(24)}${f(total.buildMs)} ${f(total.writeMs)} ${f(total.fileBytes / 1e6, 1).slice(2)} ${f(total.params / 1e6, 3)} ${f(total.macs / 1e9, 3)}`,
  );
  console.log(
    `generateZoo, all 12 from scratch (build + analyse + write + sha256 + files): ${(generateMs / 1000).toFixed(2)} s`,
  );
  console.log(
    `generateZoo, all 12 again from the cache (re-hash + reuse): ${(cachedMs / 1000).toFixed(2)} s`,
  );
}
