/** Paths of the recorded compiler logs and the fake `edgetpu_compiler` scripts used by the tests. */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/fixtures: recorded console reports (`*.stdout.txt`) and operation logs (`*_edgetpu.log`). */
export const FIXTURES = fileURLToPath(new URL('../test/fixtures/', import.meta.url));

/** test/fake-compiler: stand-ins for `edgetpu_compiler`. */
export const FAKE_DIR = fileURLToPath(new URL('../test/fake-compiler/', import.meta.url));

/** Prints a recorded report and writes `*_edgetpu.tflite` (see the script's header for its env switches). */
export const FAKE_COMPILER = join(FAKE_DIR, 'edgetpu_compiler.mjs');

/** Never finishes a compile (and leaves a worker process in its group). */
export const HANGING_COMPILER = join(FAKE_DIR, 'edgetpu_compiler_hang.mjs');

/** Fails like the real compiler on a model it cannot load (exit 1, ERROR on stderr). */
export const FAILING_COMPILER = join(FAKE_DIR, 'edgetpu_compiler_fail.mjs');

/** The text of a fixture file. */
export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

const created: string[] = [];

/** A fresh temporary directory, removed by {@link removeTempDirs}. */
export async function tempDir(prefix = 'swapless-compiler-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Removes every directory {@link tempDir} made (call it from `afterAll`). */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}
