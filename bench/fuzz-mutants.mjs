// The seeded mutant generator shared by the fuzz benches (bench/fuzz-bench.mjs, bench/fuzz-server.mjs).
//
//   import { loadFuzzSources, generateMutants } from './fuzz-mutants.mjs';
//   const sources = await loadFuzzSources();            // zoo + Coral fixtures + MediaPipe models
//   for (const m of generateMutants({ seed: 1, count: 100, sources })) use(m.bytes, m.source, m.detail);
//
// Mutant i of seed S depends only on (S, i, the list of sources), never on the mutants before it, so any mutant
// can be regenerated alone (`generateMutant`) and a run can be split across workers by index. The mutations
// themselves live in @swapless/tflite/testing (packages/tflite/src/testing/mutate.ts).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRng, mapStructure, mutate } from '@swapless/tflite/testing';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

/** The source sets `loadFuzzSources` knows. */
export const SOURCE_SETS = ['zoo', 'coral', 'mediapipe'];

/** The MediaPipe packages (dev dependencies) whose .tflite files are fuzz sources. */
const MEDIAPIPE_PACKAGES = [
  '@mediapipe/face_detection',
  '@mediapipe/hands',
  '@mediapipe/selfie_segmentation',
];

/**
 * @typedef {{ name: string, path: string, bytes: Uint8Array }} FuzzSource
 * @typedef {{
 *   index: number, seed: number, source: string, other?: string,
 *   kind: string, position: number, detail: string, bytes: Uint8Array
 * }} FuzzMutant
 */

/** Every .tflite file of a directory, sorted by name. */
function tfliteFiles(dir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.tflite'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Loads the real models mutants are made from. Zoo models are generated on first use (cached under the
 * SwapLess cache directory); Coral's come from fixtures/models/coral; MediaPipe's from their npm packages.
 * @param {{ sets?: string[], maxBytes?: number, zoo?: string[] }} [options] `sets` (default all three),
 *   `maxBytes` (skip larger files, default no limit), `zoo` (zoo model names, default all)
 * @returns {Promise<FuzzSource[]>}
 */
export async function loadFuzzSources(options = {}) {
  const sets = options.sets ?? SOURCE_SETS;
  for (const s of sets) {
    if (!SOURCE_SETS.includes(s)) throw new Error(`unknown source set ${JSON.stringify(s)} (${SOURCE_SETS})`);
  }
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  /** @type {{ name: string, path: string }[]} */
  const files = [];
  if (sets.includes('coral')) {
    for (const path of tfliteFiles(join(here, '../fixtures/models/coral'))) {
      files.push({ name: `coral/${basename(path, '.tflite')}`, path });
    }
  }
  if (sets.includes('mediapipe')) {
    for (const pkg of MEDIAPIPE_PACKAGES) {
      const dir = dirname(require.resolve(`${pkg}/package.json`));
      for (const path of tfliteFiles(dir))
        files.push({ name: `mediapipe/${basename(path, '.tflite')}`, path });
    }
  }
  if (sets.includes('zoo')) {
    const { generateZoo, ZOO_MODEL_NAMES } = await import('@swapless/zoo');
    for (const m of await generateZoo(options.zoo ?? ZOO_MODEL_NAMES)) {
      files.push({ name: `zoo/${m.name}`, path: m.path });
    }
  }
  return files
    .filter((f) => statSync(f.path).size <= maxBytes)
    .map((f) => ({ ...f, bytes: new Uint8Array(readFileSync(f.path)) }));
}

/** Structure maps are computed once per source (a tracing read of the whole model). */
const maps = new WeakMap();
function structureOf(source) {
  let map = maps.get(source);
  if (map === undefined) {
    map = mapStructure(source.bytes);
    maps.set(source, map);
  }
  return map;
}

/** Mixes (seed, index) into one 32-bit seed, so neighbouring indices get unrelated mutants. */
function mix(seed, index) {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * Mutant `index` of run `seed` over `sources` (in the order given).
 * @param {{ seed: number, index: number, sources: FuzzSource[], kinds?: string[] }} options
 * @returns {FuzzMutant}
 */
export function generateMutant({ seed, index, sources, kinds }) {
  if (sources.length === 0) throw new Error('generateMutant: no sources');
  const rng = createRng(mix(seed, index));
  const source = sources[Math.floor(rng() * sources.length)];
  const other = sources.length > 1 ? sources[Math.floor(rng() * sources.length)] : undefined;
  const mutantSeed = Math.floor(rng() * 0x1_0000_0000);
  const m = mutate(source.bytes, mutantSeed, structureOf(source), {
    ...(other !== undefined && other !== source ? { other: other.bytes } : {}),
    ...(kinds !== undefined ? { kinds } : {}),
  });
  return {
    index,
    seed: mutantSeed,
    source: source.name,
    ...(m.kind === 'splice' && other !== undefined && other !== source ? { other: other.name } : {}),
    kind: m.kind,
    position: m.position,
    detail: m.detail,
    bytes: m.bytes,
  };
}

/**
 * Mutants `start … start + count − 1` of run `seed` over `sources`, lazily.
 * @param {{ seed: number, count: number, sources: FuzzSource[], start?: number, kinds?: string[] }} options
 * @returns {Generator<FuzzMutant>}
 */
export function* generateMutants({ seed, count, sources, start = 0, kinds }) {
  for (let index = start; index < start + count; index += 1) {
    yield generateMutant({ seed, index, sources, kinds });
  }
}
