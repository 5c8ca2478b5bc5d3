// Test-only helpers shared by the server's test files (not part of the built server: tsup bundles from index.ts).
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterpreter, type TensorArray } from '@swapless/edgetpu';
import { afterAll, beforeAll } from 'vitest';
import type { ServerConfigInput } from './config.js';

/**
 * The settings every end-to-end test server starts from: loopback on a free port, the given model repository,
 * state under `work`, fast profiling and a quick controller tick.
 */
export function testServerConfig(work: string, repository: string): ServerConfigInput {
  return {
    host: '127.0.0.1',
    port: 0,
    repository,
    stateDir: join(work, 'state'),
    profiling: { repetitions: 2, maxCuts: 3 },
    tickMs: 250,
  };
}

/** The unsplit model's outputs for `input` on a plain interpreter (what every served answer must equal). */
export function reference(model: Uint8Array, input: TensorArray): number[][] {
  const it = createInterpreter(model, { threads: 1 });
  try {
    it.setInput(0, input);
    it.invoke();
    return it.outputs.map((_, i) => Array.from(it.getOutput(i) as ArrayLike<number>));
  } finally {
    it.dispose();
  }
}

/**
 * A temporary folder for a test file's servers, made before its tests: `SWAPLESS_CACHE_DIR` points inside it
 * (restored afterwards) and `models/` is a repository holding `models` (name → .tflite bytes).
 */
export function useServerWork(
  prefix: string,
  models: Readonly<Record<string, Uint8Array>>,
): { work(): string; repo(): string } {
  const saved = process.env.SWAPLESS_CACHE_DIR;
  let work = '';
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), `swapless-${prefix}-`));
    process.env.SWAPLESS_CACHE_DIR = join(work, 'cache');
    for (const [name, bytes] of Object.entries(models)) {
      await mkdir(join(work, 'models', name), { recursive: true });
      await writeFile(join(work, 'models', name, 'model.tflite'), bytes);
    }
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.SWAPLESS_CACHE_DIR;
    else process.env.SWAPLESS_CACHE_DIR = saved;
  });
  return { work: () => work, repo: () => join(work, 'models') };
}
