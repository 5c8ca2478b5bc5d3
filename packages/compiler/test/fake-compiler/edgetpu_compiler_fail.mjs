#!/usr/bin/env node
// Fake edgetpu_compiler that fails like the real one on a model it cannot load: the recorded failure report,
// TFLite's ERROR lines on stderr, the rest on stdout, exit status 1, no output file.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VERSION } from './args.mjs';

if (process.argv.includes('--version')) {
  console.log(`Edge TPU Compiler version ${VERSION}`);
  process.exit(0);
}
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const lines = readFileSync(join(fixtures, 'failure.stdout.txt'), 'utf8').split('\n');
process.stderr.write(`${lines.filter((l) => l.startsWith('ERROR')).join('\n')}\n`);
process.stdout.write(`${lines.filter((l) => !l.startsWith('ERROR')).join('\n')}`);
process.exit(1);
