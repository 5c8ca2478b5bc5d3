#!/usr/bin/env node
// Fake edgetpu_compiler for tests: "compiles" each model by copying it to <out_dir>/<name>_edgetpu.tflite,
// writes a recorded operation log next to it and prints a recorded console report from ../fixtures.
//   FAKE_EDGETPU_FIXTURE   which recorded report to print (default: fully-mapped, co-compiled for 2+ models)
//   FAKE_EDGETPU_CALLS     file that receives one JSON line per compile (argv, cwd): counts invocations
//   FAKE_EDGETPU_NO_OUTPUT when set, writes no *_edgetpu.tflite (a compiler that "succeeds" with nothing)
//   FAKE_EDGETPU_VERSION   version string to report
import { appendFileSync, copyFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, VERSION } from './args.mjs';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const argv = process.argv.slice(2);
if (argv.includes('--version') || argv.includes('-v')) {
  console.log(`Edge TPU Compiler version ${VERSION}`);
  process.exit(0);
}
const { flags, models } = parseArgs(argv);
if (process.env.FAKE_EDGETPU_CALLS) {
  appendFileSync(process.env.FAKE_EDGETPU_CALLS, `${JSON.stringify({ argv, cwd: process.cwd() })}\n`);
}
const fixture = process.env.FAKE_EDGETPU_FIXTURE ?? (models.length > 1 ? 'co-compiled' : 'fully-mapped');
const outDir = typeof flags.out_dir === 'string' ? flags.out_dir : process.cwd();
const log = join(fixtures, `${fixture}_edgetpu.log`);
for (const model of models) {
  const base = basename(model, '.tflite');
  if (!process.env.FAKE_EDGETPU_NO_OUTPUT) copyFileSync(model, join(outDir, `${base}_edgetpu.tflite`));
  if (existsSync(log)) copyFileSync(log, join(outDir, `${base}_edgetpu.log`));
}
const report = readFileSync(join(fixtures, `${fixture}.stdout.txt`), 'utf8');
process.stdout.write(
  report.replace(/^Edge TPU Compiler version \S+/m, `Edge TPU Compiler version ${VERSION}`),
);
