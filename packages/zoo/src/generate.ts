/**
 * Generating zoo models to files, with an on-disk cache. Each model is written once per (name, generator
 * version, seed) under `cacheDir('zoo')` (or a given directory) as `<name>-g<version>-s<seed>.tflite` next to
 * a sidecar `<…>.json` that records its SHA-256, size, params and MACs. A cache hit is re-hashed before it is
 * returned, so a truncated or corrupted file (or sidecar) is detected and regenerated, never handed out.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  cacheDir as defaultCacheDir,
  expected,
  InvalidArgumentError,
  noProgress,
  type ProgressListener,
  writeFileAtomic,
} from '@swapless/core';
import { analyzeModel, writeModel } from '@swapless/tflite';
import { assertZooModelName, buildZooModel } from './build.js';
import { ZOO_MODEL_NAMES, type ZooModelName } from './registry.js';

/**
 * Version of the generator's output. Bump it whenever a change to the zoo, the builder or the writer changes
 * the bytes generated for a (name, seed): cached files of other versions are then simply not used.
 */
export const ZOO_GENERATOR_VERSION = 1;

/** Options of {@link generateZooModel} and {@link generateZoo}. */
export interface GenerateZooOptions {
  /** Weight seed. Default 0. */
  seed?: number;
  /** Directory of the cache. Default `cacheDir('zoo')` from @swapless/core (honours SWAPLESS_CACHE_DIR). */
  cacheDir?: string;
  /** Progress events: phase 'generate', done/total, label = model name. Default: none. */
  onProgress?: ProgressListener;
}

/** A generated (or cached) zoo model file. */
export interface GeneratedZooModel {
  /** Registry name. */
  name: ZooModelName;
  /** Absolute path of the .tflite file. */
  path: string;
  /** Size of the file in bytes. */
  bytes: number;
  /** Constant elements (analyzeModel totals.params). */
  params: number;
  /** Multiply-accumulates of one inference (analyzeModel totals.macs). */
  macs: number;
  /** SHA-256 of the file, lowercase hex. */
  sha256: string;
  /** True when the file came from the cache (verified), false when it was generated now. */
  cached: boolean;
}

/** The sidecar written next to each cached model. */
interface Sidecar {
  name: string;
  generatorVersion: number;
  seed: number;
  sha256: string;
  size: number;
  params: number;
  macs: number;
}

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The cache file names of a model (without directory). */
export function zooCacheFileName(name: ZooModelName, seed = 0): string {
  return `${name}-g${ZOO_GENERATOR_VERSION}-s${seed}.tflite`;
}

/** Reads and verifies a cache entry; undefined when absent, unreadable, stale or corrupt. */
async function readCached(
  path: string,
  name: ZooModelName,
  seed: number,
): Promise<GeneratedZooModel | undefined> {
  let sidecar: Sidecar;
  let data: Buffer;
  try {
    sidecar = JSON.parse(await readFile(`${path}.json`, 'utf8')) as Sidecar;
    data = await readFile(path);
  } catch {
    return undefined;
  }
  if (
    typeof sidecar !== 'object' ||
    sidecar === null ||
    sidecar.name !== name ||
    sidecar.generatorVersion !== ZOO_GENERATOR_VERSION ||
    sidecar.seed !== seed ||
    sidecar.size !== data.byteLength ||
    typeof sidecar.params !== 'number' ||
    typeof sidecar.macs !== 'number'
  ) {
    return undefined;
  }
  const sha256 = sha256Hex(data);
  if (sha256 !== sidecar.sha256) return undefined;
  return {
    name,
    path,
    bytes: data.byteLength,
    params: sidecar.params,
    macs: sidecar.macs,
    sha256,
    cached: true,
  };
}

function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new InvalidArgumentError(expected('a non-negative safe integer', 'zoo seed', seed));
  }
  return seed;
}

async function generateOne(name: ZooModelName, seed: number, dir: string): Promise<GeneratedZooModel> {
  const path = join(dir, zooCacheFileName(name, seed));
  const hit = await readCached(path, name, seed);
  if (hit !== undefined) return hit;
  const model = buildZooModel(name, { seed });
  const { totals } = analyzeModel(model);
  const data = writeModel(model);
  const sha256 = sha256Hex(data);
  // Model first, sidecar last: a sidecar only ever describes a complete model file.
  await writeFileAtomic(path, data);
  const sidecar: Sidecar = {
    name,
    generatorVersion: ZOO_GENERATOR_VERSION,
    seed,
    sha256,
    size: data.byteLength,
    params: totals.params,
    macs: totals.macs,
  };
  await writeFileAtomic(`${path}.json`, `${JSON.stringify(sidecar, null, 2)}\n`);
  return {
    name,
    path,
    bytes: data.byteLength,
    params: totals.params,
    macs: totals.macs,
    sha256,
    cached: false,
  };
}

/**
 * Generates one zoo model file, or returns the verified cached one. Emits `{ phase: 'generate', done: 0,
 * total: 1, label: name }` before and `done: 1` after. Throws InvalidArgumentError for an unknown name or a
 * bad seed, SwapLessIoError (`SWAPLESS_IO`) when the cache directory cannot be written.
 */
export async function generateZooModel(
  name: ZooModelName,
  options: GenerateZooOptions = {},
): Promise<GeneratedZooModel> {
  const [result] = await generateZoo([name], options);
  return result!;
}

/**
 * Generates several zoo models (default: all twelve, in registry order), one after the other, reusing
 * verified cache entries. Progress: `{ phase: 'generate', done: i, total, label: name }` before model i and
 * `{ done: total }` at the end. Validates every name before generating anything.
 */
export async function generateZoo(
  names: readonly ZooModelName[] = ZOO_MODEL_NAMES,
  options: GenerateZooOptions = {},
): Promise<GeneratedZooModel[]> {
  if (!Array.isArray(names))
    throw new InvalidArgumentError(expected('an array of model names', 'zoo models', names));
  for (const n of names) assertZooModelName(n);
  const seed = checkSeed(options.seed ?? 0);
  const given = options.cacheDir ?? defaultCacheDir('zoo');
  if (typeof given !== 'string' || given.length === 0) {
    throw new InvalidArgumentError(expected('a non-empty path', 'zoo cache directory', given));
  }
  const dir = resolve(given);
  const onProgress = options.onProgress ?? noProgress;
  const total = names.length;
  const results: GeneratedZooModel[] = [];
  for (const [i, name] of names.entries()) {
    onProgress({ phase: 'generate', done: i, total, label: name });
    results.push(await generateOne(name, seed, dir));
  }
  onProgress({ phase: 'generate', done: total, total, ...(total > 0 ? { label: names[total - 1]! } : {}) });
  return results;
}
