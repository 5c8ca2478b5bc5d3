// Hostile model files through `swapless run`'s default path, in child processes: the command may refuse a file
// or fail with a typed error, but its process must never die by a signal. (The full-size version of this check
// is `npm run bench:fuzz`; this is its fixed-seed sample.)
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readModel } from '@swapless/tflite';
import { mapStructure, mutate, SEMANTIC_MUTATION_KINDS } from '@swapless/tflite/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODELS_DIR, fixtureModels } from '../../../tools/test-fixtures.mjs';

const require = createRequire(import.meta.url);

/** One file's result inside the run process: the CLI's exit status and, when it failed, the error code. */
interface FileResult {
  file: string;
  exit: number;
  code: string | null;
}

/**
 * One process that runs `swapless run FILE --repeat 1 --warmup 0 --json` for each file through the CLI's main()
 * (what the bench's long-lived children do): Node and the CLI start once, and a death by signal on any file is a
 * death of that run process, reported with the file it was working on.
 */
const RUNNER = `
const { main } = await import(process.argv[1]);
for (const file of process.argv.slice(2)) {
  process.stdout.write(JSON.stringify({ start: file }) + '\\n');
  let out = '';
  const exit = await main(['run', file, '--repeat', '1', '--warmup', '0', '--json'], { out: (t) => (out += t), err: () => {} });
  let code = null;
  if (exit !== 0) { try { code = JSON.parse(out).error.code; } catch { code = 'unparsable output'; } }
  process.stdout.write(JSON.stringify({ file, exit, code }) + '\\n');
}`;

function runAll(
  files: string[],
): Promise<{ results: FileResult[]; signal: string | null; last?: string; err: string }> {
  const mainJs = join(import.meta.dirname, '..', 'dist', 'main.js');
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', RUNNER, pathToFileURL(mainJs).href, ...files],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err = (err + d).slice(-1000)));
    child.on('exit', (_code, signal) => {
      const lines = out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as FileResult & { start?: string });
      const results = lines.filter((l) => l.start === undefined);
      const last = lines.findLast((l) => l.start !== undefined)?.start;
      resolve({ results, signal, ...(last === undefined ? {} : { last }), err });
    });
  });
}

/** Every file ended normally: exit 0, or exit 1 with a SwapLess error code (never an internal error). */
function expectTyped(
  r: Awaited<ReturnType<typeof runAll>>,
  files: string[],
  what: (file: string) => string,
): void {
  expect(r.signal, `the run process died by ${r.signal} on ${r.last && what(r.last)} (${r.err})`).toBeNull();
  expect(r.results.map((x) => x.file)).toEqual(files);
  for (const x of r.results) {
    expect([0, 1], what(x.file)).toContain(x.exit);
    if (x.exit === 1) {
      expect(x.code, what(x.file)).toMatch(/^SWAPLESS_/);
      expect(x.code, what(x.file)).not.toBe('SWAPLESS_INTERNAL');
    }
  }
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swapless-cli-fuzz-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('swapless run on hostile model files', () => {
  it('refuses every damaged Coral model that crashed TFLite with SWAPLESS_INVALID_MODEL', async () => {
    const files = fixtureModels('hostile').map((m) => m.path);
    expect(files.length).toBeGreaterThanOrEqual(5);
    const r = await runAll(files);
    expectTyped(r, files, (f) => f);
    for (const x of r.results) expect(x.code, x.file).toBe('SWAPLESS_INVALID_MODEL');
  });

  it('48 seeded mutants that pass the verifier run or fail with a typed error, never a signal', async () => {
    // Small models that `run`'s default path runs: the stateful LSTM, an int8-inside model, a classic uint8
    // model (through its int8 rewrite) and two float models. The compiled model and the custom-op ones are
    // refused before any kernel runs, so their mutants would test nothing here.
    const paths = [
      join(FIXTURE_MODELS_DIR, 'coral', 'keras_lstm_mnist_ptq.tflite'),
      join(FIXTURE_MODELS_DIR, 'coral', 'tf2_mobilenet_v2_1.0_224_ptq.tflite'),
      join(FIXTURE_MODELS_DIR, 'coral', 'mobilenet_v1_0.25_128_quant.tflite'),
      require.resolve('@mediapipe/face_detection/face_detection_short_range.tflite'),
      require.resolve('@mediapipe/face_detection/face_detection_full_range.tflite'),
    ];
    const sources = await Promise.all(
      paths.map(async (p) => {
        const bytes = new Uint8Array(await readFile(p));
        return { name: p.slice(p.lastIndexOf('/') + 1), bytes, map: mapStructure(bytes) };
      }),
    );
    // The first 48 semantic mutants (in seed order) that the verifier accepts: what reaches TFLite.
    const chosen = new Map<string, string>();
    for (let seed = 1; chosen.size < 48 && seed < 10_000; seed++) {
      const source = sources[seed % sources.length]!;
      const m = mutate(source.bytes, seed, source.map, { kinds: SEMANTIC_MUTATION_KINDS });
      try {
        readModel(m.bytes);
      } catch {
        continue;
      }
      const file = join(dir, `mutant-${seed}.tflite`);
      await writeFile(file, m.bytes);
      chosen.set(file, `${source.name} seed ${seed}: ${m.detail}`);
    }
    expect(chosen.size).toBe(48);
    const files = [...chosen.keys()];
    const r = await runAll(files);
    expectTyped(r, files, (f) => chosen.get(f) ?? f);
  });
});
