// Builds the mock Edge TPU library with g++ into build/test/ and returns its path. Used by the vitest
// globalSetup of both the addon and @swapless/edgetpu; rebuilt only when the source is newer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, '..', '..');

/** @returns {string} absolute path of the built mock library */
export function buildMockEdgeTpu() {
  const source = join(here, 'mock_edgetpu.cc');
  const outDir = join(pkgDir, 'build', 'test');
  const out = join(outDir, 'libmock_edgetpu.so');
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs) return out;
  mkdirSync(outDir, { recursive: true });
  const tflite = dirname(createRequire(import.meta.url).resolve('tfjs-tflite-node/package.json'));
  const include = join(tflite, 'cc_deps', 'include');
  const args = ['-std=c++17', '-O1', '-shared', '-fPIC', '-Wall', '-I', include, '-o', out, source];
  const r = spawnSync('g++', args, { encoding: 'utf8' });
  if (r.error) throw new Error(`Cannot run g++ to build the mock Edge TPU library: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`g++ failed building the mock Edge TPU library:\n${r.stderr}`);
  return out;
}
