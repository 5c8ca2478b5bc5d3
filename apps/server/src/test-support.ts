// Test-only helpers shared by the server's test files (not part of the built server: tsup bundles from index.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterpreter, type TensorArray } from '@swapless/edgetpu';
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

/** A model repository at `<work>/models` with one folder per entry (`model.tflite` from the bytes); its path. */
export async function writeTestRepository(work: string, models: Record<string, Uint8Array>): Promise<string> {
  const repo = join(work, 'models');
  for (const [name, bytes] of Object.entries(models)) {
    await mkdir(join(repo, name), { recursive: true });
    await writeFile(join(repo, name, 'model.tflite'), bytes);
  }
  return repo;
}

/** Points `SWAPLESS_CACHE_DIR` at `<work>/cache`; returns what puts the previous value back. */
export function useTestCache(work: string): () => void {
  const saved = process.env.SWAPLESS_CACHE_DIR;
  process.env.SWAPLESS_CACHE_DIR = join(work, 'cache');
  return () => {
    if (saved === undefined) delete process.env.SWAPLESS_CACHE_DIR;
    else process.env.SWAPLESS_CACHE_DIR = saved;
  };
}
