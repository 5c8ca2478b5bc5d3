/**
 * `profileModel`: split a model at the chosen cuts and time every prefix and suffix on the real TFLite CPU
 * runtime (XNNPACK) at every thread count, or load the same profile from the cache.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { basename, extname } from 'node:path';
import {
  cacheDir as defaultCacheDir,
  expected,
  InvalidArgumentError,
  isSwapLessError,
  modelBytes,
  noProgress,
  type ProgressListener,
  positiveInt,
  SeededRandom,
} from '@swapless/core';
import { MAX_THREADS, runtimeInfo } from '@swapless/edgetpu';
import {
  analyzeModel,
  type CutPoint,
  cutPoints,
  INT8_REWRITE_VERSION,
  readModel,
  splitModel,
  type TfliteModel,
  writeModel,
} from '@swapless/tflite';
import { type CacheKey, cacheFile, hostIdentity, readCache } from './cache.js';
import { type CutSelection, DEFAULT_MAX_CUTS, selectCuts } from './cuts.js';
import { defaultInterpreterFactory, type InterpreterFactory, timePart } from './measure.js';
import { saveProfile, validateProfile } from './schema.js';
import { summarize } from './stats.js';
import {
  type CutProfile,
  type PartName,
  type PartProfile,
  PROFILE_KIND,
  PROFILE_SCHEMA_VERSION,
  PROFILE_TIMER,
  type Profile,
  type ProfileResult,
  type ProfileSettings,
  type RuntimeIdentity,
} from './types.js';

/** Default untimed invokes per interpreter: the first packs weights, the next ones settle caches. */
export const DEFAULT_WARMUP = 3;

/** Default timed invokes per (part, thread count): enough for a median and a p10–p90 spread. */
export const DEFAULT_REPETITIONS = 20;

/** Default timed invokes in a row per thread count before the next thread count's turn. */
export const DEFAULT_BLOCK_SIZE = 5;

/** Options of {@link profileModel}. */
export interface ProfileOptions {
  /**
   * `'auto'` (default): cheap cuts inside the Edge-TPU-mappable prefix, always with 0 and the end of that
   * prefix, at most {@link maxCuts}; only cut 0 when nothing maps (a CPU-only model).
   * `'all'`: every cut 0..n. An array: exactly those cuts (`InvalidCutError` outside 0..n).
   */
  cuts?: CutSelection;
  /** Cap on the number of cuts `'auto'` picks, ends included; ≥ 2. Default 12. */
  maxCuts?: number;
  /** Thread counts to profile (each 1..256). Default 1..`os.availableParallelism()`. */
  threads?: readonly number[];
  /** Untimed invokes per interpreter before timing, ≥ 0. Default 3. */
  warmup?: number;
  /** Timed invokes per (part, thread count), ≥ 1. Default 20. */
  repetitions?: number;
  /**
   * Timed invokes in a row per thread count before switching to the next (each block starts with one
   * untimed lead-in invoke), ≥ 1. Default 5. See docs/profiler.md, "Interleaving".
   */
  blockSize?: number;
  /** Seed of the input data (integer). Default 0. */
  seed?: number;
  /** A name recorded in the profile (default: the file's base name when `model` is a path). */
  name?: string;
  /** Use the profile cache. Default true. */
  cache?: boolean;
  /** Where the cache lives. Default `cacheDir('profiles')` from @swapless/core. */
  cacheDir?: string;
  /** Measure even when a cached profile exists, then overwrite it. Default false. */
  refresh?: boolean;
  /** Progress events: phase `profile`, one unit per (part, thread count). */
  onProgress?: ProgressListener;
  /**
   * Creates the interpreters (default: `createInterpreter` with XNNPACK, `delegate: 'cpu'`). For tests and
   * instrumentation; a replacement must time the same runtime configuration or the profile lies.
   */
  createInterpreter?: InterpreterFactory;
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'cuts',
  'maxCuts',
  'threads',
  'warmup',
  'repetitions',
  'blockSize',
  'seed',
  'name',
  'cache',
  'cacheDir',
  'refresh',
  'onProgress',
  'createInterpreter',
]);

