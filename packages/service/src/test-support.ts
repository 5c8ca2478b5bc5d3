// Test-only helpers shared by the service's test files (not exported by the package).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterpreter, type TensorArray } from '@swapless/edgetpu';
import { SeededRandom } from '@swapless/tflite';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createService, type Service, type ServiceOptions } from './index.js';

/** Points SWAPLESS_CACHE_DIR at a fresh temporary directory for the calling test file (restored afterwards). */
export function usePrivateCache(): void {
  let previous: string | undefined;
  beforeAll(async () => {
    // Profiles go to a private cache, not the user's.
    previous = process.env.SWAPLESS_CACHE_DIR;
    process.env.SWAPLESS_CACHE_DIR = await mkdtemp(join(tmpdir(), 'swapless-service-cache-'));
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.SWAPLESS_CACHE_DIR;
    else process.env.SWAPLESS_CACHE_DIR = previous;
  });
}

/**
 * A factory of services with fast profiling, no real-time TPU waits and (unless asked) no ticks during the
 * test; every service it made is closed after each test of the calling file.
 */
export function serviceFactory(): (options?: ServiceOptions) => Promise<Service> {
  const open: Service[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async (options = {}) => {
    const s = await createService({
      cores: 2,
      tickMs: 3_600_000,
      profiling: { repetitions: 3, maxCuts: 4 },
      emulator: { timeScale: 0 },
      ...options,
    });
    open.push(s);
    return s;
  };
}

/** A seeded int8 input of the 10-op test network ([1,16,16,3]). */
export function input(seed: number): Int8Array {
  const a = new Int8Array(16 * 16 * 3);
  new SeededRandom(seed).fillUniformInt8(a);
  return a;
}

/** The unsplit model on a plain interpreter: what every split configuration must reproduce. */
export function reference(model: Uint8Array, x: Int8Array): TensorArray[] {
  const it = createInterpreter(model, { threads: 1 });
  it.setInput(0, x);
  it.invoke();
  const out = it.outputs.map((_, i) => it.getOutput(i));
  it.dispose();
  return out;
}