interface Normalised {
  cuts: unknown;
  maxCuts: number;
  threads: number[];
  warmup: number;
  repetitions: number;
  blockSize: number;
  seed: number;
  name: string | undefined;
  cache: boolean;
  cacheDir: string;
  refresh: boolean;
  onProgress: ProgressListener;
  factory: InterpreterFactory;
}

function booleanOption(value: unknown, forWhat: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(expected('a boolean', forWhat, value));
  return value;
}

/** Validates every option before anything is read or measured, so a typo never costs a profiling run. */
function normalise(options: unknown): Normalised {
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) {
    throw new InvalidArgumentError(expected('an options object', 'options', options));
  }
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.has(key)) {
      throw new InvalidArgumentError(expected([...OPTION_KEYS].join(', '), 'the option names', key));
    }
  }
  const threadsIn = o.threads ?? Array.from({ length: Math.max(1, availableParallelism()) }, (_, i) => i + 1);
  if (!Array.isArray(threadsIn) || threadsIn.length === 0) {
    throw new InvalidArgumentError(
      expected('a non-empty array of thread counts', 'options.threads', threadsIn),
    );
  }
  for (const t of threadsIn) {
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > MAX_THREADS) {
      throw new InvalidArgumentError(expected(`integers in [1, ${MAX_THREADS}]`, 'options.threads', t));
    }
  }
  const name = o.name;
  if (name !== undefined && typeof name !== 'string') {
    throw new InvalidArgumentError(expected('a string', 'options.name', name));
  }
  const dir = o.cacheDir ?? defaultCacheDir('profiles');
  if (typeof dir !== 'string' || dir === '') {
    throw new InvalidArgumentError(expected('a non-empty path string', 'options.cacheDir', dir));
  }
  const onProgress = o.onProgress ?? noProgress;
  const factory = o.createInterpreter ?? defaultInterpreterFactory;
  if (typeof onProgress !== 'function') {
    throw new InvalidArgumentError(expected('a function', 'options.onProgress', onProgress));
  }
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError(expected('a function', 'options.createInterpreter', factory));
  }
  const seed = o.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new InvalidArgumentError(expected('a safe integer', 'options.seed', seed));
  }
  return {
    cuts: o.cuts ?? 'auto',
    maxCuts: positiveInt(o.maxCuts ?? DEFAULT_MAX_CUTS, 'options.maxCuts', 2),
    threads: [...new Set(threadsIn as number[])].sort((a, b) => a - b),
    warmup: positiveInt(o.warmup ?? DEFAULT_WARMUP, 'options.warmup', 0),
    repetitions: positiveInt(o.repetitions ?? DEFAULT_REPETITIONS, 'options.repetitions', 1),
    blockSize: positiveInt(o.blockSize ?? DEFAULT_BLOCK_SIZE, 'options.blockSize', 1),
    seed,
    name,
    cache: booleanOption(o.cache ?? true, 'options.cache'),
    cacheDir: dir,
    refresh: booleanOption(o.refresh ?? false, 'options.refresh'),
    onProgress: onProgress as ProgressListener,
    factory: factory as InterpreterFactory,
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function asResult(
  profile: Profile,
  cached: boolean,
  cachePath: string | null,
  warnings: string[],
): ProfileResult {
  Object.defineProperties(profile, {
    cached: { value: cached, enumerable: false },
    cachePath: { value: cachePath, enumerable: false },
    warnings: { value: Object.freeze([...warnings]), enumerable: false },
  });
  return deepFreeze(profile) as ProfileResult;
}

/** The order cuts are visited in: a seeded shuffle, so drift in machine load over a long run becomes noise
 * spread over all cuts instead of a trend along k that would fake (or hide) a monotonicity violation. */
function visitOrder(cuts: readonly number[], seed: number): number[] {
  const order = [...cuts];
  const rng = new SeededRandom(seed ^ 0x9e3779b9);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * Profiles the CPU service time of a model's parts: for every selected cut k, the suffix [k,n) and the prefix
 * [0,k) (split with `splitModel` + `writeModel`) are each run on the real TFLite runtime with XNNPACK at every
 * thread count, exactly as `createInterpreter` runs them by default (uint8 parts as their int8 rewrite; a part
 * XNNPACK cannot prepare on reference kernels, recorded in the part's `kernels`): `warmup` untimed invokes, then `repetitions` timed ones in blocks interleaved across thread
 * counts (docs/profiler.md, "Interleaving"); cuts are visited in a seeded shuffled order.
 * The empty side of k = 0 and k = n is null; the whole model (suffix of 0, prefix of n) is measured once, on the
 * bytes given (what the runtime serves there), so even a model that cannot be split (several subgraphs) has its
 * cut 0.
 *
 * With the cache on (default), a profile measured under the same key (model SHA-256, runtime: TFLite version,
 * uint8 policy and int8 rewrite version, host identity, cut selection and cuts, threads, warm-up, repetitions, block size, seed) is loaded instead (`cached: true`); a corrupt, invalid
 * or mismatching cache file is ignored (a warning says why), re-measured and overwritten atomically. A cache
 * that cannot be written adds a warning; the profile is still returned.
 *
 * Errors: `InvalidArgumentError` for bad options, `InvalidCutError` for cuts outside 0..n,
 * `UnsupportedModelError` for a model the splitter refuses, `InvalidModelError` / `SwapLessIoError` for unreadable models, `NativeLoadError` when
 * the runtime cannot be loaded. The library never prints; progress goes to `options.onProgress`.
 */
export async function profileModel(
  model: Uint8Array | string,
  options: ProfileOptions = {},
): Promise<ProfileResult> {
  const o = normalise(options);
  const bytes = await modelBytes(model);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const parsed = readModel(bytes);
  const analysis = analyzeModel(parsed);
  const points = cutPoints(parsed);
  const n = analysis.n;
  const cuts = selectCuts(o.cuts, points, analysis, o.maxCuts);
  const name = o.name ?? (typeof model === 'string' ? basename(model, extname(model)) : undefined);

  const selection = o.cuts === 'auto' ? 'auto' : o.cuts === 'all' ? 'all' : 'list';
  const runtime: RuntimeIdentity = {
    tfliteVersion: runtimeInfo().tfliteVersion,
    xnnpack: true,
    uint8: 'int8',
    int8Rewrite: INT8_REWRITE_VERSION,
  };
  const host = hostIdentity();
  const key: CacheKey = {
    schemaVersion: PROFILE_SCHEMA_VERSION,
    modelSha256: sha256,
    runtime,
    host,
    selection,
    ...(selection === 'auto' ? { maxCuts: o.maxCuts } : {}),
    cuts,
    threads: o.threads,
    warmup: o.warmup,
    repetitions: o.repetitions,
    blockSize: o.blockSize,
    seed: o.seed,
  };
  const path = o.cache ? cacheFile(o.cacheDir, key) : null;
  const warnings: string[] = [];

  // Units of work: one per distinct part and thread count (the whole model counts once).
  const ranges = new Set<string>();
  for (const k of cuts) {
    if (k > 0) ranges.add(`0-${k}`);
    if (k < n) ranges.add(`${k}-${n}`);
  }
  const total = ranges.size * o.threads.length;

  if (path !== null && !o.refresh) {
    const lookup = await readCache(path, key);
    if (lookup.status === 'hit') {
      o.onProgress({ phase: 'profile', done: total, total, label: 'loaded from cache' });
      return asResult(lookup.profile, true, path, warnings);
    }
    if (lookup.status === 'ignored') warnings.push(`Ignored the cached profile ${path}: ${lookup.reason}`);
  }

  const started = process.hrtime.bigint();
  const parts = await measureParts(parsed, bytes, cuts, n, o, total);

  const settings: ProfileSettings = {
    cuts: selection,
    ...(selection === 'auto' ? { maxCuts: o.maxCuts } : {}),
    threads: o.threads,
    warmup: o.warmup,
    repetitions: o.repetitions,
    blockSize: o.blockSize,
    seed: o.seed,
    timer: PROFILE_TIMER,
  };
  const cutProfiles = cutProfilesOf(cuts, points, parts, n);
  const profile: Profile = {
    schemaVersion: PROFILE_SCHEMA_VERSION,
    kind: PROFILE_KIND,
    createdAt: new Date().toISOString(),
    durationMs: Number(process.hrtime.bigint() - started) / 1e6,
    model: {
      sha256,
      bytes: bytes.byteLength,
      n,
      edgetpuPrefix: analysis.edgetpuPrefix.length,
      ...(name !== undefined ? { name } : {}),
    },
    runtime,
    host,
    settings,
    cuts: cutProfiles,
  };
  // A measurement that produced something the schema refuses is a bug here: fail loudly, never cache it.
  validateProfile(profile, 'the measured profile');

  let cachePath = path;
  if (path !== null) {
    try {
      await saveProfile(path, profile);
    } catch (error) {
      if (!isSwapLessError(error)) throw error;
      cachePath = null;
      warnings.push(`Could not write the profile cache: ${error.message}`);
    }
  }
  return asResult(profile, false, cachePath, warnings);
}

/**
 * Measures every distinct part of the cuts (prefix [0, k), suffix [k, n); the whole model once) at every thread
 * count, visiting the cuts in seeded order; `total` is the number of (part, thread count) units, for progress.
 */
async function measureParts(
  parsed: TfliteModel,
  bytes: Uint8Array,
  cuts: readonly number[],
  n: number,
  o: Normalised,
  total: number,
): Promise<Map<string, PartProfile>> {
  let done = 0;
  o.onProgress({ phase: 'profile', done, total });
  const parts = new Map<string, PartProfile>();
  const order = visitOrder(cuts, o.seed);
  for (const [visit, k] of order.entries()) {
    const split = splitModel(parsed, k);
    // Alternate which side goes first so neither is always timed right after the other.
    const sides: PartName[] = visit % 2 === 0 ? ['suffix', 'prefix'] : ['prefix', 'suffix'];
    for (const side of sides) {
      const part = side === 'prefix' ? split.head : split.tail;
      if (part === null) continue;
      const range: [number, number] = side === 'prefix' ? [0, k] : [k, n];
      const rangeKey = `${range[0]}-${range[1]}`;
      if (parts.has(rangeKey)) continue;
      // The whole model (the suffix of 0, the prefix of n) is the model itself: measured on the bytes given, the
      // bytes the runtime serves at those cuts, never on a rewrite.
      const partBytes = part === parsed ? bytes : writeModel(part);
      const timed = await timePart({
        bytes: partBytes,
        threads: o.threads,
        warmup: o.warmup,
        repetitions: o.repetitions,
        blockSize: o.blockSize,
        seed: o.seed,
        factory: o.factory,
        onThreadsDone: (t) => {
          done += 1;
          o.onProgress({
            phase: 'profile',
            done,
            total,
            label: `k=${k} ${side}, ${t} thread${t === 1 ? '' : 's'}`,
          });
        },
      });
      parts.set(rangeKey, {
        ops: range,
        bytes: partBytes.byteLength,
        kernels: timed.kernels,
        int8: timed.int8,
        measurements: o.threads.map((t, i) => summarize(t, timed.samples[i]!)),
      });
    }
  }
  return parts;
}

/** One profile entry per cut, with the facts of its cut point and its own copy of the measured parts. */
function cutProfilesOf(
  cuts: readonly number[],
  points: readonly CutPoint[],
  parts: ReadonlyMap<string, PartProfile>,
  n: number,
): CutProfile[] {
  return cuts.map((k) => {
    const point = points[k]!;
    // Each cut gets its own copy so the document has no shared subtrees (k = 0 and k = n share the data).
    const copy = (key: string): PartProfile => structuredClone(parts.get(key)!);
    return {
      k,
      edgetpuMappable: point.edgetpuMappable,
      boundaryTensors: point.boundary.length,
      boundaryBytes: point.bytes,
      transferBytes: point.transferBytes,
      prefixMacs: point.prefixMacs,
      suffixMacs: point.suffixMacs,
      prefix: k > 0 ? copy(`0-${k}`) : null,
      suffix: k < n ? copy(`${k}-${n}`) : null,
    };
  });
}
